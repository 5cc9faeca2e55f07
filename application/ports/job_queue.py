"""Port of the job queue: how the engine hands a job attempt to a worker, and aborts it."""

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

    def healthy(self) -> bool:
        return True
