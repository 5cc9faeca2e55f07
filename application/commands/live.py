"""Commands that start, stop and steer the live pipeline; at most one runs in the deployment."""

from uuid import UUID

from domain.model import Model
from domain.name_claim import NameClaim, NameTakenError
from domain.pipeline import Pipeline

from application.commands import Written, retrying
from application.commands.names import claim_name, release_name
from application.errors import ConflictError
from application.event_store import EventStore

RUNNING = "running-pipeline"  # one NameClaim for the whole deployment: who runs
RUNNER = "runtime"


class LiveCommands:
    """Enable, disable, capture; the runtime's status reports."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    def pipeline(self, project_id: UUID) -> Pipeline:
        return self.store.load(Pipeline, Pipeline.create_id(project_id), "project")

    @retrying
    def enable(self, project_id: UUID, user: str) -> Written:
        pipeline = self.pipeline(project_id)
        if pipeline.model_id is not None:
            self.store.load(Model, pipeline.model_id, "model").check_usable()
        pipeline.enable(user)
        try:
            claim = claim_name(self.store, RUNNING, RUNNING, pipeline.id, user)
        except NameTakenError:
            owner = self.store.load(NameClaim, NameClaim.create_id(RUNNING, RUNNING), "claim").owner_id
            raise ConflictError(f"Another project's pipeline ({owner}) is running; at most one runs at a "
                                "time. Disable it first.") from None
        return Written(pipeline.id, self.store.commit(pipeline, claim))

    @retrying
    def disable(self, project_id: UUID, user: str) -> Written:
        pipeline = self.pipeline(project_id)
        pipeline.disable(user)
        claim = release_name(self.store, RUNNING, RUNNING, pipeline.id, user)
        return Written(pipeline.id, self.store.commit(pipeline, claim))

    @retrying
    def capture(self, project_id: UUID, user: str) -> Written:
        pipeline = self.pipeline(project_id)
        pipeline.request_capture(user)
        return Written(pipeline.id, self.store.commit(pipeline))

    @retrying
    def report(self, project_id: UUID, run: int, status: str, error: str | None) -> None:
        pipeline = self.pipeline(project_id)
        pipeline.report(run, status, error, RUNNER)
        self.store.commit(pipeline)
