"""Queries of models, architectures and dataset revisions."""

from typing import Any
from uuid import UUID

from application.errors import NotFoundError
from application.ports.read_store import ReadStore, Row
from application.ports.training import ArchitectureCatalog
from application.projections import from_json
from application.queries.dataset import Labels, Page


def architectures(catalog: ArchitectureCatalog, task_type: str | None) -> list[dict[str, Any]]:
    return [{"id": a.id, "task_type": a.task_type, "name": a.name, "description": a.description,
             "default": a.default, "parameters": [vars(p) for p in a.parameters]}
            for a in catalog.architectures(task_type)]  # type: ignore[arg-type]


def _model(row: Row) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "architecture": row["architecture"], "task_type": row["task_type"],
            "status": row["status"], "created_at": row["created_at"], "dataset_revision_id": row["dataset_revision_id"],
            "labels": [{k: label[k] for k in ("id", "name", "color")} for label in from_json(row["labels"])],
            "training": {"job_id": row["job_id"], "started_at": row["created_at"], "finished_at": row["finished_at"],
                         "duration_s": row["duration_s"], "device": "cpu"},
            "variants": from_json(row["variants"]), "metrics": from_json(row["metrics"])}


def list_models(read: ReadStore, project_id: UUID) -> list[dict[str, Any]]:
    Labels.of(read, project_id)
    rows = read.query("SELECT * FROM rm_models WHERE project_id = ? ORDER BY created_at DESC", (str(project_id),))
    return [_model(row) for row in rows]


def get_model(read: ReadStore, project_id: UUID, model_id: UUID) -> dict[str, Any]:
    row = read.query_one("SELECT * FROM rm_models WHERE id = ? AND project_id = ?", (str(model_id), str(project_id)))
    if row is None:
        Labels.of(read, project_id)
        raise NotFoundError(f"No model with id {model_id} in this project.")
    return _model(row)


def _revision(row: Row) -> dict[str, Any]:
    return {"id": row["id"], "created_at": row["created_at"], "item_counts": from_json(row["item_counts"]),
            "files_deleted": bool(row["files_deleted"]), "size": int(row["size"])}


def list_revisions(read: ReadStore, project_id: UUID) -> list[dict[str, Any]]:
    Labels.of(read, project_id)
    rows = read.query("SELECT * FROM rm_revisions WHERE project_id = ? ORDER BY created_at DESC", (str(project_id),))
    return [_revision(row) for row in rows]


def revision_id_or_latest(read: ReadStore, project_id: UUID, revision_id: UUID | None) -> UUID:
    if revision_id is not None:
        row = read.query_one("SELECT id FROM rm_revisions WHERE id = ? AND project_id = ?",
                             (str(revision_id), str(project_id)))
    else:
        row = read.query_one("SELECT id FROM rm_revisions WHERE project_id = ? ORDER BY created_at DESC LIMIT 1",
                             (str(project_id),))
    if row is None:
        Labels.of(read, project_id)
        raise NotFoundError("No such dataset revision in this project" + ("." if revision_id else " (none yet)."))
    return UUID(row["id"])


def _revision_item(row: Row, labels: Labels | None) -> dict[str, Any]:
    item = {"id": row["item_id"], "name": row["name"], "format": row["format"], "width": row["width"],
            "height": row["height"], "size": int(row["size"]), "subset": row["subset"], "version": row["version"]}
    if labels is not None:
        item["annotations"] = labels.name(from_json(row["annotations"]), keep_removed=True)
    return item


def revision_items(read: ReadStore, project_id: UUID, revision_id: UUID, page: Page,
                   with_annotations: bool) -> dict[str, Any]:
    labels = Labels.of(read, project_id) if with_annotations else None
    total = read.query_one("SELECT COUNT(*) AS n FROM rm_revision_items WHERE revision_id = ?", (str(revision_id),))
    rows = read.query("SELECT * FROM rm_revision_items WHERE revision_id = ? ORDER BY item_id LIMIT ? OFFSET ?",
                      (str(revision_id), page.limit, page.offset))
    return {"items": [_revision_item(row, labels) for row in rows],
            "pagination": {"offset": page.offset, "limit": page.limit, "count": len(rows),
                           "total": int(total["n"]) if total else 0}}


def revision_item(read: ReadStore, project_id: UUID, revision_id: UUID, item_id: UUID) -> Row:
    row = read.query_one("SELECT i.*, r.files_deleted FROM rm_revision_items i JOIN rm_revisions r "
                         "ON r.id = i.revision_id WHERE i.revision_id = ? AND i.item_id = ?",
                         (str(revision_id), str(item_id)))
    if row is None:
        raise NotFoundError(f"No item {item_id} in dataset revision {revision_id}.")
    return row


def revision_item_json(read: ReadStore, project_id: UUID, revision_id: UUID, item_id: UUID) -> dict[str, Any]:
    return _revision_item(revision_item(read, project_id, revision_id, item_id), Labels.of(read, project_id))
