"""The audit log, and point-in-time reads that replay an item's stream on purpose."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.dataset_item import DatasetItem

from application.errors import BadRequestError, NotFoundError
from application.event_store import EventStore
from application.ports.read_store import ReadStore, Row
from application.projections import from_json
from application.queries.dataset import Labels, Page, _item_row


@dataclass(frozen=True)
class HistoryFilter:
    kind: str | None = None
    item_id: UUID | None = None
    since: str | None = None
    until: str | None = None


def _entry(row: Row) -> dict[str, Any]:
    return {"position": int(row["position"]), "timestamp": row["timestamp"], "user": row["username"],
            "kind": row["kind"], "aggregate_id": row["aggregate_id"], "version": int(row["version"]),
            "summary": row["summary"], "data": from_json(row["data"])}


def project_history(read: ReadStore, project_id: UUID, filters: HistoryFilter, page: Page) -> list[dict[str, Any]]:
    Labels.of(read, project_id)
    clauses, params = ["project_id = ?"], [str(project_id)]
    for column, op, value in (("kind", "=", filters.kind), ("aggregate_id", "=", filters.item_id and
                                                             str(filters.item_id)),
                              ("timestamp", ">=", filters.since), ("timestamp", "<", filters.until)):
        if value is not None:
            clauses.append(f"{column} {op} ?")
            params.append(value)
    rows = read.query(f"SELECT * FROM rm_history WHERE {' AND '.join(clauses)} ORDER BY position "
                      "LIMIT ? OFFSET ?", [*params, page.limit, page.offset])
    return [_entry(row) for row in rows]


def item_history(read: ReadStore, project_id: UUID, item_id: UUID, page: Page) -> list[dict[str, Any]]:
    """Every event of one item, including a deleted one (its history stays readable)."""
    rows = read.query("SELECT * FROM rm_history WHERE project_id = ? AND aggregate_id = ? ORDER BY position "
                      "LIMIT ? OFFSET ?", (str(project_id), str(item_id), page.limit, page.offset))
    if not rows and page.offset == 0:
        _item_row(read, project_id, item_id)
    return [_entry(row) for row in rows]


def annotations_at(store: EventStore, read: ReadStore, project_id: UUID, item_id: UUID,
                   version: int | None = None, as_of: datetime | None = None) -> dict[str, Any]:
    """The item's annotations as they were at a version, or at a moment (labels named as today)."""
    events = list(store.events.get(item_id))
    if not events or not isinstance(events[0], DatasetItem.Created) or events[0].project_id != project_id:
        raise NotFoundError(f"No dataset item with id {item_id} in this project.")
    if as_of is not None:
        earlier = [e.originator_version for e in events if e.timestamp <= as_of]
        if not earlier:
            raise NotFoundError(f"The item did not exist yet at {as_of.isoformat()}.")
        version = earlier[-1]
    if version is None or not 1 <= version <= events[-1].originator_version:
        raise BadRequestError(f"version must be between 1 and {events[-1].originator_version}.")
    item = store.repository.get(item_id, version=version)
    at = next(e.timestamp for e in events if e.originator_version == version)
    return {"annotations": Labels.of(read, project_id).name(item.annotations, keep_removed=True),
            "annotated": item.annotated, "user_reviewed": item.user_reviewed, "updated_at": at.isoformat(),
            "version": version}
