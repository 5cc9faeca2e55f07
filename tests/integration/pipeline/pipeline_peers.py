"""Real local peers for the pipeline edge tests: generated videos, MJPEG and RTSP servers."""

from __future__ import annotations

import http.server
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np


def numbered_image(index: int, width: int = 160, height: int = 120) -> Any:
    """A frame whose grey level encodes its index (survives lossy codecs within ±8)."""
    return np.full((height, width, 3), (index * 16) % 240 + 8, np.uint8)


def index_of(image: Any) -> int:
    """The index (mod 15) encoded by numbered_image."""
    return int(round((float(image.mean()) - 8) / 16)) % 15


def write_video(path: Path, frames: int, fourcc: str = "mp4v", fps: float = 25.0) -> Path:
    """Write a small video whose frames count up through numbered_image."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, (160, 120))
    assert writer.isOpened(), f"OpenCV cannot write {fourcc} here"
    for index in range(frames):
        writer.write(numbered_image(index))
    writer.release()
    return path


def jpeg(index: int) -> bytes:
    """A JPEG of numbered_image(index)."""
    return bytes(cv2.imencode(".jpg", numbered_image(index, 320, 240))[1])


class _Server:
    """A TCP server on a fixed port that can be stopped and started again."""

    def __init__(self, fps: float = 30.0) -> None:
        self.interval = 1.0 / fps
        self.port = _free_port()
        self._acceptor: threading.Thread | None = None
        self._stop = threading.Event()
        self._connections: set[socket.socket] = set()

    def start(self) -> None:
        self._stop = threading.Event()
        listener = socket.create_server(("127.0.0.1", self.port), reuse_port=True)
        listener.settimeout(0.05)
        self._acceptor = threading.Thread(target=self._accept, args=(listener, self._stop))
        self._acceptor.start()

    def stop(self) -> None:
        self._stop.set()
        if self._acceptor is not None:
            self._acceptor.join()
        for connection in list(self._connections):  # as if the peer crashed
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _accept(self, listener: socket.socket, stop: threading.Event) -> None:
        with listener:  # closed by this thread, so its descriptor is never reused under it
            while not stop.is_set():
                try:
                    connection, _ = listener.accept()
                except TimeoutError:
                    continue
                connection.settimeout(None)
                threading.Thread(
                    target=self._serve_safely, args=(connection, stop), daemon=True
                ).start()

    def _serve_safely(self, connection: socket.socket, stop: threading.Event) -> None:
        self._connections.add(connection)
        try:
            self.serve(connection, stop)
        except (OSError, ValueError):
            pass
        finally:
            self._connections.discard(connection)
            connection.close()

    def serve(self, connection: socket.socket, stop: threading.Event) -> None:
        raise NotImplementedError

    def __enter__(self) -> _Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _read_request(reader: Any) -> tuple[str, str, dict[str, str]] | None:
    lines = []
    while True:
        line = reader.readline()
        if not line:
            return None
        line = line.decode().rstrip("\r\n")
        if not line:
            break
        lines.append(line)
    method, target, _ = lines[0].split(" ")
    headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:])}
    return method, target, headers


class MjpegServer(_Server):
    """An HTTP camera: multipart/x-mixed-replace JPEGs; records the Authorization headers."""

    def __init__(self, fps: float = 30.0, basic_auth: str | None = None) -> None:
        super().__init__(fps)
        self.basic_auth = basic_auth
        self.authorizations: list[str | None] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video.mjpg"

    def serve(self, connection: socket.socket, stop: threading.Event) -> None:
        request = _read_request(connection.makefile("rb"))
        if request is None:
            return
        authorization = request[2].get("authorization")
        self.authorizations.append(authorization)
        if self.basic_auth and authorization != f"Basic {self.basic_auth}":
            connection.sendall(
                b'HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm="cam"\r\n'
                b"Content-Length: 0\r\n\r\n"
            )
            return
        connection.sendall(
            b"HTTP/1.0 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=frame\r\n\r\n"
        )
        index = 0
        while not stop.is_set():
            body = jpeg(index)
            part = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(body)
            connection.sendall(part + body + b"\r\n")
            index += 1
            time.sleep(self.interval)


def _jpeg_scan(data: bytes) -> tuple[int, int, bytes, bytes]:
    """Width, height, the two quantisation tables and the entropy-coded scan of a JPEG."""
    position, tables, width, height = 2, {}, 0, 0
    while True:
        marker = data[position + 1]
        length = struct.unpack(">H", data[position + 2 : position + 4])[0]
        segment = data[position + 4 : position + 2 + length]
        if marker == 0xDB:
            for start in range(0, len(segment), 65):
                tables[segment[start] & 15] = segment[start + 1 : start + 65]
        elif marker == 0xC0:
            height, width = struct.unpack(">HH", segment[1:5])
        elif marker == 0xDA:
            scan = data[position + 2 + length :].removesuffix(b"\xff\xd9")
            return width, height, tables[0] + tables[1], scan
        position += 2 + length


def rtp_jpeg_packets(data: bytes, sequence: int, timestamp: int) -> list[bytes]:
    """RFC 2435 RTP/JPEG packets (type 1 = 4:2:0, Q 255 with in-band tables)."""
    width, height, tables, scan = _jpeg_scan(data)
    packets, offset = [], 0
    while offset < len(scan):
        header = struct.pack(">I", offset) + bytes([1, 255, width // 8, height // 8])
        if offset == 0:
            header += struct.pack(">BBH", 0, 0, len(tables)) + tables
        chunk = scan[offset : offset + 1400]
        offset += len(chunk)
        marker = 0x80 if offset >= len(scan) else 0
        rtp = struct.pack(">BBHII", 0x80, marker | 26, (sequence + len(packets)) & 0xFFFF,
                          timestamp & 0xFFFFFFFF, 0x5EED)  # fmt: skip
        packets.append(rtp + header + chunk)
    return packets


class RtspServer(_Server):
    """An RTSP camera streaming RTP/JPEG interleaved over the TCP connection."""

    SDP = ("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=Viewfinder test\r\nc=IN IP4 127.0.0.1\r\n"
           "t=0 0\r\nm=video 0 RTP/AVP 26\r\na=control:track1\r\n")  # fmt: skip

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/stream"

    def serve(self, connection: socket.socket, stop: threading.Event) -> None:
        reader = connection.makefile("rb")
        while (request := _read_request(reader)) is not None:
            method, target, headers = request
            status, extra, body = "200 OK", "", ""
            if method == "OPTIONS":
                extra = "Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN\r\n"
            elif method == "DESCRIBE":
                extra = f"Content-Base: {target}/\r\nContent-Type: application/sdp\r\n"
                body = self.SDP
            elif method == "SETUP" and "TCP" not in headers.get("transport", ""):
                status = "461 Unsupported Transport"
            elif method == "SETUP":
                extra = "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: 1\r\n"
            reply = f"RTSP/1.0 {status}\r\nCSeq: {headers.get('cseq', '0')}\r\n{extra}"
            connection.sendall(f"{reply}Content-Length: {len(body)}\r\n\r\n{body}".encode())
            if method == "PLAY":
                self._stream(connection, stop)
                return

    def _stream(self, connection: socket.socket, stop: threading.Event) -> None:
        index, sequence = 0, 0
        while not stop.is_set():
            for packet in rtp_jpeg_packets(jpeg(index), sequence, index * 3000):
                connection.sendall(b"$\x00" + struct.pack(">H", len(packet)) + packet)
                sequence += 1
            index += 1
            time.sleep(self.interval)


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler that does not log to stderr."""

    def log_message(self, *args: Any) -> None:
        pass


def sample_frame(sequence: int = 7, timestamp: float = 1_700_000_000.25) -> Any:
    """A 320x240 frame with a numbered image."""
    from application.ports.frames import Frame

    return Frame(sequence, timestamp, numbered_image(3, 320, 240), 320, 240)


def sample_prediction(frame: Any) -> dict[str, Any]:
    """A detection prediction in the API shape."""
    return {
        "model_id": "5d0c2f0e-0000-4000-8000-000000000001",
        "frame": frame.metadata(),
        "predictions": [
            {
                "labels": [{"id": "a1", "name": "bolt", "confidence": 0.91}],
                "shape": {"type": "rectangle", "x": 20, "y": 30, "width": 100, "height": 80},
            }
        ],
    }


class WebhookServer:
    """A local HTTP endpoint answering from a script: a status code, or 'slow' to time out."""

    def __init__(self, script: list[int | str] | None = None, slow_s: float = 1.0) -> None:
        self.script = list(script or [])
        self.slow_s = slow_s
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        server = self

        class Handler(QuietHandler):
            def _handle(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.requests.append((self.command, dict(self.headers), body))
                step = server.script.pop(0) if server.script else 200
                if step == "slow":
                    time.sleep(server.slow_s)
                    step = 200
                self.send_response(int(step))
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = do_PATCH = _handle

        self.http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hook"

    def __enter__(self) -> WebhookServer:
        threading.Thread(target=self.http.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.shutdown()
        self.http.server_close()


class PrivateBroker:
    """A Mosquitto of our own on a free port, to stop, restart and protect with a password."""

    def __init__(self, workdir: Path, users: dict[str, str] | None = None) -> None:
        import subprocess

        self.port = _free_port()
        self.workdir = workdir
        # As root, Mosquitto would switch to its own user, who cannot read pytest's tmp_path.
        lines = [f"listener {self.port} 127.0.0.1", "persistence false", "user root"]
        if users:
            password_file = workdir / "passwords"
            password_file.touch()
            for user, password in users.items():
                subprocess.run(["mosquitto_passwd", "-b", str(password_file), user, password],
                               check=True, capture_output=True)  # fmt: skip
            lines += ["allow_anonymous false", f"password_file {password_file}"]
        else:
            lines.append("allow_anonymous true")
        self.config = workdir / "mosquitto.conf"
        self.config.write_text("\n".join(lines) + "\n")
        self.process: Any = None

    def start(self) -> None:
        import subprocess

        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(self.config)], stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("the private Mosquitto did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(5)
            self.process = None


class RosbridgeServer(_Server):
    """Speaks enough of the rosbridge v2 protocol over WebSocket to record what clients send."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[dict[str, Any]] = []

    def serve(self, connection: socket.socket, stop: threading.Event) -> None:
        import base64
        import hashlib
        import json

        reader = connection.makefile("rb")
        request = _read_request(reader)
        if request is None:
            return
        key = request[2]["sec-websocket-key"]
        accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        connection.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
        )
        text = b""
        while (frame := _read_ws_frame(reader)) is not None:
            fin, opcode, payload = frame
            if opcode == 8:
                connection.sendall(b"\x88\x00")
                return
            if opcode == 9:
                connection.sendall(bytes([0x8A, len(payload)]) + payload)
            elif opcode in (0, 1):
                text += payload
                if fin:
                    self.messages.append(json.loads(text))
                    text = b""

    def ops(self, op: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("op") == op]


def _read_ws_frame(reader: Any) -> tuple[bool, int, bytes] | None:
    """One client frame (masked, per RFC 6455), or None at the end of the stream."""
    head = reader.read(2)
    if len(head) < 2:
        return None
    length = head[1] & 0x7F
    if length == 126:
        length = struct.unpack(">H", reader.read(2))[0]
    elif length == 127:
        length = struct.unpack(">Q", reader.read(8))[0]
    mask = reader.read(4) if head[1] & 0x80 else b"\0\0\0\0"
    payload = reader.read(length)
    unmasked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return bool(head[0] & 0x80), head[0] & 0x0F, unmasked
