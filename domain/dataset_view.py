"""DatasetView: a named selection of a project's dataset items."""

from uuid import UUID

from eventsourcing.domain import event

from domain.aggregate import Aggregate
from domain.errors import ConflictingStateError


class ViewDeletedError(ConflictingStateError):
    """Raised when changing a view that was deleted."""


class DatasetView(Aggregate):
    """A named set of item ids within one project; names are unique per project (NameClaim)."""

    @event("Created")
    def __init__(self, id: UUID, project_id: UUID, name: str, user: str) -> None:
        self.project_id = project_id
        self.name = name
        self.item_ids: list[UUID] = []  # a list, kept sorted: snapshots store JSON
        self.deleted = False

    def check_not_deleted(self) -> None:
        if self.deleted:
            raise ViewDeletedError(f"The view '{self.name}' was deleted.")

    def add_items(self, item_ids: list[UUID], user: str) -> None:
        self.check_not_deleted()
        new = sorted(set(item_ids) - set(self.item_ids), key=str)
        if new:
            self._items_added(item_ids=new, user=user)

    @event("ItemsAdded")
    def _items_added(self, item_ids: list[UUID], user: str) -> None:
        self.item_ids = sorted(set(self.item_ids) | set(item_ids), key=str)

    def remove_items(self, item_ids: list[UUID], user: str) -> None:
        self.check_not_deleted()
        gone = sorted(set(item_ids) & set(self.item_ids), key=str)
        if gone:
            self._items_removed(item_ids=gone, user=user)

    @event("ItemsRemoved")
    def _items_removed(self, item_ids: list[UUID], user: str) -> None:
        self.item_ids = sorted(set(self.item_ids) - set(item_ids), key=str)

    def delete(self, user: str) -> None:
        self.check_not_deleted()
        self._deleted(user=user)

    @event("Deleted")
    def _deleted(self, user: str) -> None:
        self.deleted = True
