"""Model: a trained network of a project, its training record, variants and evaluation."""

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.aggregate import Aggregate
from domain.errors import ConflictingStateError


class ModelNotTrainedError(ConflictingStateError):
    """Raised when using a model that is not (or no longer) trained with its weights present."""


class Model(Aggregate):
    """status training → trained | failed; weights can be deleted while the record stays."""

    @event("TrainingStarted")
    def __init__(self, id: UUID, project_id: UUID, name: str, architecture: str, task_type: str, job_id: UUID,
                 dataset_revision_id: UUID, labels: list[dict[str, Any]], user: str) -> None:
        self.project_id = project_id
        self.name = name
        self.architecture = architecture
        self.task_type = task_type
        self.job_id = job_id
        self.dataset_revision_id = dataset_revision_id
        self.labels = labels
        self.status = "training"
        self.variants: list[dict[str, Any]] = []
        self.metrics: list[dict[str, Any]] = []
        self.deleted = False

    def trained(self, variant: dict[str, Any], metrics: list[dict[str, Any]], duration_s: float, user: str) -> None:
        self._trained(variant=variant, metrics=metrics, duration_s=duration_s, user=user)

    @event("Trained")
    def _trained(self, variant: dict[str, Any], metrics: list[dict[str, Any]], duration_s: float, user: str) -> None:
        self.status, self.variants, self.metrics = "trained", [variant], metrics

    def failed(self, error: str, user: str) -> None:
        if self.status == "training":
            self._failed(error=error, user=user)

    @event("TrainingFailed")
    def _failed(self, error: str, user: str) -> None:
        self.status = "failed"

    def check_usable(self) -> None:
        if self.deleted or self.status != "trained" or all(v["files_deleted"] for v in self.variants):
            raise ModelNotTrainedError(f"Model '{self.name}' is not a trained model with its weights.")

    def delete_weights(self, user: str) -> None:
        if any(not v["files_deleted"] for v in self.variants):
            self._weights_deleted(user=user)

    @event("WeightsDeleted")
    def _weights_deleted(self, user: str) -> None:
        self.variants = [{**v, "files_deleted": True} for v in self.variants]

    def check_not_training(self) -> None:
        if self.status == "training":
            raise ConflictingStateError(f"Model '{self.name}' is still training; cancel its job first.")

    def delete(self, user: str) -> None:
        if not self.deleted:
            self._deleted(user=user)

    @event("Deleted")
    def _deleted(self, user: str) -> None:
        self.deleted = True
