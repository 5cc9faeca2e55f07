"""StagedDataset: an archive in the staging area, on its way into or out of a project."""

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.aggregate import Aggregate
from domain.errors import ConflictingStateError

ORIGINS = ("upload", "export", "stage")


class StagedDatasetNotReadyError(ConflictingStateError):
    """Raised when importing a staged dataset that is not (or no longer) usable."""


class StagedDataset(Aggregate):
    """Status uploaded → ready (format detected, metadata read) or invalid (with the reason)."""

    @event("Staged")
    def __init__(self, id: UUID, size: int, origin: str, project_id: UUID | None, user: str) -> None:
        self.size = size
        self.origin = origin
        self.project_id = project_id
        self.status = "uploaded"
        self.format: str | None = None
        self.metadata: dict[str, Any] = {}
        self.error: str | None = None
        self.deleted = False

    def mark_ready(self, format: str, metadata: dict[str, Any], user: str) -> None:
        if self.status != "ready" or self.format != format or self.metadata != metadata:
            self._prepared(format=format, metadata=metadata, user=user)

    @event("Prepared")
    def _prepared(self, format: str, metadata: dict[str, Any], user: str) -> None:
        self.status, self.format, self.metadata, self.error = "ready", format, metadata, None

    def invalidate(self, error: str, user: str) -> None:
        if self.status != "invalid" or self.error != error:
            self._invalidated(error=error, user=user)

    @event("Invalidated")
    def _invalidated(self, error: str, user: str) -> None:
        self.status, self.error = "invalid", error

    def check_usable(self) -> None:
        if self.deleted or self.status == "invalid":
            raise StagedDatasetNotReadyError(f"Staged dataset {self.id} is {'deleted' if self.deleted else 'invalid'}"
                                             f"{': ' + self.error if self.error else ''}.")

    def delete(self, user: str) -> None:
        if not self.deleted:
            self._deleted(user=user)

    @event("Deleted")
    def _deleted(self, user: str) -> None:
        self.deleted = True
