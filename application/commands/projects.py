"""Commands on projects: create with their pipeline, rename, labels, training config, delete."""

from typing import Any
from uuid import UUID

from domain.pipeline import Pipeline, PipelineRunningError
from domain.project import LabelEdit, NewLabel, Project

from application.commands import Written, retrying
from application.commands.names import claim_name, release_name, rename_claims
from application.errors import ConflictError
from application.event_store import EventStore

PROJECT = "project"


class ProjectCommands:
    """Use cases that change projects."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    @retrying
    def create(self, name: str, task_type: str, exclusive_labels: bool, labels: list[NewLabel],
               user: str, id: UUID | None = None) -> Written:
        """A project, its name claim and its (idle) pipeline, saved together."""
        if id is not None and self.store.exists(id):
            raise ConflictError(f"A resource with id {id} already exists.")
        project = Project.start(name, task_type, exclusive_labels, labels, user, id=id)
        claim = claim_name(self.store, PROJECT, name, project.id, user)
        pipeline = Pipeline(project_id=project.id, user=user)
        return Written(project.id, self.store.commit(project, claim, pipeline))

    @retrying
    def rename(self, project_id: UUID, name: str, user: str) -> Written:
        project = self.store.load(Project, project_id, PROJECT)
        claims = rename_claims(self.store, PROJECT, project.name, name, project.id, user)
        project.rename(name, user)
        return Written(project.id, self.store.commit(project, *claims))

    @retrying
    def change_labels(self, project_id: UUID, add: list[NewLabel], edit: list[LabelEdit],
                      remove: list[UUID], user: str) -> Written:
        project = self.store.load(Project, project_id, PROJECT)
        project.change_labels(add, edit, remove, user)
        return Written(project.id, self.store.commit(project))

    @retrying
    def configure_training(self, project_id: UUID, changes: dict[str, Any], user: str) -> Written:
        project = self.store.load(Project, project_id, PROJECT)
        project.configure_training(changes, user)
        return Written(project.id, self.store.commit(project))

    @retrying
    def delete(self, project_id: UUID, user: str) -> Written:
        """Delete the project and its pipeline; free its name and its source and sink."""
        project = self.store.load(Project, project_id, PROJECT)
        pipeline = self.store.load(Pipeline, Pipeline.create_id(project_id), "pipeline")
        if pipeline.enabled:
            raise PipelineRunningError(f"The pipeline of project '{project.name}' is running; disable it first.")
        attached = [self.store.find(i) for i in (pipeline.source_id, pipeline.sink_id) if i is not None]
        for connection in attached:
            connection.detach(pipeline.id, user)  # type: ignore[union-attr]
        pipeline.delete(user)
        project.delete(user)
        claim = release_name(self.store, PROJECT, project.name, project.id, user)
        return Written(project.id, self.store.commit(project, pipeline, claim, *attached))
