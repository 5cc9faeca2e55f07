"""End-to-end fixtures: `viewfinder serve` as a real process tree, spoken to over HTTP."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from entrypoints.config import Config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class Server:
    """A `viewfinder serve` process with its own data directory (or database) and port."""

    def __init__(self, config: Config, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "VIEWFINDER_DATA_DIR": str(config.data_dir), "VIEWFINDER_PORT": str(self.port),
                    "VIEWFINDER_API_WORKERS": "2", "VIEWFINDER_ENGINE_POLL_INTERVAL": "0.005"}
        if config.database_url:
            self.env["VIEWFINDER_DATABASE_URL"] = config.database_url
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> "Server":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "serve"], env=self.env,
                                        stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).parents[2])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/api/health", timeout=2).status_code == 200:
                    return self
            except (requests.ConnectionError, requests.Timeout):  # workers still booting
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"viewfinder serve did not become healthy; log:\n{self.log_path.read_text()[-3000:]}")

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 20) -> None:
        """Signal the supervisor; wait until it is gone and its children released the port."""
        assert self.process is not None
        self.process.send_signal(sig)
        self.process.wait(timeout=timeout)
        deadline = time.monotonic() + timeout
        while not port_is_free(self.port):
            if time.monotonic() > deadline:
                raise RuntimeError("the API port is still held after the supervisor died")
            time.sleep(0.1)


@pytest.fixture
def server(config: Config, tmp_path: Path) -> Iterator[Server]:
    server = Server(config, tmp_path / "serve.log").start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.kill(signal.SIGTERM)
