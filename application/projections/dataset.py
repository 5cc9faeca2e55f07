"""Read model of dataset items, with label and tag index tables for filtering."""

from typing import Any
from uuid import UUID

from domain.annotations import label_ids_of, without_label
from domain.dataset_item import DatasetItem

from application.ports.read_store import Transaction
from application.projections import Projection, from_json, handles, iso, to_json


def annotations_row(annotations: list[dict[str, Any]]) -> str:
    """Annotations as JSON with label ids as strings."""
    return to_json([{**a, "labels": [{**label, "id": str(label["id"])} for label in a["labels"]]}
                    for a in annotations])


class DatasetItemsProjection(Projection):
    """`rm_items` (one row per live item), `rm_item_labels` and `rm_item_tags`."""

    name = "dataset_items"
    tables = ("rm_items", "rm_item_labels", "rm_item_tags")
    schema = (
        "CREATE TABLE IF NOT EXISTS rm_items (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, "
        "format TEXT NOT NULL, content_type TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, "
        "size BIGINT NOT NULL, media_sha256 TEXT NOT NULL, thumbnail_sha256 TEXT NOT NULL, "
        "subset TEXT NOT NULL, source TEXT NOT NULL, annotated INTEGER NOT NULL, user_reviewed INTEGER NOT NULL, "
        "tags TEXT NOT NULL, annotations TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, "
        "version INTEGER NOT NULL)",
        "CREATE INDEX IF NOT EXISTS rm_items_by_project ON rm_items (project_id, created_at, id)",
        "CREATE TABLE IF NOT EXISTS rm_item_labels (item_id TEXT NOT NULL, project_id TEXT NOT NULL, "
        "label_id TEXT NOT NULL, PRIMARY KEY (item_id, label_id))",
        "CREATE INDEX IF NOT EXISTS rm_item_labels_by_label ON rm_item_labels (project_id, label_id)",
        "CREATE TABLE IF NOT EXISTS rm_item_tags (item_id TEXT NOT NULL, project_id TEXT NOT NULL, "
        "tag TEXT NOT NULL, PRIMARY KEY (item_id, tag))",
        "CREATE INDEX IF NOT EXISTS rm_item_tags_by_tag ON rm_item_tags (project_id, tag)",
    )

    @handles(DatasetItem.Created)
    def created(self, event: Any, tx: Transaction) -> None:
        media = event.media
        tx.execute("INSERT INTO rm_items (id, project_id, name, format, content_type, width, height, size, "
                   "media_sha256, thumbnail_sha256, subset, source, annotated, user_reviewed, tags, annotations, "
                   "created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'unassigned', ?, 0, 0, "
                   "'[]', '[]', ?, ?, ?)",
                   (str(event.originator_id), str(event.project_id), event.name, media["format"],
                    media["content_type"], media["width"], media["height"], media["size"], media["sha256"],
                    media["thumbnail_sha256"], event.source, iso(event.timestamp), iso(event.timestamp),
                    event.originator_version))

    @handles(DatasetItem.AnnotationsReplaced)
    def annotations_replaced(self, event: Any, tx: Transaction) -> None:
        self._annotations(tx, event, event.annotations, annotated=True, reviewed=event.user_reviewed)

    @handles(DatasetItem.AnnotationsCleared)
    def annotations_cleared(self, event: Any, tx: Transaction) -> None:
        self._annotations(tx, event, [], annotated=False, reviewed=False)

    @handles(DatasetItem.LabelStripped)
    def label_stripped(self, event: Any, tx: Transaction) -> None:
        rows = tx.query("SELECT annotations FROM rm_items WHERE id = ?", (str(event.originator_id),))
        if rows:
            current = [{**a, "labels": [{**label, "id": UUID(label["id"])} for label in a["labels"]]}
                       for a in from_json(rows[0]["annotations"])]
            remaining = without_label(current, event.label_id)
            self._annotations(tx, event, remaining, annotated=False, reviewed=False, keep_flags=bool(remaining))

    @handles(DatasetItem.TagsChanged)
    def tags_changed(self, event: Any, tx: Transaction) -> None:
        item_id = str(event.originator_id)
        for tag in event.added:
            tx.execute("INSERT INTO rm_item_tags (item_id, project_id, tag) SELECT id, project_id, ? FROM rm_items "
                       "WHERE id = ? ON CONFLICT DO NOTHING", (tag, item_id))
        for tag in event.removed:
            tx.execute("DELETE FROM rm_item_tags WHERE item_id = ? AND tag = ?", (item_id, tag))
        tags = [row["tag"] for row in tx.query("SELECT tag FROM rm_item_tags WHERE item_id = ? ORDER BY tag",
                                               (item_id,))]
        self._set(tx, event, tags=to_json(tags))

    @handles(DatasetItem.SubsetAssigned)
    def subset_assigned(self, event: Any, tx: Transaction) -> None:
        self._set(tx, event, subset=event.subset)

    @handles(DatasetItem.Deleted)
    def deleted(self, event: Any, tx: Transaction) -> None:
        for table, column in (("rm_items", "id"), ("rm_item_labels", "item_id"), ("rm_item_tags", "item_id")):
            tx.execute(f"DELETE FROM {table} WHERE {column} = ?", (str(event.originator_id),))

    def _annotations(self, tx: Transaction, event: Any, annotations: list[dict[str, Any]], annotated: bool = True,
                     reviewed: bool = False, keep_flags: bool = False) -> None:
        item_id = str(event.originator_id)
        tx.execute("DELETE FROM rm_item_labels WHERE item_id = ?", (item_id,))
        for label_id in sorted(label_ids_of(annotations), key=str):
            tx.execute("INSERT INTO rm_item_labels (item_id, project_id, label_id) SELECT id, project_id, ? "
                       "FROM rm_items WHERE id = ?", (str(label_id), item_id))
        flags = {} if keep_flags else {"annotated": int(annotated), "user_reviewed": int(reviewed)}
        self._set(tx, event, annotations=annotations_row(annotations), **flags)

    def _set(self, tx: Transaction, event: Any, **columns: Any) -> None:
        assignments = "".join(f"{column} = ?, " for column in columns)
        tx.execute(f"UPDATE rm_items SET {assignments}updated_at = ?, version = ? WHERE id = ?",
                   (*columns.values(), iso(event.timestamp), event.originator_version, str(event.originator_id)))

