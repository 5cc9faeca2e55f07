"""Annotations and history of dataset items over HTTP, including point-in-time reads."""

from uuid import UUID

import falcon

from application.errors import BadRequestError
from application.event_store import EventStore
from application.queries.dataset import item_annotations
from application.queries.history import HistoryFilter, annotations_at, item_history, project_history
from entrypoints.http import params
from entrypoints.http.body import load
from entrypoints.http.resources import CommandResource, ReadYourWrites
from entrypoints.http.schemas.dataset import AnnotationsSchema


class ItemAnnotations(CommandResource):
    """/api/projects/{project_id}/dataset/items/{item_id}/annotations[?version=N|?as_of=T]"""

    def __init__(self, commands: object, read: object, consistency: ReadYourWrites, store: EventStore) -> None:
        super().__init__(commands, read, consistency)
        self.store = store

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, item_id: UUID) -> None:
        version, as_of = req.get_param("version"), params.moment(req.get_param("as_of"), "as_of")
        if version is not None and as_of is not None:
            raise BadRequestError("Give either 'version' or 'as_of', not both.")
        if version is None and as_of is None:
            resp.media = item_annotations(self.read, project_id, item_id)
            return
        number = params.integer(req, "version", 0, 1, 2**31) if version is not None else None
        resp.media = annotations_at(self.store, self.read, project_id, item_id, version=number, as_of=as_of)

    def on_post(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, item_id: UUID) -> None:
        body = load(req, AnnotationsSchema())
        written = self.commands.annotate(project_id, item_id, body["annotations"], req.context.user)
        self.consistency.respond(resp, written, lambda: item_annotations(self.read, project_id, item_id),
                                 falcon.HTTP_201)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, item_id: UUID) -> None:
        written = self.commands.clear_annotations(project_id, item_id, req.context.user)
        self.consistency.respond(resp, written, dict, falcon.HTTP_204)


class ItemHistory:
    """/api/projects/{project_id}/dataset/items/{item_id}/history"""

    def __init__(self, read: object) -> None:
        self.read = read

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, item_id: UUID) -> None:
        resp.media = item_history(self.read, project_id, item_id, params.page(req))


class ProjectHistory:
    """/api/projects/{project_id}/history"""

    def __init__(self, read: object) -> None:
        self.read = read

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        item_ids = params.id_list(req.get_param("item_id"), "item_id")
        filters = HistoryFilter(kind=req.get_param("kind"), item_id=UUID(item_ids[0]) if item_ids else None,
                                since=params.iso(req, "since"), until=params.iso(req, "until"))
        resp.media = project_history(self.read, project_id, filters, params.page(req))
