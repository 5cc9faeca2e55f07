"""Pipeline: one per project; which source, sink and model it runs and what it collects."""

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.aggregate import Aggregate
from domain.errors import ConflictingStateError, InvalidValueError

UNSET: Any = object()


class PipelineRunningError(ConflictingStateError):
    """Raised when a change needs the pipeline to be stopped first."""


class PipelineNotReadyError(ConflictingStateError):
    """Raised when enabling a pipeline that lacks a source or a trained model."""


class PipelineNotRunningError(ConflictingStateError):
    """Raised when asking a stopped pipeline for something only a running one can do."""


STATUSES = ("idle", "running", "error")


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
        kind, field = policy.get("type"), f"data_collection.policies.{i}"
        if kind not in ("fixed_rate", "confidence_threshold"):
            raise InvalidValueError(f"Unknown collection policy '{kind}'.", field=f"{field}.type")
        if kind == "fixed_rate" and not _number_in(policy.get("rate"), 0, None):
            raise InvalidValueError("A fixed_rate policy needs a rate above 0 (frames per second).", field=f"{field}.rate")
        if kind == "confidence_threshold" and not (_number_in(policy.get("confidence_threshold"), -1e-12, 1)
                                                   and _number_in(policy.get("min_sampling_interval", 1.0), 0, None)):
            raise InvalidValueError("A confidence_threshold policy needs a threshold from 0 to 1 and a positive "
                                    "min_sampling_interval.", field=f"{field}.confidence_threshold")


def _number_in(value: Any, above: float, at_most: float | None) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and value > above
            and (at_most is None or value <= at_most))


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
        self.status = "idle"
        self.error: str | None = None
        self.run = 0  # which run of the runtime is current (each enable starts a new one)
        self.captures_requested = 0
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
        self.check_keeps_running(changes)
        if changes:
            self._configured(changes=changes, user=user)

    @event("Configured")
    def _configured(self, changes: dict[str, Any], user: str) -> None:
        for key, value in changes.items():
            setattr(self, key, value)

    def check_keeps_running(self, changes: dict[str, Any]) -> None:
        """A running pipeline cannot lose its source or its model."""
        for key in ("source_id", "model_id"):
            if self.enabled and key in changes and changes[key] is None:
                raise PipelineRunningError(f"A running pipeline needs a {key[:-3]}; disable it first.")

    def enable(self, user: str) -> None:
        if self.enabled:
            return
        if self.source_id is None:
            raise PipelineNotReadyError("The pipeline has no source; choose one (PATCH source_id) first.")
        if self.model_id is None:
            raise PipelineNotReadyError("The pipeline has no trained model; choose one (PATCH model_id) first.")
        self._enabled(run=self.run + 1, project_id=self.project_id, user=user)

    @event("Enabled")
    def _enabled(self, run: int, project_id: UUID, user: str) -> None:
        self.enabled, self.run, self.status, self.error = True, run, "idle", None

    def disable(self, user: str) -> None:
        if self.enabled:
            self._disabled(user=user)

    @event("Disabled")
    def _disabled(self, user: str) -> None:
        self.enabled, self.status, self.error = False, "idle", None

    def report(self, run: int, status: str, error: str | None, user: str) -> None:
        """The runtime of `run` says how it is doing; reports of superseded runs are ignored."""
        if run == self.run and (status, error) != (self.status, self.error) and (self.enabled or status == "idle"):
            self._status_reported(status=status, error=error, user=user)

    @event("StatusReported")
    def _status_reported(self, status: str, error: str | None, user: str) -> None:
        self.status, self.error = status, error

    def request_capture(self, user: str) -> None:
        if not self.enabled or self.status != "running":
            raise PipelineNotRunningError("The pipeline is not running; enable it and wait until it runs.")
        self._capture_requested(number=self.captures_requested + 1, user=user)

    @event("CaptureRequested")
    def _capture_requested(self, number: int, user: str) -> None:
        self.captures_requested = number

    def delete(self, user: str) -> None:
        if self.enabled:
            raise PipelineRunningError("The project's pipeline is running; disable it first.")
        self._deleted(user=user)

    @event("Deleted")
    def _deleted(self, user: str) -> None:
        self.deleted = True
