"""DatasetRevision: exactly what a model was trained on — items at their versions, subsets, labels."""

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.aggregate import Aggregate
from domain.errors import ConflictingStateError


class RevisionInUseError(ConflictingStateError):
    """Raised when deleting the files of a revision that a running pipeline's model was trained on."""


def fingerprint(entries: list[dict[str, Any]]) -> list[list[Any]]:
    """What makes two revisions the same: (item id, item version, subset) of every entry, sorted."""
    return sorted([str(e["item_id"]), int(e["version"]), e["subset"]] for e in entries)


class DatasetRevision(Aggregate):
    """A frozen copy of a dataset's item list; its media stay until its files are deleted."""

    @event("Created")
    def __init__(self, id: UUID, project_id: UUID, entries: list[dict[str, Any]], labels: list[dict[str, Any]],
                 user: str) -> None:
        self.project_id = project_id
        self.entries = entries  # item_id, version, subset, name, media (sha256, thumbnail...), annotations
        self.labels = labels
        self.files_deleted = False

    def same_as(self, entries: list[dict[str, Any]], labels: list[dict[str, Any]]) -> bool:
        return not self.files_deleted and fingerprint(self.entries) == fingerprint(entries) and self.labels == labels

    def delete_files(self, user: str) -> None:
        if not self.files_deleted:
            self._files_deleted(user=user)

    @event("FilesDeleted")
    def _files_deleted(self, user: str) -> None:
        self.files_deleted = True
