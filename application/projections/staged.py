"""Read model of the staging area."""

from typing import Any

from domain.staged_dataset import StagedDataset

from application.ports.read_store import Transaction
from application.projections import Projection, handles, iso, to_json


class StagedDatasetsProjection(Projection):
    """`rm_staged_datasets`, one row per live staged dataset."""

    name = "staged_datasets"
    tables = ("rm_staged_datasets",)
    schema = (
        "CREATE TABLE IF NOT EXISTS rm_staged_datasets (id TEXT PRIMARY KEY, status TEXT NOT NULL, format TEXT, "
        "size BIGINT NOT NULL, metadata TEXT NOT NULL, error TEXT, origin TEXT NOT NULL, project_id TEXT, "
        "created_at TEXT NOT NULL)",
    )

    @handles(StagedDataset.Staged)
    def staged(self, event: Any, tx: Transaction) -> None:
        tx.execute("INSERT INTO rm_staged_datasets (id, status, size, metadata, origin, project_id, created_at) "
                   "VALUES (?, 'uploaded', ?, '{}', ?, ?, ?)",
                   (str(event.originator_id), event.size, event.origin, event.project_id and str(event.project_id),
                    iso(event.timestamp)))

    @handles(StagedDataset.Prepared)
    def prepared(self, event: Any, tx: Transaction) -> None:
        tx.execute("UPDATE rm_staged_datasets SET status = 'ready', format = ?, metadata = ?, error = NULL "
                   "WHERE id = ?", (event.format, to_json(event.metadata), str(event.originator_id)))

    @handles(StagedDataset.Invalidated)
    def invalidated(self, event: Any, tx: Transaction) -> None:
        tx.execute("UPDATE rm_staged_datasets SET status = 'invalid', error = ? WHERE id = ?",
                   (event.error, str(event.originator_id)))

    @handles(StagedDataset.Deleted)
    def deleted(self, event: Any, tx: Transaction) -> None:
        tx.execute("DELETE FROM rm_staged_datasets WHERE id = ?", (str(event.originator_id),))
