"""Runs one attempt of a job: claim it, heartbeat, follow cancellation, record the outcome."""

import logging
import threading
import traceback
from uuid import UUID

from domain.errors import DomainError
from domain.job import Job, StaleAttemptError

from application.errors import NotFoundError, ViewfinderError
from application.event_store import ConcurrentWriteError
from application.jobs.commands import JobCommands
from application.jobs.handler import JobCancelledError, JobContext, JobHandler
from application.jobs.log import JobLog

log = logging.getLogger("viewfinder.jobs")


class JobRunner:
    """Executes job attempts delivered by the queue; a redelivered or stale attempt does nothing."""

    def __init__(self, commands: JobCommands, job_log: JobLog, handlers: dict[str, JobHandler], worker: str,
                 heartbeat_s: float = 0.25) -> None:
        self.commands = commands
        self.job_log = job_log
        self.handlers = handlers
        self.worker = worker
        self.heartbeat_s = heartbeat_s

    def run(self, job_id: UUID, attempt: int) -> None:
        try:
            job = self.commands.start(job_id, attempt, self.worker)
        except (StaleAttemptError, ConcurrentWriteError, NotFoundError) as skipped:
            log.info("skipping job %s attempt %s: %s", job_id, attempt, skipped)
            return
        context = JobContext(job.id, attempt, job.project_id, job.parameters, job.submitted_by,
                             lambda pct, msg: self.commands.report(job_id, attempt, pct, msg),
                             lambda line: self.job_log.append(job_id, line),
                             lambda: self.commands.load(job_id).status)
        stop = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(job, context, stop), daemon=True)
        watcher.start()
        try:
            self._execute(job, context)
        except StaleAttemptError:  # superseded (requeued elsewhere) while finishing: the new attempt decides
            context.log(f"Attempt {attempt} was superseded; it stops here.")
        finally:
            stop.set()
            watcher.join()

    def _execute(self, job: Job, context: JobContext) -> None:
        job_id, attempt = job.id, context.attempt
        context.log(f"Attempt {attempt} of {job.job_type} started on {self.worker}.")
        try:
            result = self.handlers[job.job_type].run(context)
        except StaleAttemptError:
            context.log(f"Attempt {attempt} was superseded; it stops here.")
            return
        except JobCancelledError:
            context.log("Cancelled between steps.")
            self.commands.confirm_cancelled(job_id, attempt, "stopped at a step boundary")
        except (ViewfinderError, DomainError) as error:
            context.log(f"Failed: {error.detail}")
            self.commands.fail(job_id, attempt, error.detail, "invalid input")
        except Exception as error:  # noqa: BLE001 - the job records any failure, readably
            for line in traceback.format_exc().splitlines():
                context.log(line)
            self.commands.fail(job_id, attempt, f"{type(error).__name__}: {error}", "error")
        else:
            context.log("Finished.")
            self.commands.finish(job_id, attempt, result)

    def _watch(self, job: Job, context: JobContext, stop: threading.Event) -> None:
        """Heartbeat the attempt and notice a cancel request while the handler works."""
        while not stop.wait(self.heartbeat_s):
            try:
                self.job_log.beat(job.id, context.attempt, self.worker)
                if self.commands.load(job.id).status == "cancelling":
                    context.cancel_requested.set()
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next tick
                log.exception("heartbeat of job %s failed", job.id)
