"""Read model of pipelines: which source, sink and model each project's pipeline uses."""

from typing import Any

from domain.pipeline import Pipeline

from application.ports.read_store import Transaction
from application.projections import Projection, handles, iso, to_json


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class PipelinesProjection(Projection):
    """The `rm_pipelines` read model, one row per project."""

    name = "pipelines"
    tables = ("rm_pipelines",)
    schema = (
        "CREATE TABLE IF NOT EXISTS rm_pipelines (project_id TEXT PRIMARY KEY, id TEXT NOT NULL, "
        "source_id TEXT, sink_id TEXT, model_id TEXT, status TEXT NOT NULL, enabled INTEGER NOT NULL, "
        "data_collection TEXT NOT NULL, error TEXT, run INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL)",
    )

    @handles(Pipeline.Created)
    def created(self, event: Any, tx: Transaction) -> None:
        tx.execute("INSERT INTO rm_pipelines (project_id, id, status, enabled, data_collection, updated_at) "
                   "VALUES (?, ?, 'idle', 0, ?, ?)",
                   (str(event.project_id), str(event.originator_id),
                    to_json({"max_dataset_size": None, "policies": []}), iso(event.timestamp)))

    @handles(Pipeline.Configured)
    def configured(self, event: Any, tx: Transaction) -> None:
        columns = {k: _text(v) for k, v in event.changes.items() if k in ("source_id", "sink_id", "model_id")}
        if "data_collection" in event.changes:
            columns["data_collection"] = to_json(event.changes["data_collection"])
        assignments = "".join(f"{column} = ?, " for column in columns)
        tx.execute(f"UPDATE rm_pipelines SET {assignments}updated_at = ? WHERE id = ?",
                   (*columns.values(), iso(event.timestamp), str(event.originator_id)))

    @handles(Pipeline.Enabled)
    def enabled(self, event: Any, tx: Transaction) -> None:
        tx.execute("UPDATE rm_pipelines SET enabled = 1, status = 'idle', error = NULL, run = ?, updated_at = ? "
                   "WHERE id = ?", (event.run, iso(event.timestamp), str(event.originator_id)))

    @handles(Pipeline.Disabled)
    def disabled(self, event: Any, tx: Transaction) -> None:
        tx.execute("UPDATE rm_pipelines SET enabled = 0, status = 'idle', error = NULL, updated_at = ? WHERE id = ?",
                   (iso(event.timestamp), str(event.originator_id)))

    @handles(Pipeline.StatusReported)
    def status_reported(self, event: Any, tx: Transaction) -> None:
        tx.execute("UPDATE rm_pipelines SET status = ?, error = ?, updated_at = ? WHERE id = ?",
                   (event.status, event.error, iso(event.timestamp), str(event.originator_id)))

    @handles(Pipeline.Deleted)
    def deleted(self, event: Any, tx: Transaction) -> None:
        tx.execute("DELETE FROM rm_pipelines WHERE id = ?", (str(event.originator_id),))
