"""Pipeline: one per project; which source, sink and model it runs and what it collects."""

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.aggregate import Aggregate
from domain.errors import ConflictingStateError, InvalidValueError

UNSET: Any = object()


class PipelineRunningError(ConflictingStateError):
    """Raised when a change needs the pipeline to be stopped first."""


def pipeline_id_of(project_id: UUID) -> UUID:
    """Each project has exactly one pipeline, whose id derives from the project's."""
    return uuid5(NAMESPACE_URL, f"viewfinder:pipeline:{project_id}")


def check_data_collection(data_collection: dict[str, Any]) -> None:
    """Collection policies: fixed_rate (rate > 0) and confidence_threshold (0..1)."""
    size = data_collection.get("max_dataset_size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
        raise InvalidValueError("max_dataset_size must be a positive integer or null.",
                                field="data_collection.max_dataset_size")
    for i, policy in enumerate(data_collection.get("policies", [])):
        kind = policy.get("type")
        if kind not in ("fixed_rate", "confidence_threshold"):
            raise InvalidValueError(f"Unknown collection policy '{kind}'.", field=f"data_collection.policies.{i}.type")


class Pipeline(Aggregate):
    """The configuration and run state of a project's live pipeline."""

    @staticmethod
    def create_id(project_id: UUID) -> UUID:
        return pipeline_id_of(project_id)

    @event("Created")
    def __init__(self, project_id: UUID, user: str) -> None:
        self.project_id = project_id
        self.source_id: UUID | None = None
        self.sink_id: UUID | None = None
        self.model_id: UUID | None = None
        self.data_collection: dict[str, Any] = {"max_dataset_size": None, "policies": []}
        self.enabled = False
        self.deleted = False

    def configure(self, user: str, source_id: UUID | None = UNSET, sink_id: UUID | None = UNSET,
                  model_id: UUID | None = UNSET, data_collection: dict[str, Any] | None = None) -> None:
        """Change any of the references or the collection policies; unset ones stay."""
        if data_collection is not None:
            check_data_collection(data_collection)
        candidates: dict[str, Any] = {"source_id": source_id, "sink_id": sink_id, "model_id": model_id}
        if data_collection is not None:
            candidates["data_collection"] = data_collection
        changes = {k: v for k, v in candidates.items() if v is not UNSET and getattr(self, k) != v}
        if changes:
            self._configured(changes=changes, user=user)

    @event("Configured")
    def _configured(self, changes: dict[str, Any], user: str) -> None:
        for key, value in changes.items():
            setattr(self, key, value)

    def delete(self, user: str) -> None:
        if self.enabled:
            raise PipelineRunningError("The project's pipeline is running; disable it first.")
        self._deleted(user=user)

    @event("Deleted")
    def _deleted(self, user: str) -> None:
        self.deleted = True
