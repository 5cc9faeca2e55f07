"""The Job aggregate's state machine, the job commands, the dispatch policy and the runner, on the
in-memory (POPO) event store with hand-written fakes."""

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.errors import InvalidInputError
from application.event_store import EventStore
from application.jobs.commands import MAX_ATTEMPTS, JobCommands
from application.jobs.dispatch import WhenJobSubmittedEnqueueIt
from application.jobs.handler import JobCancelledError, JobContext, JobHandler
from application.jobs.log import JobLog
from application.jobs.runner import JobRunner
from application.ports.job_queue import JobQueue
from domain.job import JobFinishedError, StaleAttemptError

IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
USER = "alice"
WORKER = "test-host:4242"


@pytest.fixture
def store() -> Iterator[EventStore]:
    store = EventStore(env=IN_MEMORY)
    yield store
    store.close()


@pytest.fixture
def commands(store: EventStore) -> JobCommands:
    return JobCommands(store)


def _submit(commands: JobCommands, job_type: str = "sleep", **parameters: Any) -> UUID:
    return commands.submit(job_type, None, parameters, USER).id


def _running(commands: JobCommands) -> UUID:
    job_id = _submit(commands)
    commands.start(job_id, 1, WORKER)
    return job_id


def _events(store: EventStore, job_id: UUID) -> list[str]:
    return [type(event).__name__ for event in store.history_of(job_id)]


# --- the aggregate --------------------------------------------------------------------------------------


def test_a_submitted_job_is_scheduled_as_attempt_one_and_survives_a_reload(store: EventStore,
                                                                          commands: JobCommands) -> None:
    project_id = uuid4()
    written = commands.submit("export_dataset", project_id, {"format": "coco"}, USER)

    job = commands.load(written.id)
    assert (job.job_type, job.project_id, job.parameters) == ("export_dataset", project_id, {"format": "coco"})
    assert (job.status, job.attempt, job.progress, job.message, job.error, job.result) == (
        "scheduled", 1, 0.0, "", None, None)
    assert written.position > 0
    assert store.history_of(written.id)[0].user == USER


def test_a_job_runs_from_scheduled_through_running_to_done(store: EventStore, commands: JobCommands) -> None:
    job_id = _submit(commands)

    assert commands.start(job_id, 1, WORKER).status == "running"
    commands.report(job_id, 1, 40, "step 2 of 5")
    assert (commands.load(job_id).progress, commands.load(job_id).message) == (40.0, "step 2 of 5")
    commands.finish(job_id, 1, {"items": 3})

    job = commands.load(job_id)
    assert (job.status, job.progress, job.result, job.message) == ("done", 100.0, {"items": 3}, "Done.")
    assert _events(store, job_id) == ["Submitted", "Started", "Progressed", "Finished"]
    assert store.history_of(job_id)[1].worker == WORKER


def test_progress_is_clamped_rounded_and_only_recorded_when_it_changes(store: EventStore,
                                                                     commands: JobCommands) -> None:
    job_id = _running(commands)

    commands.report(job_id, 1, 33.333, "a third")
    commands.report(job_id, 1, 33.333, "a third")
    assert commands.load(job_id).progress == 33.3
    commands.report(job_id, 1, 250, "too far")
    assert commands.load(job_id).progress == 100.0
    commands.report(job_id, 1, -5, "backwards")
    assert commands.load(job_id).progress == 0.0
    assert _events(store, job_id).count("Progressed") == 3


def test_a_failed_job_keeps_its_error_and_says_why(commands: JobCommands) -> None:
    job_id = _running(commands)

    commands.fail(job_id, 1, "OSError: disk full", "error")

    job = commands.load(job_id)
    assert (job.status, job.error, job.message) == ("failed", "OSError: disk full", "Failed: error.")


def test_cancelling_a_scheduled_job_cancels_it_at_once(store: EventStore, commands: JobCommands) -> None:
    job_id = _submit(commands)

    commands.cancel(job_id, USER)

    job = commands.load(job_id)
    assert (job.status, job.message) == ("cancelled", "Cancelled: cancelled before it started.")
    assert _events(store, job_id) == ["Submitted", "Cancelled"]
    with pytest.raises(StaleAttemptError):
        commands.start(job_id, 1, WORKER)


def test_cancelling_a_running_job_asks_its_worker_which_then_confirms(store: EventStore,
                                                                     commands: JobCommands) -> None:
    job_id = _running(commands)

    commands.cancel(job_id, USER)
    assert commands.load(job_id).status == "cancelling"
    commands.cancel(job_id, USER)  # asking again changes nothing
    commands.confirm_cancelled(job_id, 1, "stopped at a step boundary")

    job = commands.load(job_id)
    assert (job.status, job.message) == ("cancelled", "Cancelled: stopped at a step boundary.")
    assert _events(store, job_id) == ["Submitted", "Started", "CancelRequested", "Cancelled"]


def test_a_job_that_finishes_while_being_cancelled_ends_cancelled(commands: JobCommands) -> None:
    job_id = _running(commands)
    commands.cancel(job_id, USER)

    commands.finish(job_id, 1, {"items": 3})

    assert commands.load(job_id).status == "cancelled"


@pytest.mark.parametrize("end", ["finish", "fail", "cancel"])
def test_cancelling_a_finished_job_is_refused(commands: JobCommands, end: str) -> None:
    job_id = _running(commands)
    {"finish": lambda: commands.finish(job_id, 1, {}), "fail": lambda: commands.fail(job_id, 1, "x", "error"),
     "cancel": lambda: (commands.cancel(job_id, USER), commands.confirm_cancelled(job_id, 1, "asked"))}[end]()
    status = commands.load(job_id).status

    with pytest.raises(JobFinishedError, match=status):
        commands.cancel(job_id, USER)
    assert commands.load(job_id).status == status


def test_a_job_is_started_only_once_per_attempt(commands: JobCommands) -> None:
    job_id = _running(commands)

    with pytest.raises(StaleAttemptError):
        commands.start(job_id, 1, "another-host:1")
    with pytest.raises(StaleAttemptError):
        commands.start(job_id, 2, "another-host:1")


def test_requeueing_makes_a_new_attempt_and_refuses_the_old_one(store: EventStore, commands: JobCommands) -> None:
    job_id = _running(commands)
    commands.report(job_id, 1, 60, "more than half")

    job = commands.load(job_id)
    job.requeue("its worker died", USER)
    store.commit(job)

    job = commands.load(job_id)
    assert (job.status, job.attempt, job.progress, job.message) == (
        "scheduled", 2, 0.0, "Requeued: its worker died.")
    for stale in (lambda: commands.start(job_id, 1, WORKER), lambda: commands.report(job_id, 1, 70, "late"),
                  lambda: commands.finish(job_id, 1, {}), lambda: commands.fail(job_id, 1, "late", "error"),
                  lambda: commands.confirm_cancelled(job_id, 1, "late")):
        with pytest.raises(StaleAttemptError):
            stale()
    assert commands.start(job_id, 2, WORKER).status == "running"


@pytest.mark.parametrize("status", ["scheduled", "done"])
def test_only_a_running_job_can_be_requeued(commands: JobCommands, status: str) -> None:
    job_id = _submit(commands)
    if status == "done":
        commands.start(job_id, 1, WORKER)
        commands.finish(job_id, 1, {})
    job = commands.load(job_id)

    with pytest.raises(StaleAttemptError):
        job.requeue("why not", USER)


def test_an_interrupted_rerunnable_job_is_requeued_until_its_attempts_run_out(commands: JobCommands) -> None:
    job_id = _submit(commands)
    for attempt in range(1, MAX_ATTEMPTS):
        commands.start(job_id, attempt, WORKER)
        job = commands.interrupt(job_id, rerun=True, reason="the engine restarted")
        assert (job.status, job.attempt) == ("scheduled", attempt + 1)
    commands.start(job_id, MAX_ATTEMPTS, WORKER)

    job = commands.interrupt(job_id, rerun=True, reason="the engine restarted")

    assert (job.status, job.attempt) == ("failed", MAX_ATTEMPTS)
    assert job.message == "Failed: interrupted."
    assert job.error == "The job was interrupted: the engine restarted."


def test_an_interrupted_job_that_cannot_rerun_fails_as_interrupted(commands: JobCommands) -> None:
    job_id = _running(commands)

    job = commands.interrupt(job_id, rerun=False, reason="its worker sent no heartbeat for 10 s")

    assert (job.status, job.attempt, job.message) == ("failed", 1, "Failed: interrupted.")
    assert job.error == "The job was interrupted: its worker sent no heartbeat for 10 s."


def test_an_interrupted_job_that_was_being_cancelled_ends_cancelled(commands: JobCommands) -> None:
    job_id = _running(commands)
    commands.cancel(job_id, USER)

    job = commands.interrupt(job_id, rerun=True, reason="the engine restarted")

    assert (job.status, job.attempt) == ("cancelled", 1)
    assert "its worker stopped" in job.message


# --- the dispatch policy ----------------------------------------------------------------------------------


class RecordingQueue(JobQueue):
    def __init__(self) -> None:
        self.enqueued: list[tuple[UUID, int]] = []
        self.aborted: list[tuple[UUID, int]] = []

    def enqueue(self, job_id: UUID, attempt: int) -> None:
        self.enqueued.append((job_id, attempt))

    def abort(self, job_id: UUID, attempt: int) -> None:
        self.aborted.append((job_id, attempt))

    def start_pipeline(self, project_id: UUID, run: int) -> None:
        raise AssertionError("no pipeline is started by job dispatch")


def test_the_dispatch_policy_queues_each_attempt_and_aborts_on_cancel_request(store: EventStore,
                                                                             commands: JobCommands) -> None:
    queue = RecordingQueue()
    policy = WhenJobSubmittedEnqueueIt(queue, commands)
    job_id = _running(commands)
    commands.interrupt(job_id, rerun=True, reason="restart")
    commands.start(job_id, 2, WORKER)
    commands.cancel(job_id, USER)

    for event in store.history_of(job_id):
        policy.handle(event)

    assert queue.enqueued == [(job_id, 1), (job_id, 2)]
    assert queue.aborted == [(job_id, 2)]


# --- the runner -----------------------------------------------------------------------------------------


class InMemoryJobLog(JobLog):
    """JobLog's lines and heartbeats, kept in dictionaries."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.lines: dict[UUID, list[dict[str, Any]]] = {}
        self.beats: dict[UUID, tuple[int, str, float]] = {}
        self.lock = threading.Lock()

    def set_up(self) -> None:
        pass

    def append(self, job_id: UUID, line: str) -> None:
        with self.lock:
            lines = self.lines.setdefault(job_id, [])
            lines.append({"seq": len(lines) + 1, "at": self.clock(), "line": line})

    def lines_after(self, job_id: UUID, seq: int, limit: int = 500) -> list[dict[str, Any]]:
        with self.lock:
            return [line for line in self.lines.get(job_id, []) if line["seq"] > seq][:limit]

    def beat(self, job_id: UUID, attempt: int, worker: str) -> None:
        with self.lock:
            self.beats[job_id] = (attempt, worker, self.clock())

    def last_beat(self, job_id: UUID) -> tuple[int, float] | None:
        beat = self.beats.get(job_id)
        return (beat[0], beat[2]) if beat else None

    def text(self, job_id: UUID) -> list[str]:
        return [line["line"] for line in self.lines_after(job_id, 0)]


class FakeHandler(JobHandler):
    """Runs `body(context)`; counts its runs."""

    def __init__(self, job_type: str, body: Callable[[JobContext], dict[str, Any]]) -> None:
        self.job_type = job_type
        self.body = body
        self.runs = 0

    def run(self, context: JobContext) -> dict[str, Any]:
        self.runs += 1
        return self.body(context)


def _steps(context: JobContext) -> dict[str, Any]:
    assert context.user == USER, "a job acts as the user who submitted it"
    for step in range(4):
        context.progress(25 * step, f"step {step + 1}")
        context.log(f"step {step + 1} done")
    return {"steps": 4}


def _disk_full(context: JobContext) -> dict[str, Any]:
    context.log("writing")
    raise OSError("disk full")


def _bad_input(context: JobContext) -> dict[str, Any]:
    raise InvalidInputError("The staged dataset is empty.")


def _gives_up(context: JobContext) -> dict[str, Any]:
    raise JobCancelledError("The job was cancelled.")


def _until_cancelled(context: JobContext) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        context.progress(10, "waiting")
        time.sleep(0.005)
    return {"waited": True}


@pytest.fixture
def job_log() -> InMemoryJobLog:
    return InMemoryJobLog()


def _runner(commands: JobCommands, job_log: InMemoryJobLog, *handlers: FakeHandler) -> JobRunner:
    return JobRunner(commands, job_log, {handler.job_type: handler for handler in handlers}, WORKER,
                     heartbeat_s=0.01)


def test_the_runner_runs_an_attempt_to_done_with_progress_log_lines_and_heartbeats(
        commands: JobCommands, job_log: InMemoryJobLog) -> None:
    handler = FakeHandler("steps", _steps)
    job_id = _submit(commands, "steps")

    _runner(commands, job_log, handler).run(job_id, 1)

    job = commands.load(job_id)
    assert (job.status, job.result, job.progress) == ("done", {"steps": 4}, 100.0)
    assert job_log.text(job_id) == [f"Attempt 1 of steps started on {WORKER}.", "step 1 done", "step 2 done",
                                    "step 3 done", "step 4 done", "Finished."]


def test_the_runner_beats_while_a_handler_works(commands: JobCommands, job_log: InMemoryJobLog) -> None:
    def slow(context: JobContext) -> dict[str, Any]:
        time.sleep(0.1)
        return {}

    job_id = _submit(commands, "slow")

    _runner(commands, job_log, FakeHandler("slow", slow)).run(job_id, 1)

    beat = job_log.last_beat(job_id)
    assert beat is not None and beat[0] == 1 and time.time() - beat[1] < 5
    assert job_log.beats[job_id][1] == WORKER


def test_a_redelivered_attempt_of_a_finished_job_does_nothing(commands: JobCommands,
                                                             job_log: InMemoryJobLog) -> None:
    handler = FakeHandler("steps", _steps)
    job_id = _submit(commands, "steps")
    runner = _runner(commands, job_log, handler)
    runner.run(job_id, 1)
    lines = job_log.text(job_id)

    runner.run(job_id, 1)

    assert handler.runs == 1
    assert commands.load(job_id).status == "done"
    assert job_log.text(job_id) == lines


def test_a_stale_attempt_does_nothing(store: EventStore, commands: JobCommands, job_log: InMemoryJobLog) -> None:
    handler = FakeHandler("steps", _steps)
    job_id = _submit(commands, "steps")
    commands.start(job_id, 1, "dead-host:1")
    commands.interrupt(job_id, rerun=True, reason="its worker died")
    runner = _runner(commands, job_log, handler)

    runner.run(job_id, 1)

    assert handler.runs == 0 and job_log.text(job_id) == []
    assert commands.load(job_id).status == "scheduled"
    runner.run(job_id, 2)
    assert (commands.load(job_id).status, commands.load(job_id).attempt, handler.runs) == ("done", 2, 1)


def test_an_attempt_of_an_unknown_or_cancelled_job_does_nothing(commands: JobCommands,
                                                               job_log: InMemoryJobLog) -> None:
    handler = FakeHandler("steps", _steps)
    cancelled = _submit(commands, "steps")
    commands.cancel(cancelled, USER)
    runner = _runner(commands, job_log, handler)

    runner.run(uuid4(), 1)
    runner.run(cancelled, 1)

    assert handler.runs == 0
    assert commands.load(cancelled).status == "cancelled"


def test_a_crashing_handler_fails_the_job_with_a_readable_error_and_the_traceback_in_the_log(
        commands: JobCommands, job_log: InMemoryJobLog) -> None:
    job_id = _submit(commands, "disk")

    _runner(commands, job_log, FakeHandler("disk", _disk_full)).run(job_id, 1)

    job = commands.load(job_id)
    assert (job.status, job.error, job.message) == ("failed", "OSError: disk full", "Failed: error.")
    lines = job_log.text(job_id)
    assert lines[1] == "writing"
    assert "Traceback (most recent call last):" in lines
    assert any('raise OSError("disk full")' in line for line in lines)
    assert lines[-1] == "OSError: disk full"


def test_a_handler_refusing_its_input_fails_the_job_with_that_sentence(commands: JobCommands,
                                                                      job_log: InMemoryJobLog) -> None:
    job_id = _submit(commands, "bad")

    _runner(commands, job_log, FakeHandler("bad", _bad_input)).run(job_id, 1)

    job = commands.load(job_id)
    assert (job.status, job.error, job.message) == (
        "failed", "The staged dataset is empty.", "Failed: invalid input.")
    assert job_log.text(job_id)[-1] == "Failed: The staged dataset is empty."


def test_a_handler_raising_job_cancelled_ends_the_job_cancelled(commands: JobCommands,
                                                               job_log: InMemoryJobLog) -> None:
    job_id = _submit(commands, "quit")

    _runner(commands, job_log, FakeHandler("quit", _gives_up)).run(job_id, 1)

    job = commands.load(job_id)
    assert (job.status, job.message) == ("cancelled", "Cancelled: stopped at a step boundary.")
    assert job_log.text(job_id)[-1] == "Cancelled between steps."


def test_a_cancel_request_reaches_a_running_handler_at_its_next_step(commands: JobCommands,
                                                                    job_log: InMemoryJobLog) -> None:
    handler = FakeHandler("patient", _until_cancelled)
    job_id = _submit(commands, "patient")
    runner = threading.Thread(target=_runner(commands, job_log, handler).run, args=(job_id, 1))
    runner.start()
    deadline = time.monotonic() + 5
    while commands.load(job_id).status != "running" and time.monotonic() < deadline:
        time.sleep(0.005)

    commands.cancel(job_id, USER)
    asked_at = time.monotonic()
    runner.join(timeout=5)

    assert not runner.is_alive()
    assert time.monotonic() - asked_at < 1.0
    job = commands.load(job_id)
    assert (job.status, job.result) == ("cancelled", None)


def test_an_attempt_superseded_while_it_runs_stops_quietly(commands: JobCommands, job_log: InMemoryJobLog) -> None:
    def superseded(context: JobContext) -> dict[str, Any]:
        context.progress(10, "first step")
        commands.interrupt(context.job_id, rerun=True, reason="its engine was thought dead")  # now attempt 2
        context.progress(20, "second step")
        return {"unreachable": True}

    job_id = _submit(commands, "superseded")

    _runner(commands, job_log, FakeHandler("superseded", superseded)).run(job_id, 1)

    job = commands.load(job_id)
    assert (job.status, job.attempt) == ("scheduled", 2)
    assert not any(line.startswith("Failed") for line in job_log.text(job_id))
    assert "superseded" in job_log.text(job_id)[-1]
