"""The engine's side of the live pipeline: start a run when enabled; restart one whose runtime died."""

import time
from typing import Any
from uuid import UUID

from domain.pipeline import Pipeline

from application.live.state import LEASE_S, LiveState
from application.policies import Policy
from application.ports.job_queue import JobQueue
from application.ports.read_store import ReadStore

RESTART_AFTER_S = 3 * LEASE_S


class WhenPipelineEnabledStartIt(Policy):
    """`Enabled` → a worker runs the pipeline (the runtime itself notices `Disabled`)."""

    name = "policy:start_pipelines"

    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue

    def handle(self, event: Any) -> None:
        if isinstance(event, Pipeline.Enabled):
            self.queue.start_pipeline(event.project_id, event.run)


class PipelineRecovery:
    """An enabled pipeline without a live runtime (its worker died) is queued again."""

    def __init__(self, read: ReadStore, state: LiveState, queue: JobQueue) -> None:
        self.read, self.state, self.queue = read, state, queue
        self.queued_at: dict[str, float] = {}

    def check(self) -> None:
        for row in self.read.query("SELECT project_id, run FROM rm_pipelines WHERE enabled = 1"):
            project_id = row["project_id"]
            if self.state.alive(UUID(project_id)) is not None:
                continue
            if time.monotonic() - self.queued_at.get(project_id, -RESTART_AFTER_S) < RESTART_AFTER_S:
                continue
            self.queued_at[project_id] = time.monotonic()
            self.queue.start_pipeline(UUID(project_id), int(row["run"]))
