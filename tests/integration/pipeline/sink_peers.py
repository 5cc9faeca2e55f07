"""Sink peers: sample frames and predictions, a webhook endpoint, brokers, a rosbridge server."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from camera_peers import numbered_image
from peer_servers import QuietHandler, TcpPeer, free_port, read_request

from application.ports.frames import Frame


def sample_frame(sequence: int = 7, timestamp: float = 1_700_000_000.25) -> Frame:
    """A 320x240 frame with a numbered image."""
    return Frame(sequence, timestamp, numbered_image(3, 320, 240), 320, 240)


def sample_prediction(frame: Frame) -> dict[str, Any]:
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

        self.port = free_port()
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


class RosbridgeServer(TcpPeer):
    """Speaks enough of the rosbridge v2 protocol over WebSocket to record what clients send."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[dict[str, Any]] = []

    def serve(self, connection: socket.socket, stop: threading.Event) -> None:

        reader = connection.makefile("rb")
        request = read_request(reader)
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
