"""The engine's side of jobs: queue submitted attempts, abort cancelled ones, recover orphans."""

import logging
import time
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.job import Job, StaleAttemptError

from application.jobs.commands import JobCommands
from application.jobs.handler import JobHandler
from application.jobs.log import JobLog
from application.policies import Policy
from application.ports.job_queue import JobQueue
from application.ports.read_store import ReadStore
from application.queries.jobs import jobs_in

log = logging.getLogger("viewfinder.jobs")
ORPHAN_AFTER_S = 2.0  # several missed heartbeats (one every 0.25 s)


class WhenJobSubmittedEnqueueIt(Policy):
    """Submitted and requeued attempts go to the queue; cancel requests abort the running attempt."""

    name = "policy:dispatch_jobs"

    def __init__(self, queue: JobQueue, commands: JobCommands) -> None:
        self.queue = queue
        self.commands = commands

    def handle(self, event: Any) -> None:
        if isinstance(event, Job.Submitted):
            self.queue.enqueue(event.originator_id, 1)
        elif isinstance(event, Job.Requeued):
            self.queue.enqueue(event.originator_id, event.attempt)
        elif isinstance(event, Job.CancelRequested):
            self.queue.abort(event.originator_id, self.commands.load(event.originator_id).attempt)


class JobRecovery:
    """Finds attempts whose worker stopped (stale heartbeat) and re-runs or fails them."""

    def __init__(self, commands: JobCommands, job_log: JobLog, read: ReadStore, handlers: dict[str, JobHandler],
                 queue: JobQueue, stale_after_s: float = 10.0) -> None:
        self.commands = commands
        self.job_log = job_log
        self.read = read
        self.handlers = handlers
        self.queue = queue
        self.stale_after_s = stale_after_s

    def on_start(self, sole_worker: bool) -> None:
        """Re-queue scheduled attempts (an in-memory queue lost them); with the only worker here, a
        running attempt is an orphan of the previous process — once its heartbeat has stopped (the old
        process may still be finishing for a few seconds)."""
        for row in jobs_in(self.read, ("scheduled",)):
            self.queue.enqueue(UUID(row["id"]), int(row["attempt"]))
        if sole_worker:
            for row in jobs_in(self.read, ("running", "cancelling")):
                if time.time() - self._last_sign_of_life(row) > ORPHAN_AFTER_S:
                    self._interrupt(row, "the engine restarted while it ran")

    def check(self) -> None:
        for row in jobs_in(self.read, ("running", "cancelling")):
            if time.time() - self._last_sign_of_life(row) > self.stale_after_s:
                self._interrupt(row, f"its worker sent no heartbeat for {self.stale_after_s:.0f} s")

    def _last_sign_of_life(self, row: dict[str, Any]) -> float:
        beat = self.job_log.last_beat(UUID(row["id"]))
        if beat is not None and beat[0] == int(row["attempt"]):
            return beat[1]
        return datetime.fromisoformat(row["started_at"] or row["updated_at"]).timestamp()

    def _interrupt(self, row: dict[str, Any], reason: str) -> None:
        handler = self.handlers.get(row["job_type"])
        try:
            job = self.commands.interrupt(UUID(row["id"]), rerun=bool(handler and handler.rerun_on_interrupt),
                                          reason=reason)
        except StaleAttemptError:  # it finished (or moved on) since the read model was read
            return
        log.warning("job %s interrupted (%s): now %s", row["id"], reason, job.status)
