"""Queries of the live pipeline: its state as it really is, and its metrics."""

from typing import Any
from uuid import UUID

from application.errors import BadRequestError
from application.live.state import LiveState
from application.ports.read_store import ReadStore
from application.queries.configuration import get_pipeline


def live_pipeline(read: ReadStore, state: LiveState, project_id: UUID) -> dict[str, Any]:
    """The pipeline, with `status` corrected when its runtime is not actually alive."""
    pipeline = get_pipeline(read, project_id)
    if pipeline["status"] == "running" and state.alive(project_id) is None:
        pipeline["status"] = "error"
        pipeline["error"] = "The pipeline's runtime is not running (its worker stopped); it is being restarted."
    return pipeline


def pipeline_metrics(read: ReadStore, state: LiveState, project_id: UUID, time_window: str | None) -> dict[str, Any]:
    get_pipeline(read, project_id)
    try:
        window = float(time_window) if time_window is not None else 60.0
    except ValueError:
        raise BadRequestError("time_window must be a number of seconds (1 to 3600).") from None
    if not 1 <= window <= 3600:
        raise BadRequestError("time_window must be between 1 and 3600 seconds.")
    return state.metrics(project_id, window)
