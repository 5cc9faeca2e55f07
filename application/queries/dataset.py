"""Queries of dataset items, tags and views over the read models."""

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from application.errors import NotFoundError
from application.ports.read_store import ReadStore, Row
from application.projections import from_json


@dataclass(frozen=True)
class ItemFilter:
    """The filters of the item list (also used to add or remove view items)."""

    annotated: bool | None = None
    label_ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    subset: str | None = None
    created_after: str | None = None
    created_before: str | None = None
    sort: str = "created_at"

    def where(self, project_id: UUID) -> tuple[str, list[Any]]:
        clauses, params = ["i.project_id = ?"], [str(project_id)]
        if self.annotated is not None:
            clauses.append("i.annotated = ?")
            params.append(int(self.annotated))
        if self.label_ids:
            marks = ", ".join("?" * len(self.label_ids))
            clauses.append(f"i.id IN (SELECT item_id FROM rm_item_labels WHERE label_id IN ({marks}))")
            params += list(self.label_ids)
        if self.tags:
            marks = ", ".join("?" * len(self.tags))
            clauses.append(f"i.id IN (SELECT item_id FROM rm_item_tags WHERE tag IN ({marks}))")
            params += list(self.tags)
        for column, op, value in (("subset", "=", self.subset), ("created_at", ">=", self.created_after),
                                  ("created_at", "<", self.created_before)):
            if value is not None:
                clauses.append(f"i.{column} {op} ?")
                params.append(value)
        return " AND ".join(clauses), params

    @property
    def order(self) -> str:
        return "i.created_at DESC, i.id DESC" if self.sort == "-created_at" else "i.created_at, i.id"


@dataclass(frozen=True)
class Page:
    offset: int = 0
    limit: int = 100


@dataclass
class Labels:
    """The project's current labels by id, to name annotation labels at read time."""

    by_id: dict[str, Row] = field(default_factory=dict)

    @classmethod
    def of(cls, read: ReadStore, project_id: UUID) -> "Labels":
        row = read.query_one("SELECT labels FROM rm_projects WHERE id = ?", (str(project_id),))
        if row is None:
            raise NotFoundError(f"No project with id {project_id}.")
        return cls({label["id"]: label for label in from_json(row["labels"])})

    def name(self, annotations: list[dict[str, Any]], keep_removed: bool = False) -> list[dict[str, Any]]:
        """Annotations with label names and colours; labels the project no longer has are dropped."""
        named = []
        for annotation in annotations:
            labels = []
            for label in annotation["labels"]:
                current = self.by_id.get(str(label["id"]))
                if current is None and not keep_removed:
                    continue
                labels.append({**label, "id": str(label["id"]), "name": current and current["name"],
                               "color": current and current["color"]})
            if labels:
                named.append({**annotation, "labels": labels})
        return named


def _item(row: Row, labels: Labels | None) -> dict[str, Any]:
    item = {"id": row["id"], "name": row["name"], "format": row["format"], "width": row["width"],
            "height": row["height"], "size": row["size"], "subset": row["subset"], "tags": from_json(row["tags"]),
            "annotated": bool(row["annotated"]), "created_at": row["created_at"], "source": row["source"]}
    if labels is not None:
        item["annotations"] = labels.name(from_json(row["annotations"]))
        item["user_reviewed"] = bool(row["user_reviewed"])
    return item


def list_items(read: ReadStore, project_id: UUID, filters: ItemFilter, page: Page, with_annotations: bool = False,
               view_id: UUID | None = None) -> dict[str, Any]:
    labels = Labels.of(read, project_id)
    where, params = filters.where(project_id)
    if view_id is not None:
        where += " AND i.id IN (SELECT item_id FROM rm_view_items WHERE view_id = ?)"
        params.append(str(view_id))
    total = read.query_one(f"SELECT COUNT(*) AS n FROM rm_items i WHERE {where}", params)
    rows = read.query(f"SELECT * FROM rm_items i WHERE {where} ORDER BY {filters.order} LIMIT ? OFFSET ?",
                      [*params, page.limit, page.offset])
    return {"items": [_item(row, labels if with_annotations else None) for row in rows],
            "pagination": {"offset": page.offset, "limit": page.limit, "count": len(rows),
                           "total": int(total["n"]) if total else 0}}


def matching_item_ids(read: ReadStore, project_id: UUID, filters: ItemFilter) -> list[UUID]:
    where, params = filters.where(project_id)
    return [UUID(row["id"]) for row in read.query(f"SELECT i.id FROM rm_items i WHERE {where}", params)]


def missing_item_ids(read: ReadStore, project_id: UUID, item_ids: list[UUID]) -> list[UUID]:
    """The ids among `item_ids` that are not live items of the project."""
    found: set[str] = set()
    for start in range(0, len(item_ids), 500):
        chunk = [str(i) for i in item_ids[start:start + 500]]
        marks = ", ".join("?" * len(chunk))
        found |= {row["id"] for row in read.query(
            f"SELECT id FROM rm_items WHERE project_id = ? AND id IN ({marks})", [str(project_id), *chunk])}
    return [i for i in item_ids if str(i) not in found]


def _item_row(read: ReadStore, project_id: UUID, item_id: UUID) -> Row:
    row = read.query_one("SELECT * FROM rm_items WHERE id = ? AND project_id = ?", (str(item_id), str(project_id)))
    if row is None:
        Labels.of(read, project_id)  # a missing project is reported as such
        raise NotFoundError(f"No dataset item with id {item_id} in this project.")
    return row


def get_item(read: ReadStore, project_id: UUID, item_id: UUID, with_annotations: bool = False) -> dict[str, Any]:
    labels = Labels.of(read, project_id) if with_annotations else None
    return _item(_item_row(read, project_id, item_id), labels)


def item_media(read: ReadStore, project_id: UUID, item_id: UUID) -> dict[str, str]:
    row = _item_row(read, project_id, item_id)
    return {"sha256": row["media_sha256"], "content_type": row["content_type"],
            "thumbnail_sha256": row["thumbnail_sha256"], "name": row["name"], "format": row["format"]}


def item_annotations(read: ReadStore, project_id: UUID, item_id: UUID) -> dict[str, Any]:
    row = _item_row(read, project_id, item_id)
    labels = Labels.of(read, project_id)
    return {"annotations": labels.name(from_json(row["annotations"])), "annotated": bool(row["annotated"]),
            "user_reviewed": bool(row["user_reviewed"]), "updated_at": row["updated_at"], "version": row["version"]}


def item_tags(read: ReadStore, project_id: UUID, item_id: UUID) -> list[str]:
    return from_json(_item_row(read, project_id, item_id)["tags"])


def dataset_tags(read: ReadStore, project_id: UUID) -> list[dict[str, Any]]:
    Labels.of(read, project_id)
    rows = read.query("SELECT tag, COUNT(*) AS n FROM rm_item_tags WHERE project_id = ? GROUP BY tag ORDER BY tag",
                      (str(project_id),))
    return [{"tag": row["tag"], "count": int(row["n"])} for row in rows]


def list_views(read: ReadStore, project_id: UUID) -> list[dict[str, Any]]:
    Labels.of(read, project_id)
    rows = read.query("SELECT v.*, (SELECT COUNT(*) FROM rm_view_items vi JOIN rm_items i ON i.id = vi.item_id "
                      "WHERE vi.view_id = v.id) AS item_count FROM rm_views v WHERE v.project_id = ? "
                      "ORDER BY v.created_at, v.id", (str(project_id),))
    return [{"id": r["id"], "name": r["name"], "created_at": r["created_at"], "item_count": int(r["item_count"])}
            for r in rows]


def get_view(read: ReadStore, project_id: UUID, view_id: UUID) -> dict[str, Any]:
    for view in list_views(read, project_id):
        if view["id"] == str(view_id):
            return view
    raise NotFoundError(f"No view with id {view_id} in this project.")
