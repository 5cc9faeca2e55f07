"""Projects over HTTP: create, list, get, rename, delete, labels, training configuration."""

from uuid import UUID

import falcon

from application.errors import BadRequestError
from application.ports.training import ArchitectureCatalog
from application.training_parameters import training_tree
from application.queries.configuration import get_labels, get_project, get_training_configuration, list_projects
from domain.project import LabelEdit, NewLabel
from entrypoints.http.body import load, read_json
from entrypoints.http.resources import CommandResource, ReadYourWrites
from entrypoints.http.schemas.projects import LabelsChangeSchema, ProjectCreateSchema, ProjectRenameSchema



class Projects(CommandResource):
    """/api/projects"""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = list_projects(self.read)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = load(req, ProjectCreateSchema())
        task = body["task"]
        labels = [NewLabel(**label) for label in task["labels"]]
        written = self.commands.create(body["name"], task["task_type"], task["exclusive_labels"], labels,
                                       req.context.user, id=body.get("id"))
        self.consistency.respond(resp, written, lambda: get_project(self.read, written.id),
                                 falcon.HTTP_201, f"/api/projects/{written.id}")


class Project(CommandResource):
    """/api/projects/{project_id}"""

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        resp.media = get_project(self.read, project_id)

    def on_patch(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        body = load(req, ProjectRenameSchema())
        written = self.commands.rename(project_id, body["name"], req.context.user)
        self.consistency.respond(resp, written, lambda: get_project(self.read, project_id))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        written = self.commands.delete(project_id, req.context.user)
        self.consistency.respond(resp, written, dict, falcon.HTTP_204)


class ProjectLabels(CommandResource):
    """/api/projects/{project_id}/labels"""

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        resp.media = get_labels(self.read, project_id)

    def on_patch(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        body = load(req, LabelsChangeSchema())
        written = self.commands.change_labels(
            project_id,
            add=[NewLabel(**label) for label in body["labels_to_add"]],
            edit=[LabelEdit(**edit) for edit in body["labels_to_edit"]],
            remove=[ref["id"] for ref in body["labels_to_remove"]],
            user=req.context.user)
        self.consistency.respond(resp, written, lambda: get_labels(self.read, project_id))


class TrainingConfiguration(CommandResource):
    """/api/projects/{project_id}/training_configuration"""

    def __init__(self, commands: object, read: object, consistency: ReadYourWrites,
                 catalog: ArchitectureCatalog) -> None:
        super().__init__(commands, read, consistency)
        self.tree_of = lambda task_type: training_tree(catalog, task_type)

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        resp.media = get_training_configuration(self.read, project_id, self.tree_of)

    def on_patch(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        changes = read_json(req)
        if not isinstance(changes, dict) or not changes:
            raise BadRequestError("The body must be a non-empty JSON object of dotted keys to values.")
        written = self.commands.configure_training(project_id, changes, req.context.user)
        self.consistency.respond(resp, written, lambda: get_training_configuration(self.read, project_id, self.tree_of))
