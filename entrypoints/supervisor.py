"""`viewfinder serve`: runs the API (gunicorn), the engine (and with Redis a worker) as children,
and takes them down with it.

Children get PR_SET_PDEATHSIG, so even a SIGKILL of the supervisor leaves no orphan holding the port.
"""

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from types import FrameType

log = logging.getLogger("viewfinder.serve")
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _spawn(command: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "entrypoints.cli", command], preexec_fn=_die_with_parent)


def supervise() -> int:
    """Start engine and API; when either exits, or on SIGTERM/SIGINT, stop both."""
    roles = ["engine", "api"] + (["worker"] if os.environ.get("VIEWFINDER_REDIS_URL") else [])
    children = [_spawn(role) for role in roles]
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + 10
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    codes = [child.returncode for child in children]
    log.info("stopped (exit codes %s)", codes)
    return 0 if stopping else 1
