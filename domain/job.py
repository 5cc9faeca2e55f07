"""Job: a background task (train, import, export, ...) with its status, progress and outcome."""

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.aggregate import Aggregate
from domain.errors import ConflictingStateError

JOB_TYPES = ("train", "prepare_dataset_for_import", "import_dataset_to_existing_project",
             "import_dataset_as_new_project", "export_dataset", "stage_dataset")
TERMINAL = ("done", "failed", "cancelled")


class JobFinishedError(ConflictingStateError):
    """Raised when cancelling or changing a job that already reached a terminal status."""


class StaleAttemptError(ConflictingStateError):
    """Raised when a worker acts on an attempt of a job that is no longer current."""


class Job(Aggregate):
    """The state machine scheduled → running → done | failed | cancelled (via cancelling)."""

    @event("Submitted")
    def __init__(self, id: UUID, job_type: str, project_id: UUID | None, parameters: dict[str, Any],
                 user: str) -> None:
        self.job_type = job_type
        self.submitted_by = user
        self.project_id = project_id
        self.parameters = parameters
        self.status = "scheduled"
        self.attempt = 1
        self.progress = 0.0
        self.message = ""
        self.error: str | None = None
        self.result: dict[str, Any] | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def check_attempt(self, attempt: int) -> None:
        if attempt != self.attempt or self.terminal:
            raise StaleAttemptError(f"Attempt {attempt} of job {self.id} is not current (status {self.status}).")

    def start(self, attempt: int, worker: str, user: str) -> None:
        self.check_attempt(attempt)
        if self.status != "scheduled":
            raise StaleAttemptError(f"Job {self.id} is {self.status}, not scheduled.")
        self._started(attempt=attempt, worker=worker, user=user)

    @event("Started")
    def _started(self, attempt: int, worker: str, user: str) -> None:
        self.status = "running"

    def report(self, attempt: int, progress: float, message: str, user: str) -> None:
        self.check_attempt(attempt)
        progress = max(0.0, min(100.0, round(progress, 1)))
        if progress != self.progress or message != self.message:
            self._progressed(progress=progress, message=message, user=user)

    @event("Progressed")
    def _progressed(self, progress: float, message: str, user: str) -> None:
        self.progress = progress
        self.message = message

    def finish(self, attempt: int, result: dict[str, Any], user: str) -> None:
        self.check_attempt(attempt)
        self._finished(result=result, user=user)

    @event("Finished")
    def _finished(self, result: dict[str, Any], user: str) -> None:
        self.status, self.progress, self.result, self.message = "done", 100.0, result, "Done."

    def fail(self, attempt: int, error: str, reason: str, user: str) -> None:
        self.check_attempt(attempt)
        self._failed(error=error, reason=reason, user=user)

    @event("Failed")
    def _failed(self, error: str, reason: str, user: str) -> None:
        self.status, self.error, self.message = "failed", error, f"Failed: {reason}."

    def request_cancel(self, user: str) -> None:
        if self.terminal:
            raise JobFinishedError(f"Job {self.id} is already {self.status}.")
        if self.status == "scheduled":
            self._cancelled(reason="cancelled before it started", user=user)
        elif self.status == "running":
            self._cancel_requested(user=user)

    @event("CancelRequested")
    def _cancel_requested(self, user: str) -> None:
        self.status = "cancelling"

    def confirm_cancelled(self, attempt: int, reason: str, user: str) -> None:
        self.check_attempt(attempt)
        self._cancelled(reason=reason, user=user)

    @event("Cancelled")
    def _cancelled(self, reason: str, user: str) -> None:
        self.status, self.message = "cancelled", f"Cancelled: {reason}."

    def requeue(self, reason: str, user: str) -> None:
        """After its worker died: run it again as a new attempt."""
        if self.status not in ("running", "cancelling"):
            raise StaleAttemptError(f"Job {self.id} is {self.status}; only running jobs are requeued.")
        self._requeued(attempt=self.attempt + 1, reason=reason, user=user)

    @event("Requeued")
    def _requeued(self, attempt: int, reason: str, user: str) -> None:
        self.status, self.attempt, self.progress, self.message = "scheduled", attempt, 0.0, f"Requeued: {reason}."
