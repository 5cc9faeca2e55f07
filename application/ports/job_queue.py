"""Port of the job queue: how the engine hands job attempts and pipeline runs to workers."""

from abc import ABC, abstractmethod
from uuid import UUID


class JobQueue(ABC):
    """Delivers (job id, attempt) to some worker; at least once."""

    @abstractmethod
    def enqueue(self, job_id: UUID, attempt: int) -> None:
        """Queue an attempt of a job."""

    @abstractmethod
    def abort(self, job_id: UUID, attempt: int) -> None:
        """Interrupt the attempt wherever it runs (a hard stop after a grace period)."""

    @abstractmethod
    def start_pipeline(self, project_id: UUID, run: int) -> None:
        """Queue a run of a project's live pipeline (a long-running message)."""

    def healthy(self) -> bool:
        return True
