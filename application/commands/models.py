"""Commands on models and dataset revisions: delete (or free the files of) what no pipeline uses."""

import shutil
from pathlib import Path
from uuid import UUID

from domain.dataset_revision import DatasetRevision, RevisionInUseError
from domain.errors import ConflictingStateError
from domain.model import Model
from domain.pipeline import Pipeline

from application.commands import Written, retrying
from application.event_store import EventStore
from application.ports.media import MediaStore
from application.ports.read_store import ReadStore


class ModelInUseError(ConflictingStateError):
    """Raised when deleting a model that the project's pipeline is configured to run."""


class ModelCommands:
    """Delete models (or only their weights) and free the files of dataset revisions."""

    def __init__(self, store: EventStore, read: ReadStore, media: MediaStore, models_dir: Path) -> None:
        self.store, self.read, self.media, self.models_dir = store, read, media, models_dir

    def model(self, project_id: UUID, model_id: UUID) -> Model:
        return self.store.load_in_project(Model, model_id, project_id, "model")

    def files(self, model_id: UUID) -> Path:
        return self.models_dir / str(model_id)

    def _pipeline_model(self, project_id: UUID) -> UUID | None:
        pipeline = self.store.find(Pipeline.create_id(project_id))
        return pipeline.model_id if isinstance(pipeline, Pipeline) else None

    @retrying
    def delete(self, project_id: UUID, model_id: UUID, weights_only: bool, user: str) -> Written:
        model = self.model(project_id, model_id)
        model.check_not_training()
        if self._pipeline_model(project_id) == model_id:
            raise ModelInUseError(f"Model '{model.name}' is the project's pipeline model; choose another first.")
        model.delete_weights(user)
        if not weights_only:
            model.delete(user)
        written = Written(model.id, self.store.commit(model))
        shutil.rmtree(self.files(model_id), ignore_errors=True)
        return written

    @retrying
    def delete_revision_files(self, project_id: UUID, revision_id: UUID, user: str) -> Written:
        revision = self.store.load_in_project(DatasetRevision, revision_id, project_id, "dataset revision")
        pipeline_model = self._pipeline_model(project_id)
        if pipeline_model is not None and self.model(project_id, pipeline_model).dataset_revision_id == revision_id:
            raise RevisionInUseError("The project's pipeline model was trained on this revision; choose another "
                                     "model first.")
        revision.delete_files(user)
        written = Written(revision.id, self.store.commit(revision))
        for entry in revision.entries:
            for sha256 in (entry["media"]["sha256"], entry["media"]["thumbnail_sha256"]):
                if not self._used_elsewhere(sha256, revision_id):
                    self.media.delete(sha256)
        return written

    def _used_elsewhere(self, sha256: str, revision_id: UUID) -> bool:
        return bool(self.read.query_one(
            "SELECT 1 AS found FROM rm_items WHERE media_sha256 = ? OR thumbnail_sha256 = ? LIMIT 1",
            (sha256, sha256)) or self.read.query_one(
            "SELECT 1 AS found FROM rm_revision_items i JOIN rm_revisions r ON r.id = i.revision_id "
            "WHERE r.files_deleted = 0 AND r.id <> ? AND (i.media_sha256 = ? OR i.thumbnail_sha256 = ?) LIMIT 1",
            (str(revision_id), sha256, sha256)))
