"""Read model of dataset views and their items (items that are deleted leave every view)."""

from typing import Any

from domain.dataset_item import DatasetItem
from domain.dataset_view import DatasetView

from application.ports.read_store import Transaction
from application.projections import Projection, handles, iso


class DatasetViewsProjection(Projection):
    """`rm_views` and `rm_view_items`."""

    name = "dataset_views"
    tables = ("rm_views", "rm_view_items")
    schema = (
        "CREATE TABLE IF NOT EXISTS rm_views (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, "
        "created_at TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS rm_view_items (view_id TEXT NOT NULL, item_id TEXT NOT NULL, "
        "PRIMARY KEY (view_id, item_id))",
        "CREATE INDEX IF NOT EXISTS rm_view_items_by_item ON rm_view_items (item_id)",
    )

    @handles(DatasetView.Created)
    def created(self, event: Any, tx: Transaction) -> None:
        tx.execute("INSERT INTO rm_views (id, project_id, name, created_at) VALUES (?, ?, ?, ?)",
                   (str(event.originator_id), str(event.project_id), event.name, iso(event.timestamp)))

    @handles(DatasetView.ItemsAdded)
    def items_added(self, event: Any, tx: Transaction) -> None:
        for item_id in event.item_ids:
            tx.execute("INSERT INTO rm_view_items (view_id, item_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                       (str(event.originator_id), str(item_id)))

    @handles(DatasetView.ItemsRemoved)
    def items_removed(self, event: Any, tx: Transaction) -> None:
        for item_id in event.item_ids:
            tx.execute("DELETE FROM rm_view_items WHERE view_id = ? AND item_id = ?",
                       (str(event.originator_id), str(item_id)))

    @handles(DatasetView.Deleted)
    def deleted(self, event: Any, tx: Transaction) -> None:
        tx.execute("DELETE FROM rm_view_items WHERE view_id = ?", (str(event.originator_id),))
        tx.execute("DELETE FROM rm_views WHERE id = ?", (str(event.originator_id),))

    @handles(DatasetItem.Deleted)
    def item_deleted(self, event: Any, tx: Transaction) -> None:
        tx.execute("DELETE FROM rm_view_items WHERE item_id = ?", (str(event.originator_id),))
