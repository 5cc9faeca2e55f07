"""GET /api/projects (100 projects) under gunicorn versus a bare Falcon endpoint; POST-then-visible latency.

Run: .venv/bin/python -m benchmarks.api_bench
"""

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

DURATION_S = 8
CONNECTIONS = 16
WORKERS = "2"
THREADS = "8"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} never answered")


def _load(url: str) -> float:
    """Requests per second: wrk when installed, else a Python thread pool (weaker client)."""
    if shutil.which("wrk"):
        out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION_S}s", url],
                             capture_output=True, text=True, check=True).stdout
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    session_count, done = CONNECTIONS, 0
    deadline = time.monotonic() + DURATION_S

    def worker(_: int) -> int:
        session, n = requests.Session(), 0
        while time.monotonic() < deadline:
            session.get(url, timeout=10).raise_for_status()
            n += 1
        return n

    with ThreadPoolExecutor(session_count) as pool:
        done = sum(pool.map(worker, range(session_count)))
    return done / DURATION_S


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="vf-bench-"))
    port, bare_port = _free_port(), _free_port()
    env = {**os.environ, "VIEWFINDER_DATA_DIR": str(workdir / "data"), "VIEWFINDER_PORT": str(port),
           "VIEWFINDER_API_WORKERS": WORKERS, "VIEWFINDER_API_THREADS": THREADS}
    serve = subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "serve"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bare = None
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(f"{base}/api/health")
        session = requests.Session()
        visible_ms = []
        for i in range(100):
            start = time.perf_counter()
            created = session.post(f"{base}/api/projects", json={"name": f"Project {i}", "task": {
                "task_type": "detection", "labels": [{"name": "nut"}, {"name": "bolt"}]}}, timeout=10)
            assert created.status_code == 201, created.text
            assert session.get(f"{base}/api/projects/{created.json()['id']}", timeout=10).status_code == 200
            visible_ms.append((time.perf_counter() - start) * 1000)
        document = session.get(f"{base}/api/projects", timeout=10).json()
        assert len(document) == 100
        doc_path = workdir / "projects.json"
        doc_path.write_text(json.dumps(document))
        bare = subprocess.Popen([sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", WORKERS,
                                 "--threads", THREADS, "-b", f"127.0.0.1:{bare_port}",
                                 "benchmarks.bare_falcon:create()"],
                                env={**os.environ, "BARE_FALCON_DOCUMENT": str(doc_path)},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_healthy(f"http://127.0.0.1:{bare_port}/api/projects")
        bare_rps = _load(f"http://127.0.0.1:{bare_port}/api/projects")
        viewfinder_rps = _load(f"{base}/api/projects")
        print(f"client: {'wrk' if shutil.which('wrk') else 'python threads'}, {CONNECTIONS} connections, "
              f"{DURATION_S} s; gunicorn gthread {WORKERS} workers x {THREADS} threads; embedded SQLite")
        print(f"GET /api/projects (100 projects): viewfinder {viewfinder_rps:.0f} req/s, "
              f"bare falcon {bare_rps:.0f} req/s, ratio {viewfinder_rps / bare_rps:.2f}")
        print(f"POST-then-visible (POST /api/projects + GET it), 100 samples: "
              f"p50 {_percentile(visible_ms, 50):.1f} ms, p95 {_percentile(visible_ms, 95):.1f} ms")
    finally:
        for process in (serve, bare):
            if process is not None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=20)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
