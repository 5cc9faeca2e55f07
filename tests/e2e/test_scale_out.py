"""Scale-out as users run it: PostgreSQL for events and read models, Redis for Dramatiq, a separate worker
process (started by `viewfinder serve` when VIEWFINDER_REDIS_URL is set): train a model, run it live."""

import os
import time
import uuid
from pathlib import Path

import cv2
import numpy as np
import pytest
import redis
import requests

from entrypoints.config import Config
from tests.e2e.conftest import Server

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
REDIS_URL = "redis://127.0.0.1:6379/0"


def _shape(kind: int) -> np.ndarray:
    image = np.full((64, 64, 3), 30, np.uint8)
    if kind == 0:
        cv2.circle(image, (32, 32), 15, (200, 200, 255), -1)
    else:
        cv2.rectangle(image, (17, 17), (47, 47), (200, 255, 200), -1)
    return image


def _until(condition, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def scale_out(postgres_database: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    namespace = f"vf-e2e-{uuid.uuid4().hex[:8]}"
    server = Server(Config(data_dir=tmp_path / "data", database_url=postgres_database), tmp_path / "serve.log")
    server.env.update(VIEWFINDER_REDIS_URL=REDIS_URL, VIEWFINDER_REDIS_NAMESPACE=namespace)
    server.start(timeout=60)
    yield server
    server.kill()
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{namespace}*"):
        client.delete(key)


def test_a_model_trained_on_a_redis_worker_runs_live_with_postgresql_read_models(scale_out: Server,
                                                                                  tmp_path: Path) -> None:
    base = scale_out.url
    assert requests.get(f"{base}/api/health", timeout=5).json()["broker"] == {"ok": True, "kind": "redis"}
    project = requests.post(f"{base}/api/projects", json={"name": "Parts", "task": {
        "task_type": "classification", "exclusive_labels": True,
        "labels": [{"name": "circle"}, {"name": "square"}]}}, timeout=10).json()
    pid, labels = project["id"], [label["id"] for label in project["task"]["labels"]]
    for i in range(24):
        item = requests.post(f"{base}/api/projects/{pid}/dataset/items", timeout=10,
                             data=cv2.imencode(".png", _shape(i % 2))[1].tobytes(),
                             headers={"Content-Type": "image/png"}).json()
        requests.post(f"{base}/api/projects/{pid}/dataset/items/{item['id']}/annotations", timeout=10, json={
            "annotations": [{"labels": [{"id": labels[i % 2]}], "shape": {"type": "full_image"}}]})
    requests.patch(f"{base}/api/projects/{pid}/training_configuration", json={"training.max_epochs": 5}, timeout=10)

    job = requests.post(f"{base}/api/jobs", json={"job_type": "train", "project_id": pid}, timeout=10).json()
    job = _until(lambda: (j := requests.get(f"{base}/api/jobs/{job['id']}", timeout=5).json())["status"] in (
        "done", "failed", "cancelled") and j, 120, "the train job")
    assert job["status"] == "done", job
    assert "started on" in requests.get(f"{base}/api/jobs/{job['id']}/logs", timeout=30).text

    video, out = tmp_path / "belt.mp4", tmp_path / "out"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 25, (64, 64))
    for i in range(100):
        writer.write(_shape(i // 10 % 2))
    writer.release()
    source = requests.post(f"{base}/api/sources", timeout=10, json={
        "name": "belt", "source_type": "video_file", "video_path": str(video), "loop": True}).json()
    sink = requests.post(f"{base}/api/sinks", timeout=10, json={
        "name": "out", "sink_type": "folder", "folder_path": str(out), "output_formats": ["predictions"],
        "rate_limit": 10}).json()
    configured = requests.patch(f"{base}/api/projects/{pid}/pipeline", timeout=10, json={
        "source_id": source["id"], "sink_id": sink["id"], "model_id": job["result"]["model_id"]})
    assert configured.status_code == 200
    assert requests.post(f"{base}/api/projects/{pid}/pipeline:enable", timeout=10).status_code == 200
    _until(lambda: requests.get(f"{base}/api/projects/{pid}/pipeline", timeout=5).json()["status"] == "running",
           30, "the pipeline to run on the worker")
    _until(lambda: out.exists() and len(os.listdir(out)) >= 5, 15, "predictions in the folder")
    assert requests.post(f"{base}/api/projects/{pid}/pipeline:capture", timeout=10).status_code == 202
    captured = _until(lambda: [i for i in requests.get(f"{base}/api/projects/{pid}/dataset/items", timeout=5,
                                                       params={"sort": "-created_at"}).json()["items"]
                               if i["source"] == "capture"], 15, "the captured frame")
    assert len(captured) == 1
    frames = _until(lambda: (f := requests.get(f"{base}/api/projects/{pid}/pipeline/metrics", timeout=5,
                                                params={"time_window": 10}).json()["frames"])["dispatched"] and f,
                    10, "metrics shared by the worker's runtime")
    assert frames["inferred"] >= frames["dispatched"] > 0
    assert requests.post(f"{base}/api/projects/{pid}/pipeline:disable", timeout=10).json()["status"] == "idle"
