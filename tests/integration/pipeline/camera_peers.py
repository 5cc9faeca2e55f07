"""Camera peers: generated videos and images, a local HTTP MJPEG and an RTSP camera."""

from __future__ import annotations

import socket
import struct
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from peer_servers import TcpPeer, read_request


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


class MjpegServer(TcpPeer):
    """An HTTP camera: multipart/x-mixed-replace JPEGs; records the Authorization headers."""

    def __init__(self, fps: float = 30.0, basic_auth: str | None = None) -> None:
        super().__init__(fps)
        self.basic_auth = basic_auth
        self.authorizations: list[str | None] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video.mjpg"

    def serve(self, connection: socket.socket, stop: threading.Event) -> None:
        request = read_request(connection.makefile("rb"))
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


class RtspServer(TcpPeer):
    """An RTSP camera streaming RTP/JPEG interleaved over the TCP connection."""

    SDP = ("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=Viewfinder test\r\nc=IN IP4 127.0.0.1\r\n"
           "t=0 0\r\nm=video 0 RTP/AVP 26\r\na=control:track1\r\n")  # fmt: skip

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/stream"

    def serve(self, connection: socket.socket, stop: threading.Event) -> None:
        reader = connection.makefile("rb")
        while (request := read_request(reader)) is not None:
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
