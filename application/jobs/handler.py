"""What a job type provides, and the context an attempt runs in."""

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any
from uuid import UUID

from application.errors import InvalidInputError


REPORT_EVERY_S = 0.5
REPORT_STEP = 10.0
CHECK_EVERY_S = 0.2


class JobCancelledError(Exception):
    """Raised inside a job when its cancellation was requested (checked between steps)."""


class JobContext:
    """Progress, log lines and cancellation checks for one running attempt."""

    def __init__(self, job_id: UUID, attempt: int, project_id: UUID | None, parameters: dict[str, Any],
                 user: str, report: Callable[[float, str], None], log: Callable[[str], None],
                 status: Callable[[], str] = lambda: "running") -> None:
        self.job_id = job_id
        self.attempt = attempt
        self.project_id = project_id
        self.parameters = parameters
        self.user = user
        self._report = report
        self._log = log
        self.cancel_requested = threading.Event()
        self._reported_at, self._reported_percent = -REPORT_EVERY_S, 0.0
        self._status = status
        self._checked_at = 0.0

    def progress(self, percent: float, message: str) -> None:
        """Check for cancellation; record progress (an event) every REPORT_EVERY_S or REPORT_STEP points."""
        self.check_cancelled()
        now = time.monotonic()
        if now - self._reported_at >= REPORT_EVERY_S or percent - self._reported_percent >= REPORT_STEP:
            self._reported_at, self._reported_percent = now, percent
            self._report(percent, message)

    def log(self, line: str) -> None:
        self._log(line)

    def cancelled(self) -> bool:
        """Whether a cancel was requested (looked up in the job itself at most every CHECK_EVERY_S)."""
        now = time.monotonic()
        if not self.cancel_requested.is_set() and now - self._checked_at >= CHECK_EVERY_S:
            self._checked_at = now
            if self._status() == "cancelling":
                self.cancel_requested.set()
        return self.cancel_requested.is_set()

    def check_cancelled(self) -> None:
        if self.cancelled():
            raise JobCancelledError("The job was cancelled.")


class JobHandler(ABC):
    """One job type: checks its parameters at submission, then runs attempts."""

    job_type: str
    rerun_on_interrupt: bool = False  # True when running an attempt twice is harmless

    def check(self, project_id: UUID | None, parameters: dict[str, Any]) -> None:
        """Raise a ViewfinderError when the job cannot run with these parameters (at submission)."""

    @abstractmethod
    def run(self, context: JobContext) -> dict[str, Any]:
        """Do the work; return the job's result."""


class JobParameterError(InvalidInputError):
    """Raised when a job's parameters are invalid for its type."""
