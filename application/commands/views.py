"""Commands on dataset views: named selections of items, names unique per project."""

from uuid import UUID, uuid4

from domain.dataset_view import DatasetView
from domain.project import Project

from application.commands import Written, retrying
from application.commands.names import claim_name, release_name
from application.errors import ConflictError
from application.event_store import EventStore

VIEW = "view"


class ViewCommands:
    """Create, fill, empty and delete views."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def view(self, project_id: UUID, view_id: UUID) -> DatasetView:
        return self.store.load_in_project(DatasetView, view_id, project_id, "view")

    @retrying
    def create(self, project_id: UUID, name: str, user: str, id: UUID | None = None) -> Written:
        self.store.load(Project, project_id, "project")
        if id is not None and self.store.exists(id):
            raise ConflictError(f"A resource with id {id} already exists.")
        view = DatasetView(id=id or uuid4(), project_id=project_id, name=name, user=user)
        claim = claim_name(self.store, VIEW, name, view.id, user, scope=str(project_id))
        return Written(view.id, self.store.commit(view, claim))

    @retrying
    def add_items(self, project_id: UUID, view_id: UUID, item_ids: list[UUID], user: str) -> Written:
        view = self.view(project_id, view_id)
        view.add_items(item_ids, user)
        return Written(view.id, self.store.commit(view))

    @retrying
    def remove_items(self, project_id: UUID, view_id: UUID, item_ids: list[UUID], user: str) -> Written:
        view = self.view(project_id, view_id)
        view.remove_items(item_ids, user)
        return Written(view.id, self.store.commit(view))

    @retrying
    def delete(self, project_id: UUID, view_id: UUID, user: str) -> Written:
        view = self.view(project_id, view_id)
        view.delete(user)
        claim = release_name(self.store, VIEW, view.name, view.id, user, scope=str(project_id))
        return Written(view.id, self.store.commit(view, claim))
