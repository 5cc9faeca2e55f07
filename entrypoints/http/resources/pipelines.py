"""A project's pipeline configuration over HTTP."""

from uuid import UUID

import falcon

from application.queries.configuration import get_pipeline
from entrypoints.http.body import load
from entrypoints.http.resources import CommandResource
from entrypoints.http.schemas.projects import PipelinePatchSchema


class ProjectPipeline(CommandResource):
    """/api/projects/{project_id}/pipeline"""

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        resp.media = get_pipeline(self.read, project_id)

    def on_patch(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        changes = load(req, PipelinePatchSchema())
        written = self.commands.configure(project_id, changes, req.context.user)
        self.consistency.respond(resp, written, lambda: get_pipeline(self.read, project_id))
