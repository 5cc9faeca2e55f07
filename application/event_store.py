"""The event store: the eventsourcing application that records every aggregate of Viewfinder."""

from collections.abc import Iterator
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Transcoding

from domain.aggregate import Aggregate
from domain.dataset_item import DatasetItem
from domain.dataset_revision import DatasetRevision
from domain.dataset_view import DatasetView
from domain.job import Job
from domain.model import Model
from domain.labels import Label
from domain.name_claim import NameClaim
from domain.pipeline import Pipeline
from domain.project import Project
from domain.sink import Sink
from domain.source import Source

from application.errors import ConflictError, NotFoundError

A = TypeVar("A", bound=Aggregate)

SNAPSHOT_INTERVAL = 50


class ConcurrentWriteError(ConflictError):
    """Raised when another writer changed an aggregate between our load and our save."""


class LabelAsDict(Transcoding):
    """Stores Label value objects (inside snapshots) as plain dicts."""

    type = Label
    name = "label"

    def encode(self, obj: Label) -> dict[str, Any]:
        return {"id": obj.id.hex, "name": obj.name, "color": obj.color, "hotkey": obj.hotkey}

    def decode(self, data: dict[str, Any]) -> Label:
        return Label(id=UUID(data["id"]), name=data["name"], color=data["color"], hotkey=data["hotkey"])


class EventStore(Application[UUID]):
    """All aggregates share one store, so the notification log orders every event."""

    name = "Viewfinder"
    log_section_size = 1000
    snapshotting_intervals = {cls: SNAPSHOT_INTERVAL for cls in (Project, Source, Sink, Pipeline, NameClaim,
                                                                DatasetItem, DatasetView, Job, Model,
                                                                DatasetRevision)}

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(LabelAsDict())

    def load(self, cls: type[A], aggregate_id: UUID, what: str | None = None) -> A:
        """The aggregate, or NotFoundError naming what was looked for."""
        what = what or cls.__name__.lower()
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFoundError(f"No {what} with id {aggregate_id}.") from None
        if not isinstance(aggregate, cls) or getattr(aggregate, "deleted", False):
            raise NotFoundError(f"No {what} with id {aggregate_id}.")
        return aggregate

    def load_in_project(self, cls: type[A], aggregate_id: UUID, project_id: UUID, what: str) -> A:
        """The aggregate, if it belongs to the project (else NotFoundError, as if it did not exist)."""
        aggregate = self.load(cls, aggregate_id, what)
        if getattr(aggregate, "project_id", None) != project_id:
            raise NotFoundError(f"No {what} with id {aggregate_id} in this project.")
        return aggregate

    def find(self, aggregate_id: UUID) -> Aggregate | None:
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

    def commit(self, *aggregates: Aggregate | None) -> int:
        """Save atomically; return the last notification id (0 when nothing changed)."""
        try:
            recordings = self.save(*aggregates)
        except IntegrityError as error:
            raise ConcurrentWriteError("Another request changed this resource at the same time.") from error
        return max((r.notification.id for r in recordings), default=0)

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def events_after(self, position: int, limit: int) -> Iterator[tuple[int, Any]]:
        """(position, domain event) pairs after `position`, in log order."""
        for notification in self.notification_log.select(start=position + 1, limit=limit):
            yield notification.id, self.mapper.to_domain_event(notification)

    def history_of(self, aggregate_id: UUID) -> list[Any]:
        return list(self.events.get(aggregate_id))
