"""Commands on a project's pipeline configuration."""

from typing import Any
from uuid import UUID

from domain.model import Model
from domain.pipeline import UNSET, Pipeline
from domain.project import Project
from domain.sink import Sink
from domain.source import Source

from application.commands import Written, retrying
from application.event_store import EventStore


class PipelineCommands:
    """Point a pipeline at a source, a sink and a model, and set its collection policies."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    @retrying
    def configure(self, project_id: UUID, changes: dict[str, Any], user: str) -> Written:
        """`changes` may hold source_id, sink_id, model_id (None detaches) and data_collection."""
        self.store.load(Project, project_id, "project")
        pipeline = self.store.load(Pipeline, Pipeline.create_id(project_id), "pipeline")
        touched = []
        for key, cls in (("source_id", Source), ("sink_id", Sink)):
            if key in changes and changes[key] != getattr(pipeline, key):
                touched += self._move(pipeline, cls, getattr(pipeline, key), changes[key], user)
        if changes.get("model_id") is not None:
            self.store.load_in_project(Model, changes["model_id"], project_id, "model").check_usable()
        pipeline.configure(user, source_id=changes.get("source_id", UNSET),
                           sink_id=changes.get("sink_id", UNSET), model_id=changes.get("model_id", UNSET),
                           data_collection=changes.get("data_collection"))
        return Written(pipeline.id, self.store.commit(pipeline, *touched))

    def _move(self, pipeline: Pipeline, cls: type, old_id: UUID | None, new_id: UUID | None,
              user: str) -> list[Any]:
        """Detach the pipeline from the old connection and attach it to the new one."""
        touched = []
        if new_id is not None:
            new = self.store.load(cls, new_id, cls.kind)
            new.attach(pipeline.id, user)
            touched.append(new)
        if old_id is not None:
            old = self.store.find(old_id)
            if old is not None:
                old.detach(pipeline.id, user)  # type: ignore[attr-defined]
                touched.append(old)
        return touched
