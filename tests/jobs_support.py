"""Shared helpers of the job tests: the app in both broker modes, waiting for a job, SSE parsing,
Redis namespaces and process trees."""

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import dramatiq
import pytest
import redis
from falcon.testing import TestClient

from adapters.dramatiq_queue import start_worker
from entrypoints.bootstrap import Container, bootstrap
from entrypoints.config import Config
from entrypoints.engine import Engine
from entrypoints.http.app import create_app

REDIS_URL = os.environ.get("VIEWFINDER_TEST_REDIS", "redis://127.0.0.1:6379/0")
TERMINAL = ("done", "failed", "cancelled")
BROKER_MODES = ["embedded", pytest.param("redis", marks=pytest.mark.redis)]
JOB = "diagnostic_sleep"


def unique_namespace() -> str:
    return f"vf-test-{uuid.uuid4().hex[:12]}"


def delete_redis_namespace(namespace: str, url: str = REDIS_URL) -> None:
    """Remove the broker's and the abort backend's keys of one namespace."""
    client = redis.Redis.from_url(url)
    try:
        for pattern in (f"{namespace}:*", f"{namespace}-abort:*"):
            keys = list(client.scan_iter(match=pattern, count=500))
            if keys:
                client.delete(*keys)
    finally:
        client.close()


def redis_keys(namespace: str, url: str = REDIS_URL) -> list[bytes]:
    client = redis.Redis.from_url(url)
    try:
        return [*client.scan_iter(match=f"{namespace}:*"), *client.scan_iter(match=f"{namespace}-abort:*")]
    finally:
        client.close()


def wait_until(condition: Callable[[], Any], timeout: float, interval: float = 0.02,
               what: str = "the condition") -> Any:
    """Poll `condition` until it returns something truthy; that value is returned."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


@dataclass
class JobsApp:
    """The full Falcon app on a container whose engine (and, with Redis, a worker) runs in this process."""

    container: Container
    client: TestClient
    broker_mode: str

    def submit(self, job_type: str = JOB, project_id: str | None = None, **parameters: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"job_type": job_type, "parameters": parameters}
        if project_id is not None:
            body["project_id"] = project_id
        response = self.client.simulate_post("/api/jobs", json=body)
        assert response.status_code == 202, response.text
        return response.json

    def get(self, job_id: str) -> dict[str, Any]:
        response = self.client.simulate_get(f"/api/jobs/{job_id}")
        assert response.status_code == 200, response.text
        return response.json

    def cancel(self, job_id: str) -> Any:
        return self.client.simulate_post(f"/api/jobs/{job_id}:cancel")

    def wait_for(self, job_id: str, statuses: tuple[str, ...], timeout: float = 10.0,
                 interval: float = 0.02) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            job = self.get(job_id)
            return job if job["status"] in statuses else None

        return wait_until(reached, timeout, interval, f"job {job_id} to be {' or '.join(statuses)}")

    def log_lines(self, job_id: str) -> list[str]:
        return [row["line"] for row in self.container.jobs.log.lines_after(uuid.UUID(job_id), 0)]

    def event_names(self, job_id: str) -> list[str]:
        return [type(event).__name__ for event in self.container.store.history_of(uuid.UUID(job_id))]

    def finish_everything(self, timeout: float = 10.0) -> None:
        """Cancel what still runs and wait for it, so that stopping the worker does not hang."""
        unfinished = [job for job in self.client.simulate_get("/api/jobs").json if job["status"] not in TERMINAL]
        for job in unfinished:
            self.cancel(job["id"])
        deadline = time.monotonic() + timeout
        for job in unfinished:
            while self.get(job["id"])["status"] not in TERMINAL and time.monotonic() < deadline:
                time.sleep(0.05)


@contextmanager
def running_jobs_app(config: Config, broker_mode: str) -> Iterator[JobsApp]:
    """The app with diagnostic jobs, on the embedded StubBroker or on Redis with a namespace of its own."""
    namespace = unique_namespace()
    config = replace(config, diagnostic_jobs=True)
    if broker_mode == "redis":
        config = replace(config, redis_url=REDIS_URL, redis_namespace=namespace)
    container = bootstrap(config)
    engine = Engine(container).start_in_thread()
    worker: dramatiq.Worker | None = None
    if broker_mode == "redis":
        worker = start_worker(container.jobs.broker, config.worker_threads)
    app = JobsApp(container, TestClient(create_app(container)), broker_mode)
    try:
        yield app
    finally:
        try:
            app.finish_everything()
        finally:
            if worker is not None:
                worker.stop(timeout=5000)
            engine.stop()
            container.close()
            if broker_mode == "redis":
                delete_redis_namespace(namespace)


def jobs_config(tmp_path: Path, **changes: Any) -> Config:
    """SQLite in a temporary directory, a fast engine, diagnostic jobs on."""
    settings: dict[str, Any] = {"data_dir": tmp_path / "data", "consistency_timeout_s": 10.0,
                                "engine_poll_interval_s": 0.005, "diagnostic_jobs": True}
    return Config(**{**settings, **changes})


# --- Server-Sent Events -------------------------------------------------------------------------------


@dataclass
class SseEvent:
    event: str
    data: str
    id: str | None
    at: float  # time.monotonic() when it arrived


def sse_events(response: Any) -> Iterator[SseEvent]:
    """Parse a streamed `requests` response into events (comments such as keep-alives are skipped)."""
    event, data, event_id = "message", list[str](), None
    for raw in response.iter_lines(chunk_size=None, decode_unicode=False):
        line = raw.decode()
        if line == "":
            if data:
                yield SseEvent(event, "\n".join(data), event_id, time.monotonic())
            event, data, event_id = "message", list[str](), None
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                event_id = value


# --- processes ------------------------------------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def descendants_of(pid: int) -> list[int]:
    result, todo = [], children_of(pid)
    while todo:
        child = todo.pop()
        result.append(child)
        todo += children_of(child)
    return result


def command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().rstrip("\0").split("\0")
    except OSError:
        return []


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
