"""Dataset benchmarks (issue 3): uploads, annotation writes, item listing, read-model rebuild.

Run: .venv/bin/python -m benchmarks.dataset_bench [--postgres] [--only uploads,annotations,listing,rebuild]
     [--rebuild-items 20000]

1. Uploads/s of 1280x720 JPEGs (generated with NumPy + OpenCV, each upload unique bytes) from 4 concurrent
   clients against a real `viewfinder serve`; baseline: the same client posting the same bytes to a bare
   Falcon endpoint (defined below) that only reads the body, under the same gunicorn settings.
   An in-process breakdown of the upload work (decode, thumbnail, sha256 + atomic write) follows.
2. Annotation writes/s from 8 concurrent clients (POST .../annotations, disjoint items per client) versus
   raw eventsourcing appends (an Application on the same persistence, one new aggregate with one event per
   save, from 8 threads) in the same run; then one client, one request at a time (the read-your-writes floor).
3. Item listing with 10,000 items (seeded through the application layer and projected by the running
   engine; the listing itself goes through HTTP): p50/p95 per page of 100, with and without
   with_annotations.
4. Rebuild of every read model (`container.projector.rebuild()`) from 100,000 dataset events (20,000 items x
   create, annotate, tag, subset, annotate) versus merely reading the same notifications from the
   notification log (`store.events_after` in batches of 500) in the same run.

The HTTP client is wrk with a Lua script (a Python thread client when wrk is missing). Every HTTP run also
reports the CPU used by the server's process tree, by the client and by the whole machine (other work may
share the cores: compare ratios, not absolute figures). With --postgres, fresh databases are created on
postgresql://postgres@127.0.0.1:5432 (one for the HTTP parts, one for the rebuild) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

WORKERS = "2"
THREADS = "8"
UPLOAD_CLIENTS = 4
UPLOAD_SECONDS = 15
ANNOTATE_CLIENTS = 8
ANNOTATE_SECONDS = 10
ANNOTATE_ITEMS = 800
RAW_SECONDS = 8
LIST_ITEMS = 10_000
PAGE_SIZE = 100
LIST_PASSES = 2
REBUILD_ITEMS = 20_000
FRAMES = 24
SEED_BATCH = 250
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PARTS = ("uploads", "annotations", "listing", "rebuild")
USER = "bench"


# --------------------------------------------------------------------------------------------- baseline app

def bare_app() -> Any:
    """The upload baseline: a Falcon app that reads the whole body and answers 201 (no decode, no store)."""
    import falcon

    class ReadBody:
        def on_post(self, req: falcon.Request, resp: falcon.Response, project_id: str) -> None:
            size = len(req.bounded_stream.read())
            resp.status = falcon.HTTP_201
            resp.media = {"id": str(uuid.uuid4()), "size": size}

    app = falcon.App()
    app.add_route("/api/projects/{project_id}/dataset/items", ReadBody())
    return app


# --------------------------------------------------------------------------------------------- helpers

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _say(text: str) -> None:
    print(text, flush=True)


class Http:
    """A keep-alive HTTP/1.1 connection with JSON helpers."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        for attempt in range(2):
            try:
                self.connection.request(method, path, body=body, headers=headers or {})
                response = self.connection.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()  # the server closed an idle keep-alive connection
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, document: Any = None, expect: tuple[int, ...] = (200,)) -> Any:
        body = None if document is None else json.dumps(document).encode()
        status, data = self.request(method, path, body, {"Content-Type": "application/json"} if body else None)
        if status not in expect:
            raise RuntimeError(f"{method} {path} answered {status}: {data[:500]!r}")
        return json.loads(data) if data else None

    def close(self) -> None:
        self.connection.close()


def _tree_cpu_seconds(root: int) -> dict[str, float]:
    """User + system CPU seconds of a process and its descendants (Linux /proc), by role: engine or api."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    roles: dict[str, float] = {"engine": 0.0, "api": 0.0}
    for pid in tree:
        try:
            command = (Path("/proc") / str(pid) / "cmdline").read_bytes()
        except OSError:
            continue
        role = "engine" if command.endswith(b"\0engine\0") else "api"
        roles[role] += cpu.get(pid, 0.0)
    return roles


def _machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all processes, not only ours), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@contextmanager
def _cpu_use(server_pid: int, into: dict[str, Any]) -> Iterator[None]:
    """Cores used by the server's process tree, by the wrk client, and by the whole machine."""
    import resource

    server0, children0 = _tree_cpu_seconds(server_pid), resource.getrusage(resource.RUSAGE_CHILDREN)
    machine0 = _machine_busy_seconds()
    start = time.monotonic()
    yield
    elapsed = time.monotonic() - start
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    server1 = _tree_cpu_seconds(server_pid)
    into["engine_cores"] = (server1["engine"] - server0["engine"]) / elapsed
    into["server_cores"] = (sum(server1.values()) - sum(server0.values())) / elapsed
    into["client_cores"] = (children1.ru_utime + children1.ru_stime - children0.ru_utime - children0.ru_stime) / elapsed
    into["machine_cores"] = (_machine_busy_seconds() - machine0) / elapsed


def _wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, http.client.HTTPException, RuntimeError):  # not up, or not projected yet (404)
            pass
        time.sleep(interval)
    raise RuntimeError(f"timed out waiting for {what}")


class Databases:
    """Fresh PostgreSQL databases for the run (dropped at the end), or None for embedded SQLite."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.names: list[str] = []

    def new(self, purpose: str) -> str | None:
        if not self.postgres:
            return None
        import psycopg

        name = f"vf_bench_{purpose}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    def drop_all(self) -> None:
        if not self.names:
            return
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            for name in self.names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.names.clear()


def _config(data_dir: Path, database_url: str | None) -> Any:
    from entrypoints.config import Config

    return Config(data_dir=data_dir, database_url=database_url)


@contextmanager
def _gunicorn(args: list[str], env: dict[str, str], health_path: str, port: int,
              log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as log_file:
        process = subprocess.Popen(args, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        def up() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"{args[:4]} exited; log:\n{log.read_text()[-3000:]}")
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            try:
                connection.request("GET", health_path)
                return connection.getresponse().status < 500
            finally:
                connection.close()

        _wait_until(up, 60, f"{args[:4]} to answer", 0.1)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def _serve(data_dir: Path, database_url: str | None, log: Path) -> Iterator[tuple[int, int]]:
    """A real `viewfinder serve` (API + engine) on a free port."""
    port = _free_port()
    env = {**os.environ, "VIEWFINDER_DATA_DIR": str(data_dir), "VIEWFINDER_PORT": str(port),
           "VIEWFINDER_API_WORKERS": WORKERS, "VIEWFINDER_API_THREADS": THREADS}
    env.pop("VIEWFINDER_DATABASE_URL", None)
    if database_url:
        env["VIEWFINDER_DATABASE_URL"] = database_url
    with _gunicorn([sys.executable, "-m", "entrypoints.cli", "serve"], env, "/api/health", port, log) as process:
        yield port, process.pid


@contextmanager
def _bare(log: Path) -> Iterator[tuple[int, int]]:
    """The bare Falcon endpoint under the gunicorn settings of `viewfinder serve` (gthread, keepalive 5)."""
    port = _free_port()
    args = [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", WORKERS, "--threads", THREADS,
            "--keep-alive", "5", "--timeout", "60", "-b", f"127.0.0.1:{port}", "benchmarks.dataset_bench:bare_app()"]
    with _gunicorn(args, dict(os.environ), "/", port, log) as process:
        yield port, process.pid


# --------------------------------------------------------------------------------------------- images

def make_frames(count: int, seed: int = 3) -> list[bytes]:
    """1280x720 camera-like JPEGs (q90): smooth colour field, shapes, lines, text and sensor noise."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        low = rng.integers(0, 256, (9, 16, 3), dtype=np.uint8)
        image = cv2.resize(low, (1280, 720), interpolation=cv2.INTER_CUBIC)
        for _ in range(int(rng.integers(8, 20))):
            color = tuple(int(c) for c in rng.integers(0, 256, 3))
            x, y = int(rng.integers(0, 1280)), int(rng.integers(0, 720))
            kind = int(rng.integers(0, 3))
            if kind == 0:
                cv2.rectangle(image, (x, y), (x + int(rng.integers(20, 300)), y + int(rng.integers(20, 200))),
                              color, -1)
            elif kind == 1:
                cv2.circle(image, (x, y), int(rng.integers(10, 150)), color, -1)
            else:
                cv2.line(image, (x, y), (int(rng.integers(0, 1280)), int(rng.integers(0, 720))), color,
                         int(rng.integers(1, 8)))
        cv2.putText(image, f"frame {i}", (40, 680), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
        noise: Any = rng.integers(0, 24, image.shape, dtype=np.uint8)
        image = cv2.subtract(cv2.add(image, noise), np.full_like(image, 12))
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok
        frames.append(encoded.tobytes())
    return frames


def with_comment(jpeg: bytes, text: str) -> bytes:
    """The same JPEG with a COM segment after SOI: identical pixels, different bytes (and hash)."""
    payload = text.encode()
    return jpeg[:2] + b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]


# --------------------------------------------------------------------------------------------- load clients

UPLOAD_LUA = r"""
local counter, frames, nframes = 0, {}, 0
tid = 0  -- global: set per thread by setup()
local statuses = {}
local threads, next_tid = {}, 1
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end
function init(args)
  local dir = args[1]
  nframes = tonumber(args[2])
  for i = 0, nframes - 1 do
    local f = assert(io.open(dir .. "/" .. i .. ".jpg", "rb"))
    frames[i] = f:read("*a")
    f:close()
  end
end
function request()
  counter = counter + 1
  local jpeg = frames[(counter * 7 + tid) % nframes]
  local tag = string.format("vf-bench %d %d %d", tid, counter, os.time())
  local n = #tag + 2
  local body = jpeg:sub(1, 2) .. "\255\254" .. string.char(math.floor(n / 256), n % 256) .. tag .. jpeg:sub(3)
  return wrk.format("POST", wrk.path, {["Content-Type"] = "image/jpeg"}, body)
end
"""

ANNOTATE_LUA = r"""
local counter, ids, labels, nthreads = 0, {}, {}, 1
tid = 0  -- global: set per thread by setup()
local statuses = {}
local threads, next_tid = {}, 0
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end
function init(args)
  local f = assert(io.open(args[1], "r"))
  local all = {}
  for line in f:lines() do table.insert(all, line) end
  f:close()
  nthreads = tonumber(args[2])
  -- each wrk thread owns a disjoint slice of the items; its connections walk the slice in turn
  for i = 1, #all do
    if (i - 1) % nthreads == tid then table.insert(ids, all[i]) end
  end
  labels = {args[3], args[4]}
  math.randomseed(1000 + tid)
end
function request()
  counter = counter + 1
  local id = ids[(counter % #ids) + 1]
  local shapes = {}
  for k = 1, 1 + (counter % 3) do
    local x, y = math.random(0, 1000), math.random(0, 500)
    shapes[k] = string.format(
      '{"labels":[{"id":"%s"}],"shape":{"type":"rectangle","x":%d,"y":%d,"width":%d,"height":%d}}',
      labels[1 + (counter + k) % 2], x, y, math.random(10, 1280 - x), math.random(10, 720 - y))
  end
  local body = '{"annotations":[' .. table.concat(shapes, ",") .. ']}'
  return wrk.format("POST", string.format(PATH_TEMPLATE, id), {["Content-Type"] = "application/json"}, body)
end
"""

def _wrk_script(body: str) -> str:
    # Statuses travel from the wrk threads to done() as a string (thread:get copies plain values).
    return body + r"""
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local parts = {}
  for s, n in pairs(statuses) do table.insert(parts, s .. ":" .. n) end
  status_text = table.concat(parts, ",")
end
function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    local text = thread:get("status_text") or ""
    for s, n in string.gmatch(text, "(%d+):(%d+)") do merged[s] = (merged[s] or 0) + tonumber(n) end
  end
  local parts = {}
  for s, n in pairs(merged) do table.insert(parts, s .. ":" .. n) end
  io.write(string.format("VFBENCH requests=%d duration_us=%d p50_us=%d p95_us=%d p99_us=%d statuses=%s\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    table.concat(parts, ",")))
  io.write(string.format("VFBENCH errors connect=%d read=%d write=%d timeout=%d\n", summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout))
end
"""


def _run_wrk(url: str, script: str, script_args: list[str], connections: int, seconds: int,
             workdir: Path) -> dict[str, Any]:
    path = workdir / f"wrk-{uuid.uuid4().hex[:6]}.lua"
    path.write_text(script)
    threads = min(2, connections)
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s",
                          "-s", str(path), url, "--", *script_args],
                         capture_output=True, text=True, check=True).stdout
    fields: dict[str, Any] = {}
    for line in out.splitlines():
        if line.startswith("VFBENCH "):
            for pair in line.split()[1:]:
                key, _, value = pair.partition("=")
                fields[key] = value
    if "requests" not in fields:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    statuses = {int(s): int(n) for s, n in (p.split(":") for p in fields["statuses"].split(",") if p)}
    duration = int(fields["duration_us"]) / 1e6
    return {"requests": int(fields["requests"]), "seconds": duration, "statuses": statuses,
            "ok": sum(n for s, n in statuses.items() if 200 <= s < 300),
            "rps": sum(n for s, n in statuses.items() if 200 <= s < 300) / duration,
            "p50_ms": int(fields["p50_us"]) / 1000, "p95_ms": int(fields["p95_us"]) / 1000,
            "p99_ms": int(fields["p99_us"]) / 1000,
            "errors": {k: int(fields[k]) for k in ("connect", "read", "write", "timeout") if k in fields}}


def _run_threads(port: int, make_request: Callable[[int, int], tuple[str, str, bytes, dict[str, str]]],
                 connections: int, seconds: int) -> dict[str, Any]:
    """Fallback client: one keep-alive connection per thread (weaker than wrk: it shares the GIL)."""
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def worker(client: int) -> None:
        connection, n = Http(port), 0
        mine: list[float] = []
        seen: dict[int, int] = {}
        while time.monotonic() < deadline:
            method, path, body, headers = make_request(client, n)
            start = time.perf_counter()
            status, _ = connection.request(method, path, body, headers)
            mine.append((time.perf_counter() - start) * 1000)
            seen[status] = seen.get(status, 0) + 1
            n += 1
        connection.close()
        with lock:
            latencies.extend(mine)
            for status, count in seen.items():
                statuses[status] = statuses.get(status, 0) + count

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    duration = time.monotonic() - started
    ok = sum(n for s, n in statuses.items() if 200 <= s < 300)
    return {"requests": len(latencies), "seconds": duration, "statuses": statuses, "ok": ok, "rps": ok / duration,
            "p50_ms": _percentile(latencies, 50), "p95_ms": _percentile(latencies, 95),
            "p99_ms": _percentile(latencies, 99), "errors": {}}


def _describe(result: dict[str, Any]) -> str:
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(result["statuses"].items()))
    errors = {k: v for k, v in result["errors"].items() if v}
    return (f"{result['rps']:.1f} req/s ({result['ok']} ok in {result['seconds']:.1f} s; latency p50 "
            f"{result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms; statuses {statuses}"
            + (f"; socket errors {errors}" if errors else "")
            + (f"; CPU: server {result['server_cores']:.2f} cores"
               + (f" (engine {result['engine_cores']:.2f})" if result.get("engine_cores") else "")
               + f", client {result['client_cores']:.2f}, "
               f"whole machine {result['machine_cores']:.2f} of {os.cpu_count()}" if "server_cores" in result else "")
            + ")")


# --------------------------------------------------------------------------------------------- seeding

def _project_labels(container: Any, project_id: uuid.UUID) -> list[uuid.UUID]:
    from domain.project import Project

    return [label.id for label in container.store.load(Project, project_id).labels]


def _create_project(container: Any, name: str) -> tuple[uuid.UUID, list[uuid.UUID]]:
    from domain.project import NewLabel

    written = container.projects.create(name, "detection", False, [NewLabel("nut"), NewLabel("bolt")], USER)
    return written.id, _project_labels(container, written.id)


def _rectangles(rng: Any, labels: list[uuid.UUID], count: int) -> list[dict[str, Any]]:
    shapes = []
    for k in range(count):
        x, y = float(rng.integers(0, 1000)), float(rng.integers(0, 500))
        shapes.append({"labels": [{"id": labels[k % len(labels)]}],
                       "shape": {"type": "rectangle", "x": x, "y": y, "width": float(rng.integers(10, 250)),
                                 "height": float(rng.integers(10, 200))}})
    return shapes


def _media_of(container: Any, frame: bytes) -> dict[str, Any]:
    """Store one real frame and its thumbnail; seeded items all reference these bytes."""
    info = container.codec.inspect(frame)
    original = container.media.put(frame)
    thumbnail = container.media.put(container.codec.thumbnail(frame))
    return {"sha256": original.sha256, "size": original.size, "format": info.format,
            "content_type": info.content_type, "width": info.width, "height": info.height,
            "thumbnail_sha256": thumbnail.sha256}


def seed_items(container: Any, project_id: uuid.UUID, labels: list[uuid.UUID], media: dict[str, Any], count: int,
               events_per_item: int, seed: int = 11) -> tuple[list[uuid.UUID], int, float]:
    """Save DatasetItem aggregates directly (SEED_BATCH items per atomic save).

    events_per_item: 1 = created; 2 = + annotated; 5 = + annotated, tagged, subset, re-annotated.
    Returns the item ids, the number of events and the seconds spent.
    """
    import numpy as np

    from domain.annotations import AnnotationContext
    from domain.dataset_item import DatasetItem

    rng = np.random.default_rng(seed)
    context = AnnotationContext(media["width"], media["height"], "detection", False, set(labels))
    subsets = ("training", "validation", "testing")
    ids: list[uuid.UUID] = []
    events = 0
    start = time.perf_counter()
    for first in range(0, count, SEED_BATCH):
        batch = []
        for n in range(first, min(count, first + SEED_BATCH)):
            item = DatasetItem(id=uuid.uuid4(), project_id=project_id, name=f"frame-{n:06d}.jpg", media=media,
                               source="capture", user=USER)
            if events_per_item >= 2:
                item.annotate(_rectangles(rng, labels, 1 + n % 4), context, True, USER)
            if events_per_item >= 5:
                item.change_tags([f"camera-{n % 8}", "bench"][: 1 + n % 2], [], USER)
                item.assign_subset(subsets[n % 3], "bench", USER)
                item.annotate(_rectangles(rng, labels, 1 + (n + 1) % 4), context, n % 5 != 0, USER)
            events += len(item.pending_events)
            batch.append(item)
            ids.append(item.id)
        container.store.commit(*batch)
    return ids, events, time.perf_counter() - start


# --------------------------------------------------------------------------------------------- 1. uploads

def bench_uploads(port: int, pid: int, project_id: uuid.UUID, frames: list[bytes], workdir: Path,
                  http_client: Http) -> dict[str, Any]:
    frame_dir = workdir / "frames"
    frame_dir.mkdir(exist_ok=True)
    for i, frame in enumerate(frames):
        (frame_dir / f"{i}.jpg").write_bytes(frame)
    path = f"/api/projects/{project_id}/dataset/items"
    script = _wrk_script(UPLOAD_LUA)
    counter = [0]
    lock = threading.Lock()

    def upload_request(client: int, n: int) -> tuple[str, str, bytes, dict[str, str]]:
        with lock:
            counter[0] += 1
            k = counter[0]
        return "POST", path, with_comment(frames[k % len(frames)], f"vf-bench {client} {k} {time.time()}"), \
            {"Content-Type": "image/jpeg"}

    def load(target_port: int, target_pid: int) -> dict[str, Any]:
        cpu: dict[str, Any] = {}
        with _cpu_use(target_pid, cpu):
            if shutil.which("wrk"):
                result = _run_wrk(f"http://127.0.0.1:{target_port}{path}", script,
                                  [str(frame_dir), str(len(frames))], UPLOAD_CLIENTS, UPLOAD_SECONDS, workdir)
            else:
                result = _run_threads(target_port, upload_request, UPLOAD_CLIENTS, UPLOAD_SECONDS)
        return {**result, **cpu}

    with _bare(workdir / "bare.log") as (bare_port, bare_pid):
        bare = load(bare_port, bare_pid)
    viewfinder = load(port, pid)
    stored = http_client.json("GET", f"{path}?limit=1")["pagination"]["total"]
    return {"viewfinder": viewfinder, "bare": bare, "stored": stored,
            "mean_bytes": sum(map(len, frames)) / len(frames)}


def upload_breakdown(frames: list[bytes], workdir: Path) -> dict[str, float]:
    """Single-thread, in-process cost of the work of one upload (ms), and of the suggested one-decode path."""
    import hashlib

    import cv2
    import numpy as np

    from adapters.media.filesystem import FilesystemMediaStore
    from adapters.media.opencv_codec import OpenCvImageCodec

    codec, media = OpenCvImageCodec(), FilesystemMediaStore(workdir / "breakdown-media")
    samples = [with_comment(frames[i % len(frames)], f"breakdown {i}") for i in range(48)]

    def per_call(work: Callable[[bytes], object]) -> float:
        start = time.perf_counter()
        for data in samples:
            work(data)
        return (time.perf_counter() - start) / len(samples) * 1000

    def one_decode_thumbnail(data: bytes) -> bytes:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        assert image is not None
        height, width = image.shape[:2]
        scale = 256 / max(height, width)
        small = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        return cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()

    def reduced_decode_thumbnail(data: bytes) -> bytes:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_REDUCED_COLOR_2)
        assert image is not None
        height, width = image.shape[:2]
        scale = 256 / max(height, width)
        small = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        return cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()

    return {
        "inspect (header walk + full decode)": per_call(codec.inspect),
        "thumbnail (header walk + full decode again + resize + encode)": per_call(codec.thumbnail),
        "sha256": per_call(lambda d: hashlib.sha256(d).hexdigest()),
        "media.put original (sha256 + write + fsync file and dir)": per_call(media.put),
        "current path: inspect + thumbnail + 2 puts": per_call(
            lambda d: (codec.inspect(d), media.put(codec.thumbnail(d)), media.put(d))),
        "one full decode + resize + encode (suggested)": per_call(one_decode_thumbnail),
        "IMREAD_REDUCED_COLOR_2 decode + resize + encode (JPEG only)": per_call(reduced_decode_thumbnail),
    }


# --------------------------------------------------------------------------------------------- 2. annotations

def bench_annotations(port: int, pid: int, project_id: uuid.UUID, labels: list[uuid.UUID], item_ids: list[uuid.UUID],
                      workdir: Path) -> dict[str, Any]:
    ids_file = workdir / "annotate-ids.txt"
    ids_file.write_text("\n".join(str(i) for i in item_ids) + "\n")
    template = f"/api/projects/{project_id}/dataset/items/%s/annotations"
    if shutil.which("wrk"):
        script = _wrk_script(ANNOTATE_LUA.replace("PATH_TEMPLATE", json.dumps(template)))
        cpu: dict[str, Any] = {}
        with _cpu_use(pid, cpu):
            result = _run_wrk(f"http://127.0.0.1:{port}/", script,
                              [str(ids_file), "2", str(labels[0]), str(labels[1])], ANNOTATE_CLIENTS,
                              ANNOTATE_SECONDS, workdir)
        return {**result, **cpu}
    import numpy as np

    slices = [item_ids[c::ANNOTATE_CLIENTS] for c in range(ANNOTATE_CLIENTS)]
    rngs = [np.random.default_rng(c) for c in range(ANNOTATE_CLIENTS)]

    def annotate_request(client: int, n: int) -> tuple[str, str, bytes, dict[str, str]]:
        item = slices[client][n % len(slices[client])]
        body = {"annotations": [{**a, "labels": [{"id": str(a["labels"][0]["id"])}]}
                                for a in _rectangles(rngs[client], labels, 1 + n % 3)]}
        return "POST", template % item, json.dumps(body).encode(), {"Content-Type": "application/json"}

    cpu = {}
    with _cpu_use(pid, cpu):
        result = _run_threads(port, annotate_request, ANNOTATE_CLIENTS, ANNOTATE_SECONDS)
    return {**result, **cpu}


def annotate_latency(http_client: Http, project_id: uuid.UUID, labels: list[uuid.UUID], item_ids: list[uuid.UUID],
                     count: int = 200) -> dict[str, Any]:
    """One client, one request at a time: the read-your-writes floor of an annotation write."""
    import numpy as np

    rng = np.random.default_rng(5)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    for n in range(count):
        body = {"annotations": [{**a, "labels": [{"id": str(a["labels"][0]["id"])}]}
                                for a in _rectangles(rng, labels, 1 + n % 3)]}
        start = time.perf_counter()
        status, _ = http_client.request("POST", f"/api/projects/{project_id}/dataset/items/"
                                        f"{item_ids[n % len(item_ids)]}/annotations", json.dumps(body).encode(),
                                        {"Content-Type": "application/json"})
        latencies.append((time.perf_counter() - start) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
    return {"p50_ms": _percentile(latencies, 50), "p95_ms": _percentile(latencies, 95), "statuses": statuses}


def bench_raw_appends(config: Any, threads: int, seconds: float) -> dict[str, float]:
    """An eventsourcing Application on the same persistence: one new aggregate (one event) per save."""
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    from entrypoints.bootstrap import event_store_env

    class Tick(Aggregate):
        @event("Ticked")
        def __init__(self, user: str, n: int) -> None:
            self.user = user
            self.n = n

    class RawAppendBench(Application[uuid.UUID]):
        name = "RawAppendBench"

    env = event_store_env(config)
    if "SQLITE_DBNAME" in env:  # the SQLite table name is fixed: a separate file beside the event store
        env["SQLITE_DBNAME"] = str(Path(env["SQLITE_DBNAME"]).with_name("raw-append-bench.sqlite"))
    app = RawAppendBench(env=env)
    counts = [0] * threads
    deadline = time.monotonic() + seconds

    def worker(index: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            app.save(Tick(user=USER, n=n))
            n += 1
        counts[index] = n

    started, cpu_started = time.monotonic(), time.process_time()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    duration, cpu = time.monotonic() - started, time.process_time() - cpu_started
    app.close()
    return {"events": sum(counts), "seconds": duration, "rate": sum(counts) / duration,
            "cpu_ms_per_event": cpu / max(1, sum(counts)) * 1000}


# --------------------------------------------------------------------------------------------- 3. listing

def bench_listing(http_client: Http, container: Any, project_id: uuid.UUID) -> dict[str, Any]:
    from application.queries.dataset import ItemFilter, Page, list_items

    results: dict[str, Any] = {}
    base = f"/api/projects/{project_id}/dataset/items"
    offsets = list(range(0, LIST_ITEMS, PAGE_SIZE))
    for mode, suffix in (("plain", ""), ("with_annotations", "&with_annotations=true")):
        for offset in offsets[:5]:  # warm up
            http_client.request("GET", f"{base}?offset={offset}&limit={PAGE_SIZE}{suffix}")
        latencies: list[float] = []
        sizes: list[int] = []
        by_offset: dict[int, list[float]] = {o: [] for o in offsets}
        for _ in range(LIST_PASSES):
            for offset in offsets:
                start = time.perf_counter()
                status, body = http_client.request("GET", f"{base}?offset={offset}&limit={PAGE_SIZE}{suffix}")
                elapsed = (time.perf_counter() - start) * 1000
                if status != 200:
                    raise RuntimeError(f"listing answered {status}: {body[:300]!r}")
                latencies.append(elapsed)
                by_offset[offset].append(elapsed)
                sizes.append(len(body))
        document = json.loads(body)
        assert document["pagination"]["total"] == LIST_ITEMS, document["pagination"]
        assert len(document["items"]) == PAGE_SIZE
        if suffix:
            assert all(item["annotations"] for item in document["items"])
        in_process = []
        for offset in offsets:
            start = time.perf_counter()
            page = list_items(container.read_store, project_id, ItemFilter(), Page(offset, PAGE_SIZE),
                              with_annotations=bool(suffix))
            json.dumps(page)
            in_process.append((time.perf_counter() - start) * 1000)
        first = [v for o in offsets[:10] for v in by_offset[o]]
        last = [v for o in offsets[-10:] for v in by_offset[o]]
        results[mode] = {"samples": len(latencies), "p50_ms": _percentile(latencies, 50),
                         "p95_ms": _percentile(latencies, 95), "max_ms": max(latencies),
                         "first10_p50_ms": statistics.median(first), "last10_p50_ms": statistics.median(last),
                         "kb": statistics.mean(sizes) / 1024, "in_process_p50_ms": statistics.median(in_process)}
    return results


# --------------------------------------------------------------------------------------------- 4. rebuild

def _read_log(store: Any, batch_size: int, head: int) -> tuple[float, float]:
    """Seconds to read the whole notification log in batches: select only, then select + decode (events_after)."""
    start = time.perf_counter()
    position, read = 0, 0
    while notifications := list(store.notification_log.select(start=position + 1, limit=batch_size)):
        read += len(notifications)
        position = notifications[-1].id
    select_s = time.perf_counter() - start
    start = time.perf_counter()
    position, decoded = 0, 0
    while batch := list(store.events_after(position, batch_size)):
        decoded += len(batch)
        position = batch[-1][0]
    decode_s = time.perf_counter() - start
    assert read == decoded == head, (read, decoded, head)
    return select_s, decode_s


def bench_rebuild(data_dir: Path, database_url: str | None, frames: list[bytes], items: int) -> dict[str, Any]:
    from entrypoints.bootstrap import bootstrap

    container = bootstrap(_config(data_dir, database_url))
    try:
        project_id, labels = _create_project(container, "Rebuild")
        media = _media_of(container, frames[0])
        _, seeded, write_s = seed_items(container, project_id, labels, media, items, 5)
        store, projector = container.store, container.projector
        head = store.max_position()
        reads = [_read_log(store, projector.batch_size, head)]

        # Light instrumentation (two perf_counter calls per wrapped call, ~2-3 % of the run): where time goes.
        spent: dict[str, float] = {"events_after (select + decode)": 0.0}
        original_events_after = store.events_after

        def timed_events_after(after: int, limit: int) -> Iterator[tuple[int, Any]]:
            t0 = time.perf_counter()
            batch = list(original_events_after(after, limit))
            spent["events_after (select + decode)"] += time.perf_counter() - t0
            return iter(batch)

        store.events_after = timed_events_after  # type: ignore[method-assign,assignment]
        for projection in projector.projections:
            spent[projection.name] = 0.0

            def timed(event: Any, tx: Any, position: int = 0, _p: Any = projection,
                      _process: Any = projection.process) -> None:
                t0 = time.perf_counter()
                _process(event, tx, position)
                spent[_p.name] += time.perf_counter() - t0

            projection.process = timed  # type: ignore[method-assign]

        start = time.perf_counter()
        replayed = projector.rebuild()
        rebuild_s = time.perf_counter() - start
        store.events_after = original_events_after  # type: ignore[method-assign]
        assert replayed == head, (replayed, head)
        reads.append(_read_log(store, projector.batch_size, head))  # again after, the machine being noisy
        rows = container.read_store.query_one("SELECT COUNT(*) AS n FROM rm_items WHERE project_id = ?",
                                              (str(project_id),))
        history = container.read_store.query_one("SELECT COUNT(*) AS n FROM rm_history WHERE project_id = ?",
                                                 (str(project_id),))
        # every event but the project's name claim (not part of a project's history) has its history row
        assert rows and history and int(rows["n"]) == items and int(history["n"]) == head - 1, (rows, history, head)
        accounted = sum(spent.values())
        spent["commits, tracking rows, projector loop (rest)"] = rebuild_s - accounted
        return {"events": head, "seeded": seeded, "write_s": write_s, "select_s": [r[0] for r in reads],
                "decode_s": [r[1] for r in reads],
                "rebuild_s": rebuild_s, "breakdown": spent, "items": items}
    finally:
        container.close()


# --------------------------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="run on fresh PostgreSQL databases")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    parser.add_argument("--rebuild-items", type=int, default=REBUILD_ITEMS,
                        help=f"items (x 5 events) for the rebuild (default {REBUILD_ITEMS}, i.e. 100,000 events)")
    args = parser.parse_args(argv)
    parts = [p for p in args.only.split(",") if p]
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")

    os.chdir(Path(__file__).resolve().parents[1])  # gunicorn and `-m entrypoints.cli` import from the repo
    workdir = Path(tempfile.mkdtemp(prefix="vf-dataset-bench-"))
    databases = Databases(args.postgres)
    mode = "PostgreSQL (fresh databases)" if args.postgres else "embedded SQLite"
    started = time.monotonic()
    client = "wrk (Lua script, 2 threads)" if shutil.which("wrk") else "Python threads (wrk not installed)"
    _say(f"dataset benchmark: {mode}; {os.cpu_count()} cores (load average {_loadavg()} at the start: other "
         f"work shares them); gunicorn gthread {WORKERS} workers x {THREADS} threads; client {client}")
    try:
        t0 = time.perf_counter()
        frames = make_frames(FRAMES)
        _say(f"generated {len(frames)} distinct 1280x720 JPEGs (q90, mean {sum(map(len, frames)) / len(frames) / 1024:.0f}"
             f" KiB) in {time.perf_counter() - t0:.1f} s; every upload gets unique bytes (JPEG COM segment)")
        if {"uploads", "annotations", "listing"} & set(parts):
            _http_parts(parts, frames, workdir, databases)
        if "rebuild" in parts:
            _rebuild_part(frames, workdir, databases, args.rebuild_items)
    finally:
        databases.drop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    _say(f"total time {time.monotonic() - started:.0f} s; load average now {_loadavg()}")


def _http_parts(parts: list[str], frames: list[bytes], workdir: Path, databases: Databases) -> None:
    from entrypoints.bootstrap import bootstrap

    data_dir, database_url = workdir / "serve-data", databases.new("serve")
    with _serve(data_dir, database_url, workdir / "serve.log") as (port, pid):
        http_client = Http(port)
        container = bootstrap(_config(data_dir, database_url))  # writes to the same stores as the server
        try:
            media = _media_of(container, frames[0])
            if "uploads" in parts:
                project_id, _ = _create_project(container, "Uploads")
                _wait_until(lambda: http_client.request("GET", f"/api/projects/{project_id}")[0] == 200, 30,
                            "the project to be visible")
                result = bench_uploads(port, pid, project_id, frames, workdir, http_client)
                vf, bare = result["viewfinder"], result["bare"]
                _say(f"\n1. uploads of 1280x720 JPEGs (mean {result['mean_bytes'] / 1024:.0f} KiB), "
                     f"{UPLOAD_CLIENTS} concurrent clients, {UPLOAD_SECONDS} s each:")
                _say(f"   viewfinder POST .../dataset/items: {_describe(vf)}")
                _say(f"   bare Falcon (reads the body only), same gunicorn settings: {_describe(bare)}")
                _say(f"   ratio viewfinder / bare: {vf['rps'] / bare['rps']:.3f}")
                _say(f"   items stored afterwards: {result['stored']} (acknowledged: {vf['ok']})")
                breakdown = upload_breakdown(frames, workdir)
                _say("   in-process cost per upload, single thread (ms):")
                for name, ms in breakdown.items():
                    _say(f"     {name}: {ms:.2f}")
            if "annotations" in parts:
                project_id, labels = _create_project(container, "Annotations")
                item_ids, _, _ = seed_items(container, project_id, labels, media, ANNOTATE_ITEMS, 1)
                _wait_until(lambda: http_client.json("GET", f"/api/projects/{project_id}/dataset/items?limit=1")
                            ["pagination"]["total"] == ANNOTATE_ITEMS, 60, "the seeded items to be projected")
                result = bench_annotations(port, pid, project_id, labels, item_ids, workdir)
                _wait_until(lambda: http_client.json("GET", "/api/health")["read_models"]["max_lag"] == 0, 300,
                            "the engine to catch up", 0.1)
                recorded = container.read_store.query_one(
                    "SELECT COUNT(*) AS n FROM rm_history WHERE project_id = ? AND kind = ?",
                    (str(project_id), "DatasetItem.AnnotationsReplaced"))
                single = annotate_latency(http_client, project_id, labels, item_ids)
                raw = bench_raw_appends(container.config, ANNOTATE_CLIENTS, RAW_SECONDS)
                _say(f"\n2. annotation writes, {ANNOTATE_CLIENTS} concurrent clients, each on its own items "
                     f"({ANNOTATE_ITEMS} items), {ANNOTATE_SECONDS} s:")
                _say(f"   viewfinder POST .../items/{{id}}/annotations: {_describe(result)}")
                _say(f"   raw eventsourcing appends (same persistence, {ANNOTATE_CLIENTS} threads, one new "
                     f"aggregate + one event per save): {raw['rate']:.0f} events/s ({raw['events']} in "
                     f"{raw['seconds']:.1f} s)")
                _say(f"   ratio viewfinder / raw: {result['rps'] / raw['rate']:.3f}")
                if "server_cores" in result:
                    _say(f"   CPU per write: viewfinder server {result['server_cores'] / result['rps'] * 1000:.2f} ms "
                         f"(engine {result['engine_cores'] / result['rps'] * 1000:.2f} ms), raw append "
                         f"{raw['cpu_ms_per_event']:.2f} ms (this process, SQLite/psycopg work included)")
                _say(f"   annotation events recorded: {recorded['n'] if recorded else 0} (acknowledged: "
                     f"{result['ok']}; wrk stops with requests in flight)")
                _say(f"   one client, one request at a time ({sum(single['statuses'].values())} requests, statuses "
                     f"{single['statuses']}): p50 {single['p50_ms']:.1f} ms, p95 {single['p95_ms']:.1f} ms "
                     f"(read-your-writes: the POST answers once the engine has projected the event)")
            if "listing" in parts:
                project_id, labels = _create_project(container, "Listing")
                t0 = time.perf_counter()
                _, events, seed_s = seed_items(container, project_id, labels, media, LIST_ITEMS, 2)
                path = f"/api/projects/{project_id}/dataset/items?limit=1&annotated=true"
                _wait_until(lambda: http_client.json("GET", path)["pagination"]["total"] == LIST_ITEMS, 300,
                            "the listing items to be projected", 0.2)
                visible_s = time.perf_counter() - t0
                _wait_until(lambda: http_client.json("GET", "/api/health")["read_models"]["max_lag"] == 0, 300,
                            "the engine (projections and policies) to catch up", 0.2)
                idle_s = time.perf_counter() - t0
                result = bench_listing(http_client, container, project_id)
                _say(f"\n3. item listing, {LIST_ITEMS} items (each with 1-4 rectangles), pages of {PAGE_SIZE}, "
                     f"{LIST_PASSES} passes over all {LIST_ITEMS // PAGE_SIZE} pages, one keep-alive client:")
                _say(f"   seeding: {events} events saved through the application layer in {seed_s:.1f} s; all items "
                     f"visible through HTTP {visible_s:.1f} s after the first save; engine idle (policies "
                     f"done) after {idle_s:.1f} s")
                for name, r in result.items():
                    _say(f"   {name}: p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, max {r['max_ms']:.1f} ms "
                         f"per page ({r['samples']} pages, {r['kb']:.0f} KiB each); first 10 pages p50 "
                         f"{r['first10_p50_ms']:.1f} ms, last 10 pages p50 {r['last10_p50_ms']:.1f} ms; "
                         f"list_items + json.dumps in-process p50 {r['in_process_p50_ms']:.1f} ms")
        finally:
            container.close()
            http_client.close()


def _rebuild_part(frames: list[bytes], workdir: Path, databases: Databases, items: int) -> None:
    result = bench_rebuild(workdir / "rebuild-data", databases.new("rebuild"), frames, items)
    events, rebuild_s = result["events"], result["rebuild_s"]
    _say(f"\n4. rebuild of the read models from {events} events ({items} items x 5 dataset events + "
         f"{events - result['seeded']} project events):")
    _say(f"   writing them through the application layer ({SEED_BATCH} items per save): "
         f"{result['seeded'] / result['write_s']:.0f} events/s ({result['write_s']:.1f} s)")
    for when, select_s, decode_s in zip(("before", "after"), result["select_s"], result["decode_s"], strict=True):
        _say(f"   baseline ({when} the rebuild), reading the notification log in batches of 500: select only "
             f"{events / select_s:.0f} events/s ({select_s:.1f} s); store.events_after (select + decode) "
             f"{events / decode_s:.0f} events/s ({decode_s:.1f} s)")
    _say(f"   projector.rebuild(): {events / rebuild_s:.0f} events/s ({rebuild_s:.1f} s)")
    best = min(result["decode_s"])
    _say(f"   ratio rebuild / events_after read (faster of the two reads): {best / rebuild_s:.3f}")
    _say("   where the rebuild time goes (s):")
    for name, seconds in sorted(result["breakdown"].items(), key=lambda kv: -kv[1]):
        _say(f"     {name}: {seconds:.1f} ({seconds / rebuild_s * 100:.0f} %)")


if __name__ == "__main__":
    main()
