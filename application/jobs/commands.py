"""Commands on jobs: submit, cancel, and the state changes a worker reports."""

from typing import Any
from uuid import UUID, uuid4

from domain.job import Job

from application.commands import Written, retrying
from application.errors import ConflictError
from application.event_store import EventStore

WORKER_USER = "worker"
MAX_ATTEMPTS = 3


class JobCommands:
    """Use cases that change jobs."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def submit(self, job_type: str, project_id: UUID | None, parameters: dict[str, Any], user: str,
               id: UUID | None = None) -> Written:
        if id is not None and self.store.exists(id):
            raise ConflictError(f"A resource with id {id} already exists.")
        job = Job(id=id or uuid4(), job_type=job_type, project_id=project_id, parameters=parameters, user=user)
        return Written(job.id, self.store.commit(job))

    def load(self, job_id: UUID) -> Job:
        return self.store.load(Job, job_id, "job")

    @retrying
    def cancel(self, job_id: UUID, user: str) -> Written:
        job = self.load(job_id)
        job.request_cancel(user)
        return Written(job.id, self.store.commit(job))

    def start(self, job_id: UUID, attempt: int, worker: str) -> Job:
        """Claim the attempt; a concurrent claimer loses on optimistic concurrency."""
        job = self.load(job_id)
        job.start(attempt, worker, WORKER_USER)
        self.store.commit(job)
        return job

    @retrying
    def report(self, job_id: UUID, attempt: int, progress: float, message: str) -> None:
        job = self.load(job_id)
        job.report(attempt, progress, message, WORKER_USER)
        self.store.commit(job)

    @retrying
    def finish(self, job_id: UUID, attempt: int, result: dict[str, Any]) -> None:
        job = self.load(job_id)
        if job.status == "cancelling":
            job.confirm_cancelled(attempt, "cancel requested while finishing; the result is discarded", WORKER_USER)
        else:
            job.finish(attempt, result, WORKER_USER)
        self.store.commit(job)

    @retrying
    def fail(self, job_id: UUID, attempt: int, error: str, reason: str) -> None:
        job = self.load(job_id)
        job.fail(attempt, error, reason, WORKER_USER)
        self.store.commit(job)

    @retrying
    def confirm_cancelled(self, job_id: UUID, attempt: int, reason: str) -> None:
        job = self.load(job_id)
        job.confirm_cancelled(attempt, reason, WORKER_USER)
        self.store.commit(job)

    @retrying
    def interrupt(self, job_id: UUID, rerun: bool, reason: str) -> Job:
        """A job whose worker died: cancelled if it was being cancelled, else re-run or failed."""
        job = self.load(job_id)
        if job.status == "cancelling":
            job.confirm_cancelled(job.attempt, f"its worker stopped ({reason})", WORKER_USER)
        elif rerun and job.attempt < MAX_ATTEMPTS:
            job.requeue(reason, WORKER_USER)
        else:
            job.fail(job.attempt, f"The job was interrupted: {reason}.", "interrupted", WORKER_USER)
        self.store.commit(job)
        return job
