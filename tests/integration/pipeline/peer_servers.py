"""A restartable local TCP server, the base of the camera and sink peers."""

from __future__ import annotations

import http.server
import socket
import threading
from typing import Any


class TcpPeer:
    """A TCP server on a fixed port that can be stopped and started again."""

    def __init__(self, fps: float = 30.0) -> None:
        self.interval = 1.0 / fps
        self.port = free_port()
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

    def __enter__(self) -> TcpPeer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def read_request(reader: Any) -> tuple[str, str, dict[str, str]] | None:
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


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """A request handler that does not log to stderr."""

    def log_message(self, *args: Any) -> None:
        pass
