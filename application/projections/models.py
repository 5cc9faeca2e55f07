"""Read models of trained models and dataset revisions (with the items each revision froze)."""

from typing import Any

from domain.dataset_revision import DatasetRevision
from domain.model import Model

from application.ports.read_store import Transaction
from application.projections import Projection, from_json, handles, iso, to_json


class ModelsProjection(Projection):
    """`rm_models`: one row per live model."""

    name = "models"
    tables = ("rm_models",)
    schema = (
        "CREATE TABLE IF NOT EXISTS rm_models (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, "
        "architecture TEXT NOT NULL, task_type TEXT NOT NULL, status TEXT NOT NULL, job_id TEXT NOT NULL, "
        "dataset_revision_id TEXT NOT NULL, labels TEXT NOT NULL, variants TEXT NOT NULL, metrics TEXT NOT NULL, "
        "created_at TEXT NOT NULL, finished_at TEXT, duration_s DOUBLE PRECISION)",
    )

    @handles(Model.TrainingStarted)
    def started(self, event: Any, tx: Transaction) -> None:
        tx.execute("INSERT INTO rm_models (id, project_id, name, architecture, task_type, status, job_id, "
                   "dataset_revision_id, labels, variants, metrics, created_at) "
                   "VALUES (?, ?, ?, ?, ?, 'training', ?, ?, ?, '[]', '[]', ?)",
                   (str(event.originator_id), str(event.project_id), event.name, event.architecture, event.task_type,
                    str(event.job_id), str(event.dataset_revision_id), to_json(event.labels), iso(event.timestamp)))

    @handles(Model.Trained)
    def trained(self, event: Any, tx: Transaction) -> None:
        tx.execute("UPDATE rm_models SET status = 'trained', variants = ?, metrics = ?, finished_at = ?, "
                   "duration_s = ? WHERE id = ?", (to_json([event.variant]), to_json(event.metrics),
                                                    iso(event.timestamp), event.duration_s, str(event.originator_id)))

    @handles(Model.TrainingFailed)
    def failed(self, event: Any, tx: Transaction) -> None:
        tx.execute("UPDATE rm_models SET status = 'failed', finished_at = ? WHERE id = ?",
                   (iso(event.timestamp), str(event.originator_id)))

    @handles(Model.WeightsDeleted)
    def weights_deleted(self, event: Any, tx: Transaction) -> None:
        rows = tx.query("SELECT variants FROM rm_models WHERE id = ?", (str(event.originator_id),))
        if rows:
            variants = [{**v, "files_deleted": True} for v in from_json(rows[0]["variants"])]
            tx.execute("UPDATE rm_models SET variants = ? WHERE id = ?", (to_json(variants), str(event.originator_id)))

    @handles(Model.Deleted)
    def deleted(self, event: Any, tx: Transaction) -> None:
        tx.execute("DELETE FROM rm_models WHERE id = ?", (str(event.originator_id),))


class RevisionsProjection(Projection):
    """`rm_revisions` and `rm_revision_items`."""

    name = "revisions"
    tables = ("rm_revisions", "rm_revision_items")
    schema = (
        "CREATE TABLE IF NOT EXISTS rm_revisions (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, "
        "created_at TEXT NOT NULL, files_deleted INTEGER NOT NULL, item_counts TEXT NOT NULL, size BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS rm_revision_items (revision_id TEXT NOT NULL, item_id TEXT NOT NULL, "
        "version INTEGER NOT NULL, subset TEXT NOT NULL, name TEXT NOT NULL, format TEXT NOT NULL, "
        "content_type TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, size BIGINT NOT NULL, "
        "media_sha256 TEXT NOT NULL, thumbnail_sha256 TEXT NOT NULL, annotations TEXT NOT NULL, "
        "PRIMARY KEY (revision_id, item_id))",
        "CREATE INDEX IF NOT EXISTS rm_revision_items_by_media ON rm_revision_items (media_sha256)",
    )

    @handles(DatasetRevision.Created)
    def created(self, event: Any, tx: Transaction) -> None:
        counts = {"total": len(event.entries), "training": 0, "validation": 0, "testing": 0}
        for entry in event.entries:
            counts[entry["subset"]] = counts.get(entry["subset"], 0) + 1
            media = entry["media"]
            tx.execute("INSERT INTO rm_revision_items (revision_id, item_id, version, subset, name, format, "
                       "content_type, width, height, size, media_sha256, thumbnail_sha256, annotations) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (str(event.originator_id), str(entry["item_id"]), entry["version"], entry["subset"],
                        entry["name"], media["format"], media["content_type"], media["width"], media["height"],
                        media["size"], media["sha256"], media["thumbnail_sha256"], to_json(entry["annotations"])))
        tx.execute("INSERT INTO rm_revisions (id, project_id, created_at, files_deleted, item_counts, size) "
                   "VALUES (?, ?, ?, 0, ?, ?)", (str(event.originator_id), str(event.project_id), iso(event.timestamp),
                                                  to_json(counts), sum(e["media"]["size"] for e in event.entries)))

    @handles(DatasetRevision.FilesDeleted)
    def files_deleted(self, event: Any, tx: Transaction) -> None:
        tx.execute("UPDATE rm_revisions SET files_deleted = 1 WHERE id = ?", (str(event.originator_id),))
