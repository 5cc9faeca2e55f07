"""Dataset job benchmarks (issue 4): job submit → running latency, import and export of a 1,000-image COCO dataset.

Run: .venv/bin/python -m benchmarks.dataset_jobs_bench [--only latency,transfer] [--jobs 30] [--images 1000]
                                                       [--postgres]

Everything runs in this process, through the Falcon app and `falcon.testing.TestClient` (no sockets): a
container from `bootstrap`, the engine in a thread (projections, policies; in the embedded mode it also hosts
the Dramatiq worker), and in the Redis mode a Dramatiq worker of its own (`start_worker`, 2 threads) on a
RedisBroker at 127.0.0.1:6379 with a namespace of its own, deleted afterwards.

1. Latency: ~30 small jobs (`prepare_dataset_for_import` of a 2-image archive), one after the other, each
   waited for before the next; latency = the job's `started_at` - `created_at` (the Started and Submitted
   events' timestamps: commit, engine poll, dispatch policy, broker, worker pickup, claim). Embedded and Redis,
   on SQLite and on PostgreSQL (a fresh database on postgresql://postgres@127.0.0.1:5432, dropped afterwards).
2. Transfer (SQLite; with --postgres also PostgreSQL): 1,000 generated 640x480 JPEGs with three boxes each, as
   a COCO archive uploaded to the staging area, prepared, imported as a new project, exported in COCO. Rates
   use each job's own run time (`finished_at` - `started_at`).
   Baseline in the same run: the raw work of the import per image without events or jobs: one OpenCV decode,
   a 256-px JPEG thumbnail, sha256 and writing the original and the thumbnail to disk (temp file + fsync +
   rename, as the media store does). A middle figure: `DatasetCommands.upload` + `annotate` called directly
   (the commands the import job uses) on 200 of the images.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import statistics
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

JOBS = 30
IMAGES = 1000
DIRECT_IMAGES = 200
REDIS_URL = "redis://127.0.0.1:6379/0"
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TERMINAL = ("done", "failed", "cancelled")
PARTS = ("latency", "transfer")


def _say(text: str) -> None:
    print(text, flush=True)


def _loadavg() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def _seconds_between(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


# --- generated data -------------------------------------------------------------------------------------------


def make_images(count: int, width: int = 640, height: int = 480) -> list[bytes]:
    """Distinct JPEGs (quality 90): a gradient, three filled boxes and a patch of noise (~35 kB at 640x480)."""
    x = np.linspace(0, 255, width, dtype=np.float32)
    y = np.linspace(0, 255, height, dtype=np.float32)
    base = np.stack([np.add.outer(y, x) / 2, np.tile(x, (height, 1)), np.tile(y[:, None], (1, width))], axis=2)
    base = base.astype(np.uint8)
    images = []
    for seed in range(count):
        rng = np.random.default_rng(seed)
        picture = base.copy()
        for _ in range(3):
            x0, y0 = int(rng.integers(0, width * 13 // 16)), int(rng.integers(0, height * 13 // 16))
            color = tuple(int(c) for c in rng.integers(0, 256, 3))
            cv2.rectangle(picture, (x0, y0), (x0 + width // 6, y0 + height // 6), color, -1)
        picture[: height // 4, : width // 4] = rng.integers(0, 256, (height // 4, width // 4, 3), dtype=np.uint8)
        ok, data = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok
        images.append(bytes(data.tobytes()))
    return images


def coco_zip(images: list[bytes], width: int = 640, height: int = 480) -> bytes:
    """`images/train/frame_NNNN.jpg` + `annotations/instances_train.json`, three boxes per image."""
    names = [f"frame_{n:04}.jpg" for n in range(len(images))]
    rng = np.random.default_rng(1)
    annotations = [{"id": len(names) * k + n + 1, "image_id": n + 1, "category_id": k + 1, "iscrowd": 0,
                    "bbox": [float(rng.integers(0, width * 5 // 8)), float(rng.integers(0, height * 5 // 8)),
                             width * 0.1883, height * 0.1880]}
                   for n in range(len(names)) for k in range(3)]
    document = {"categories": [{"id": 1, "name": "crate"}, {"id": 2, "name": "pallet"}, {"id": 3, "name": "person"}],
                "images": [{"id": n + 1, "file_name": name, "width": width, "height": height}
                           for n, name in enumerate(names)],
                "annotations": annotations}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in zip(names, images, strict=True):
            archive.writestr(zipfile.ZipInfo(f"images/train/{name}"), data)  # stored, as image files are
        archive.writestr("annotations/instances_train.json", json.dumps(document),
                         compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


# --- the app in one process -------------------------------------------------------------------------------------


class Databases:
    """Fresh PostgreSQL databases for the runs that ask for one; all dropped at the end."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def new(self) -> str:
        import psycopg

        name = f"vf_bench_jobs_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

    def drop_all(self) -> None:
        import psycopg

        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            for name in self.names:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _delete_namespace(namespace: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        for pattern in (f"{namespace}:*", f"{namespace}-abort:*"):
            keys = list(client.scan_iter(match=pattern, count=500))
            if keys:
                client.delete(*keys)
    finally:
        client.close()


@contextmanager
def running_app(data_dir: Path, database_url: str | None, broker: str) -> Iterator[tuple[Any, Any]]:
    """(container, TestClient) with the engine in a thread, and in the Redis mode a worker of its own."""
    from falcon.testing import TestClient

    from adapters.dramatiq_queue import start_worker
    from entrypoints.bootstrap import bootstrap
    from entrypoints.config import Config
    from entrypoints.engine import Engine
    from entrypoints.http.app import create_app

    config = Config(data_dir=data_dir, database_url=database_url, consistency_timeout_s=30.0)
    namespace = f"vf-bench-{uuid.uuid4().hex[:12]}"
    if broker == "redis":
        config = replace(config, redis_url=REDIS_URL, redis_namespace=namespace)
    container = bootstrap(config)
    engine = Engine(container).start_in_thread()
    worker = start_worker(container.jobs.broker, config.worker_threads) if broker == "redis" else None
    try:
        yield container, TestClient(create_app(container))
    finally:
        if worker is not None:
            worker.stop(timeout=5000)
        engine.stop()
        container.close()
        if broker == "redis":
            _delete_namespace(namespace)


def _stage(client: Any, archive: bytes) -> str:
    response = client.simulate_post("/api/staged_datasets", body=archive, headers={"Content-Type": "application/zip"})
    assert response.status_code in (201, 202), response.text
    return str(response.json["id"])


def _run(client: Any, job_type: str, project_id: str | None = None, interval: float = 0.02,
         **parameters: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"job_type": job_type, "parameters": parameters}
    if project_id:
        body["project_id"] = project_id
    response = client.simulate_post("/api/jobs", json=body)
    assert response.status_code == 202, response.text
    while (job := client.simulate_get(f"/api/jobs/{response.json['id']}").json)["status"] not in TERMINAL:
        time.sleep(interval)
    assert job["status"] == "done", job
    return dict(job)


# --- 1. latency ---------------------------------------------------------------------------------------------------


def bench_latency(workdir: Path, database_url: str | None, broker: str, jobs: int) -> dict[str, float]:
    archive = coco_zip(make_images(2, 64, 48), 64, 48)
    with running_app(workdir / "data", database_url, broker) as (_, client):
        staged_id = _stage(client, archive)
        for _ in range(3):  # warm-up: imports, connections, the first unpacking
            _run(client, "prepare_dataset_for_import", staged_dataset_id=staged_id)
        latencies, submits = [], []
        for _ in range(jobs):
            started = time.perf_counter()
            job = _run(client, "prepare_dataset_for_import", interval=0.01, staged_dataset_id=staged_id)
            submits.append(time.perf_counter() - started)
            latencies.append(_seconds_between(job["created_at"], job["started_at"]))
    return {"p50_ms": _percentile(latencies, 50) * 1000, "p95_ms": _percentile(latencies, 95) * 1000,
            "max_ms": max(latencies) * 1000, "mean_ms": statistics.fmean(latencies) * 1000,
            "round_trip_p50_ms": _percentile(submits, 50) * 1000}


# --- 2. import and export -------------------------------------------------------------------------------------


def bench_transfer(workdir: Path, database_url: str | None, images: list[bytes], archive: bytes) -> dict[str, Any]:
    with running_app(workdir / "data", database_url, "embedded") as (container, client):
        started = time.perf_counter()
        staged_id = _stage(client, archive)
        upload_s = time.perf_counter() - started
        prepare = _run(client, "prepare_dataset_for_import", interval=0.05, staged_dataset_id=staged_id)
        head = container.store.max_position()
        started, cpu = time.perf_counter(), time.process_time()
        imported = _run(client, "import_dataset_as_new_project", interval=0.05, staged_dataset_id=staged_id,
                        name="Bench import")
        import_wall_s, import_cpu_s = time.perf_counter() - started, time.process_time() - cpu
        events = container.store.max_position() - head
        result = imported["result"]
        assert (result["items"], result["annotations"]) == (len(images), 3 * len(images)), result
        started, cpu = time.perf_counter(), time.process_time()
        exported = _run(client, "export_dataset", result["project_id"], interval=0.05, format="coco")
        export_wall_s, export_cpu_s = time.perf_counter() - started, time.process_time() - cpu
        while client.simulate_get(f"/api/staged_datasets/{exported['result']['staged_dataset_id']}").status_code != 200:
            time.sleep(0.01)
        download = client.simulate_get(f"/api/staged_datasets/{exported['result']['staged_dataset_id']}/archive")
        assert download.status_code == 200
    prepare_s = _seconds_between(prepare["started_at"], prepare["finished_at"])
    import_s = _seconds_between(imported["started_at"], imported["finished_at"])
    export_s = _seconds_between(exported["started_at"], exported["finished_at"])
    return {"upload_s": upload_s, "prepare_s": prepare_s, "import_s": import_s, "import_wall_s": import_wall_s,
            "import_rate": len(images) / import_s, "events_per_image": events / len(images),
            "import_cpu_s": import_cpu_s, "export_cpu_s": export_cpu_s,
            "export_s": export_s, "export_wall_s": export_wall_s, "export_rate": len(images) / export_s,
            "export_archive_bytes": len(download.content)}


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temp = tempfile.mkstemp(dir=path.parent, prefix=".put-", suffix=".tmp")
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def bench_baseline(images: list[bytes], workdir: Path) -> tuple[float, float]:
    """(wall, CPU) seconds for decode + 256-px thumbnail + sha256 + atomic writes of original and thumbnail."""
    root = workdir / "baseline"
    started, cpu = time.perf_counter(), time.process_time()
    for data in images:
        picture = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
        assert picture is not None
        height, width = picture.shape[:2]
        scale = 256 / max(height, width)
        small = cv2.resize(picture, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        ok, thumbnail = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 85])
        assert ok
        for blob in (data, thumbnail.tobytes()):
            digest = hashlib.sha256(blob).hexdigest()
            _write_atomically(root / digest[:2] / digest[2:4] / digest, blob)
    return time.perf_counter() - started, time.process_time() - cpu


def bench_direct_commands(images: list[bytes], workdir: Path) -> tuple[float, float]:
    """(wall, CPU) seconds per image for DatasetCommands.upload + annotate called directly (no job, no HTTP)."""
    from domain.project import NewLabel, Project
    from entrypoints.bootstrap import bootstrap
    from entrypoints.config import Config

    container = bootstrap(Config(data_dir=workdir / "direct"))
    try:
        project_id = container.projects.create("Direct", "detection", False, [NewLabel("crate")], "bench").id
        label_id = container.store.load(Project, project_id).labels[0].id
        box = {"labels": [{"id": label_id}], "shape": {"type": "rectangle", "x": 10, "y": 10, "width": 120.5,
                                                       "height": 90.25}}
        started, cpu = time.perf_counter(), time.process_time()
        for n, data in enumerate(images):
            item_id = container.dataset.upload(project_id, data, f"direct_{n}.jpg", "import", "bench").id
            container.dataset.annotate(project_id, item_id, [box, box, box], "bench")
        return (time.perf_counter() - started) / len(images), (time.process_time() - cpu) / len(images)
    finally:
        container.close()


# --- main ----------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts among {', '.join(PARTS)}")
    parser.add_argument("--jobs", type=int, default=JOBS)
    parser.add_argument("--images", type=int, default=IMAGES)
    parser.add_argument("--postgres", action="store_true", help="also run the transfer part on PostgreSQL")
    args = parser.parse_args(argv)
    parts = args.only.split(",")
    databases = Databases()
    _say(f"dataset jobs bench: {os.cpu_count()} CPUs, load average {_loadavg()}")
    try:
        with tempfile.TemporaryDirectory(prefix="vf-jobs-bench-") as tmp:
            workdir = Path(tmp)
            if "latency" in parts:
                _latency_part(workdir, databases, args.jobs)
            if "transfer" in parts:
                _transfer_part(workdir, databases, args.images, args.postgres)
    finally:
        databases.drop_all()
    _say(f"load average at the end {_loadavg()}")


def _latency_part(workdir: Path, databases: Databases, jobs: int) -> None:
    _say(f"\n1. job submit -> running latency ({jobs} prepare_dataset_for_import jobs, one at a time)")
    for broker, database in (("embedded", "sqlite"), ("redis", "sqlite"), ("embedded", "postgres"),
                             ("redis", "postgres")):
        url = databases.new() if database == "postgres" else None
        figures = bench_latency(workdir / f"latency-{broker}-{database}", url, broker, jobs)
        _say(f"   {broker:8} {database:8}  p50 {figures['p50_ms']:6.1f} ms  p95 {figures['p95_ms']:6.1f} ms  "
             f"max {figures['max_ms']:6.1f} ms  (submit -> done round trip p50 {figures['round_trip_p50_ms']:.0f} ms)"
             f"  load {_loadavg()}")


def _transfer_part(workdir: Path, databases: Databases, count: int, postgres: bool) -> None:
    _say(f"\n2. import and export of a {count}-image COCO dataset (640x480 JPEGs, 3 boxes each)")
    started = time.perf_counter()
    images = make_images(count)
    archive = coco_zip(images)
    _say(f"   generated in {time.perf_counter() - started:.1f} s: {sum(map(len, images)) / count / 1024:.0f} kB per "
         f"image, archive {len(archive) / 1024**2:.1f} MB")
    baseline_s, baseline_cpu = bench_baseline(images, workdir)
    _say(f"   baseline (decode + thumbnail + sha256 + 2 atomic writes, in-process): {baseline_s:.1f} s = "
         f"{count / baseline_s:.0f} images/s; CPU {baseline_cpu:.1f} s = {baseline_cpu / count * 1000:.1f} ms per "
         f"image  load {_loadavg()}")
    direct, direct_cpu = bench_direct_commands(images[:DIRECT_IMAGES], workdir)
    _say(f"   DatasetCommands.upload + annotate directly ({min(count, DIRECT_IMAGES)} images, SQLite): "
         f"{direct * 1000:.1f} ms per image = {1 / direct:.0f} images/s; CPU {direct_cpu * 1000:.1f} ms per image"
         f"  load {_loadavg()}")
    for database in ("sqlite", "postgres") if postgres else ("sqlite",):
        url = databases.new() if database == "postgres" else None
        f = bench_transfer(workdir / f"transfer-{database}", url, images, archive)
        _say(f"   [{database}] upload to staging {f['upload_s']:.1f} s, prepare job {f['prepare_s']:.1f} s")
        _say(f"   [{database}] import job {f['import_s']:.1f} s = {f['import_rate']:.1f} images/s "
             f"(submit -> done {f['import_wall_s']:.1f} s; {f['events_per_image']:.2f} events per image); "
             f"{f['import_s'] / baseline_s:.1f}x the baseline's wall time; process CPU {f['import_cpu_s']:.1f} s = "
             f"{f['import_cpu_s'] / count * 1000:.1f} ms per image, {f['import_cpu_s'] / baseline_cpu:.1f}x the "
             f"baseline's CPU")
        _say(f"   [{database}] export job (coco) {f['export_s']:.1f} s = {f['export_rate']:.0f} images/s "
             f"(submit -> done {f['export_wall_s']:.1f} s; archive {f['export_archive_bytes'] / 1024**2:.1f} MB; "
             f"process CPU {f['export_cpu_s']:.1f} s)  load {_loadavg()}")

if __name__ == "__main__":
    main()
