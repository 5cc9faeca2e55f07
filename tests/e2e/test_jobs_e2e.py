"""Jobs through the real processes: SSE streams through gunicorn, and crash recovery after SIGKILL of the
embedded server or of one Redis worker."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import requests

from entrypoints.config import Config
from tests.e2e.conftest import Server, free_port
from tests.jobs_support import (
    JOB,
    REDIS_URL,
    TERMINAL,
    SseEvent,
    alive,
    children_of,
    command_line,
    cpu_seconds,
    delete_redis_namespace,
    descendants_of,
    sse_events,
    unique_namespace,
    wait_until,
)

REPO = Path(__file__).parents[2]
STARTED = re.compile(rf"^Attempt (\d+) of {JOB} started on (.+):(\d+)\.$")


class JobServer(Server):
    """`viewfinder serve` with diagnostic jobs; waits out slow first answers on a loaded machine."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        super().__init__(Config(data_dir=data_dir), log_path)
        self.env["VIEWFINDER_DIAGNOSTIC_JOBS"] = "1"

    def start(self, timeout: float = 30) -> "JobServer":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "serve"], env=self.env,
                                        stdout=log, stderr=subprocess.STDOUT, cwd=REPO)

        def healthy() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"viewfinder serve exited; log:\n{self.log_path.read_text()[-3000:]}")
            try:
                return requests.get(f"{self.url}/api/health", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(healthy, timeout, 0.1, "viewfinder serve to be healthy")
        return self


def _power_cut(server: Server) -> None:
    """SIGKILL the supervisor and every process under it: nothing gets to shut down cleanly."""
    if server.process is None or server.process.poll() is not None:
        return
    for pid in descendants_of(server.process.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    server.kill(signal.SIGKILL)


@pytest.fixture(scope="module")
def job_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One embedded `viewfinder serve` (SQLite, StubBroker) shared by the stream tests."""
    tmp = tmp_path_factory.mktemp("jobs-e2e")
    server = JobServer(tmp / "data", tmp / "serve.log").start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.kill(signal.SIGTERM)


def _submit(url: str, **parameters: Any) -> dict[str, Any]:
    response = requests.post(f"{url}/api/jobs", json={"job_type": JOB, "parameters": parameters}, timeout=10)
    assert response.status_code == 202, response.text
    return response.json()


def _get(url: str, job_id: str) -> dict[str, Any]:
    response = requests.get(f"{url}/api/jobs/{job_id}", timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def _wait_for(url: str, job_id: str, statuses: tuple[str, ...], timeout: float) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        job = _get(url, job_id)
        return job if job["status"] in statuses else None

    return wait_until(reached, timeout, 0.05, f"job {job_id} to be {' or '.join(statuses)}")


def _stream(url: str, job_id: str, which: str, headers: dict[str, str] | None = None,
            limit: int | None = None) -> list[SseEvent]:
    """Read a job's SSE stream until the server closes it (or `limit` events arrived)."""
    with requests.get(f"{url}/api/jobs/{job_id}/{which}", stream=True, timeout=(5, 20),
                      headers=headers or {}) as response:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/event-stream")
        events = []
        for event in sse_events(response):
            events.append(event)
            if limit is not None and len(events) >= limit:
                break
        return events


def _check_status_events(events: list[SseEvent], final: str = "done") -> list[dict[str, Any]]:
    assert events and all(event.event == "status" for event in events)
    jobs = [json.loads(event.data) for event in events]
    assert all(earlier != later for earlier, later in pairwise(jobs)), "a status event repeated the job"
    assert [job["status"] for job in jobs].count(final) == 1 and jobs[-1]["status"] == final
    assert all(job["status"] not in TERMINAL for job in jobs[:-1])
    progress = [job["progress"] for job in jobs]
    assert progress == sorted(progress)
    return jobs


def _check_log_events(events: list[SseEvent]) -> list[str]:
    assert events[-1].event == "end" and all(event.event == "log" for event in events[:-1])
    assert [int(event.id or 0) for event in events[:-1]] == list(range(1, len(events)))
    lines = [event.data for event in events[:-1]]
    assert STARTED.match(lines[0]) and lines[-1] == "Finished."
    return lines


# --- streams --------------------------------------------------------------------------------------------


def test_the_status_stream_sends_the_job_on_every_change_and_closes_after_it_ends(job_server: Server) -> None:
    job = _submit(job_server.url, seconds=1.0, steps=5)
    opened = time.monotonic()

    events = _stream(job_server.url, job["id"], "status")

    jobs = _check_status_events(events)
    assert "running" in [job["status"] for job in jobs]
    assert jobs[-1]["progress"] == 100 and jobs[-1]["result"] == {"slept_s": 1.0, "steps": 5}
    assert len({job["progress"] for job in jobs}) >= 4  # progress of the steps, as it happened
    assert events[-1].at - events[0].at > 0.5, "the events came together instead of as the job changed"
    assert time.monotonic() - opened < 10


def test_the_status_stream_of_a_finished_job_sends_it_once_and_closes(job_server: Server) -> None:
    job = _submit(job_server.url, seconds=0, steps=1)
    _wait_for(job_server.url, job["id"], ("done",), 10)

    events = _stream(job_server.url, job["id"], "status")

    assert [(event.event, json.loads(event.data)["status"]) for event in events] == [("status", "done")]


def test_the_log_stream_sends_past_lines_then_new_ones_and_ends_with_the_job(job_server: Server) -> None:
    job = _submit(job_server.url, seconds=1.5, steps=6)
    wait_until(lambda: _get(job_server.url, job["id"])["progress"] >= 40, 10, 0.02, "two steps")
    opened = time.monotonic()

    events = _stream(job_server.url, job["id"], "logs")

    lines = _check_log_events(events)
    assert lines[1:] == [f"step {step} of 6 done" for step in range(1, 7)] + ["Finished."]
    past = [event for event in events if event.at - opened < 0.15]
    assert len(past) >= 3, "the lines written before the stream opened did not come first, at once"
    assert events[-2].at - events[0].at > 0.4, "the new lines did not come as they were written"
    assert _get(job_server.url, job["id"])["status"] == "done"

    resumed = _stream(job_server.url, job["id"], "logs", headers={"Last-Event-ID": "3"})

    assert [event.id for event in resumed[:-1]] == [str(seq) for seq in range(4, len(events))]
    assert resumed[-1].event == "end"


def test_concurrent_listeners_all_finish_while_other_requests_are_answered_promptly(job_server: Server) -> None:
    url = job_server.url
    job = _submit(url, seconds=4.0, steps=20)  # a request stuck behind the streams would wait seconds
    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = [pool.submit(_stream, url, job["id"], "status") for _ in range(5)]
        logs = [pool.submit(_stream, url, job["id"], "logs") for _ in range(5)]
        time.sleep(0.3)
        slowest = 0.0
        while not all(future.done() for future in statuses + logs):
            for path in ("/api/health", "/api/jobs", f"/api/jobs/{job['id']}"):
                started = time.monotonic()
                assert requests.get(f"{url}{path}", timeout=10).status_code == 200
                slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.05)
        status_streams = [future.result(timeout=0) for future in statuses]
        log_streams = [future.result(timeout=0) for future in logs]

    assert slowest < 1.5, f"a plain request took {slowest:.2f} s while streams were open"
    for events in status_streams:
        assert _check_status_events(events)[-1]["result"] == {"slept_s": 4.0, "steps": 20}
    expected = _check_log_events(log_streams[0])
    for events in log_streams:
        assert _check_log_events(events) == expected


def _api_processes(server: Server) -> list[int]:
    assert server.process is not None
    api = [pid for pid in children_of(server.process.pid) if command_line(pid)[-2:] == ["entrypoints.cli", "api"]]
    assert len(api) == 1, "no API process under the supervisor"
    workers = descendants_of(api[0])
    assert workers, "no gunicorn worker under the API process"
    return [api[0], *workers]


def test_a_waiting_stream_does_not_keep_the_api_busy(job_server: Server) -> None:
    job = _submit(job_server.url, seconds=3.5, steps=1)  # one step: nothing changes for 3.5 s
    _wait_for(job_server.url, job["id"], ("running",), 10)
    with ThreadPoolExecutor(max_workers=2) as pool:
        status = pool.submit(_stream, job_server.url, job["id"], "status")
        logs = pool.submit(_stream, job_server.url, job["id"], "logs")
        time.sleep(0.6)
        api = _api_processes(job_server)
        before = sum(cpu_seconds(pid) for pid in api)
        time.sleep(2.0)
        used = sum(cpu_seconds(pid) for pid in api) - before
        assert not status.done() and not logs.done(), "the streams should still be waiting"
        _check_status_events(status.result(timeout=15))
        _check_log_events(logs.result(timeout=15))

    assert used < 0.5, f"the API used {used:.2f} s of CPU in 2 s while two streams waited"


def test_listeners_that_went_away_give_their_api_threads_back_promptly(tmp_path: Path) -> None:
    server = JobServer(tmp_path / "data", tmp_path / "serve.log")
    server.env.update(VIEWFINDER_API_WORKERS="1", VIEWFINDER_API_THREADS="2")
    server.start()
    try:
        job = _submit(server.url, seconds=8, steps=1)  # nothing changes for 8 s
        _wait_for(server.url, job["id"], ("running",), 10)
        for which in ("status", "logs"):  # one listener per thread; each reads one event and leaves
            assert len(_stream(server.url, job["id"], which, limit=1)) == 1
        time.sleep(0.5)

        started = time.monotonic()
        answered = requests.get(f"{server.url}/api/health", timeout=2.5)

        assert answered.status_code == 200 and time.monotonic() - started < 2.5
    finally:
        _power_cut(server)


# --- crash safety ---------------------------------------------------------------------------------------


def _attempts(lines: list[str]) -> list[tuple[int, int]]:
    """(attempt, worker pid) of every 'Attempt N ... started on host:pid' line."""
    return [(int(m.group(1)), int(m.group(3))) for m in map(STARTED.match, lines) if m]


@pytest.mark.parametrize("victims", ["supervisor", "process tree"])
def test_a_job_interrupted_by_sigkill_of_the_server_is_never_left_running(tmp_path: Path, victims: str) -> None:
    """SIGKILL of the supervisor gives its children SIGTERM (PDEATHSIG): the engine may finish attempt 1 in its
    grace period, or leave it to the next engine. SIGKILL of the whole tree leaves it to the next engine."""
    server = JobServer(tmp_path / "data", tmp_path / "serve.log").start()
    try:
        job = _submit(server.url, seconds=3.0, steps=15)
        wait_until(lambda: _get(server.url, job["id"])["progress"] >= 20, 10, 0.02, "the job to be under way")
        assert server.process is not None
        if victims == "process tree":
            _power_cut(server)
        else:
            server.kill(signal.SIGKILL)

        server.start()
        ended = _wait_for(server.url, job["id"], TERMINAL, 15)

        assert ended["status"] in ("done", "failed"), ended
        if ended["status"] == "failed":
            assert "interrupted" in ended["error"] and ended["message"] == "Failed: interrupted."
            return
        assert ended["result"] == {"slept_s": 3.0, "steps": 15}
        lines = _check_log_events(_stream(server.url, job["id"], "logs"))
        attempts = [attempt for attempt, _ in _attempts(lines)]
        if victims == "process tree":
            assert ended["attempt"] == 2 and attempts == [1, 2]
        else:
            assert ended["attempt"] in (1, 2) and attempts == list(range(1, ended["attempt"] + 1))
    finally:
        _power_cut(server)


class ScaleOut:
    """engine, api and two workers as separate processes on Redis, with a namespace of their own."""

    def __init__(self, tmp_path: Path) -> None:
        self.namespace = unique_namespace()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "VIEWFINDER_DATA_DIR": str(tmp_path / "data"), "VIEWFINDER_PORT": str(self.port),
                    "VIEWFINDER_API_WORKERS": "1", "VIEWFINDER_ENGINE_POLL_INTERVAL": "0.005",
                    "VIEWFINDER_REDIS_URL": REDIS_URL, "VIEWFINDER_REDIS_NAMESPACE": self.namespace,
                    "VIEWFINDER_JOB_STALE_AFTER": "3", "VIEWFINDER_DIAGNOSTIC_JOBS": "1"}
        self.env.pop("VIEWFINDER_DATABASE_URL", None)
        self.log_dir = tmp_path
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def spawn(self, name: str, role: str) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("ab")
        process = subprocess.Popen([sys.executable, "-m", "entrypoints.cli", role], env=self.env, cwd=REPO,
                                   stdout=log, stderr=subprocess.STDOUT)
        self.processes[name] = process
        return process

    def start(self) -> "ScaleOut":
        self.spawn("engine", "engine")  # first: it creates the tables the others use
        time.sleep(0.5)
        for name, role in (("api", "api"), ("worker-1", "worker"), ("worker-2", "worker")):
            self.spawn(name, role)

        def healthy() -> bool:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise AssertionError(f"{name} exited:\n{(self.log_dir / f'{name}.log').read_text()[-3000:]}")
            try:
                return requests.get(f"{self.url}/api/health", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(healthy, 30, 0.1, "the API")
        return self

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        delete_redis_namespace(self.namespace)


@pytest.fixture
def scale_out(tmp_path: Path) -> Iterator[ScaleOut]:
    processes = ScaleOut(tmp_path)
    try:
        yield processes.start()
    finally:
        processes.stop()


@pytest.mark.redis
def test_a_job_whose_redis_worker_is_killed_is_requeued_and_finished_by_another_worker(
        scale_out: ScaleOut) -> None:
    url = scale_out.url
    workers = {scale_out.processes[name].pid for name in ("worker-1", "worker-2")}
    job = _submit(url, seconds=3.0, steps=15)
    wait_until(lambda: _get(url, job["id"])["progress"] >= 20, 15, 0.02, "the job to be under way")
    first = _stream(url, job["id"], "logs", limit=1)
    [(attempt, victim)] = _attempts([first[0].data])
    assert attempt == 1 and victim in workers, first[0].data

    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: not alive(victim), 5, 0.05, "the worker to die")
    killed_at = time.monotonic()
    ended = _wait_for(url, job["id"], TERMINAL, 20)

    assert ended["status"] == "done", ended
    assert ended["attempt"] == 2 and ended["result"] == {"slept_s": 3.0, "steps": 15}
    assert time.monotonic() - killed_at < 15
    lines = _check_log_events(_stream(url, job["id"], "logs"))
    (survivor,) = workers - {victim}
    assert _attempts(lines) == [(1, victim), (2, survivor)]
    assert all(process.poll() is None for name, process in scale_out.processes.items()
               if process.pid != victim), "the other processes should keep running"
