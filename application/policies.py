"""Policies: event → next command, run by the engine after the projections, tracked by position.

Policies run at least once per event; the commands they issue are idempotent.
"""

import logging
from abc import ABC, abstractmethod
from typing import Any
from uuid import UUID

from domain.annotations import label_ids_of
from domain.dataset_item import DatasetItem
from domain.project import Project

from application.commands.dataset import DatasetCommands
from application.event_store import EventStore
from application.ports.read_store import ReadStore
from application.projections import from_json
from application.projections.projector import Projector

log = logging.getLogger("viewfinder.policies")


class Policy(ABC):
    """Reacts to events by issuing commands."""

    name: str

    @abstractmethod
    def handle(self, event: Any) -> None:
        """React to one event (idempotently)."""


class WhenLabelRemovedStripIt(Policy):
    """Removing a project label takes it out of every annotation of the project's items.

    Also catches an annotation saved concurrently with the label's removal.
    """

    name = "policy:strip_removed_labels"

    def __init__(self, read: ReadStore, dataset: DatasetCommands) -> None:
        self.read = read
        self.dataset = dataset

    def handle(self, event: Any) -> None:
        if isinstance(event, Project.LabelRemoved):
            rows = self.read.query("SELECT item_id FROM rm_item_labels WHERE project_id = ? AND label_id = ?",
                                   (str(event.originator_id), str(event.label_id)))
            for row in rows:
                self.dataset.strip_label(UUID(row["item_id"]), event.label_id, event.user)
        elif isinstance(event, DatasetItem.AnnotationsReplaced):
            for label_id in label_ids_of(event.annotations) - self._project_labels(event.originator_id):
                self.dataset.strip_label(event.originator_id, label_id, event.user)

    def _project_labels(self, item_id: UUID) -> set[UUID]:
        row = self.read.query_one("SELECT p.labels FROM rm_items i JOIN rm_projects p ON p.id = i.project_id "
                                  "WHERE i.id = ?", (str(item_id),))
        if row is None:
            return set()
        return {UUID(label["id"]) for label in from_json(row["labels"])}


class PolicyRunner:
    """Feeds events to policies once the projections have processed them (so queries see them)."""

    def __init__(self, store: EventStore, projector: Projector, policies: list[Policy], batch_size: int = 100) -> None:
        self.store = store
        self.projector = projector
        self.read_store = projector.read_store
        self.policies = policies
        self.batch_size = batch_size

    def set_up(self) -> None:
        with self.read_store.transaction() as tx:
            for policy in self.policies:
                tx.execute("INSERT INTO rm_tracking (projection, position) VALUES (?, 0) "
                           "ON CONFLICT (projection) DO NOTHING", (policy.name,))

    def lag(self) -> dict[str, int]:
        return self.projector.lag([policy.name for policy in self.policies])

    def run_once(self) -> int:
        positions = self.projector.positions()
        ceiling = min((positions.get(p.name, 0) for p in self.projector.projections), default=0)
        handled = 0
        for policy in self.policies:
            start = positions.get(policy.name, 0)
            for position, event in self.store.events_after(start, self.batch_size):
                if position > ceiling:
                    break
                policy.handle(event)
                with self.read_store.transaction() as tx:
                    tx.execute("UPDATE rm_tracking SET position = ? WHERE projection = ? AND position < ?",
                               (position, policy.name, position))
                handled += 1
        return handled
