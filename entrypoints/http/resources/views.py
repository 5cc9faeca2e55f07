"""Dataset views over HTTP: named selections of items."""

from uuid import UUID

import falcon

from application.errors import InvalidInputError
from application.queries.dataset import get_view, list_items, list_views, matching_item_ids, missing_item_ids
from entrypoints.http import params
from entrypoints.http.body import load
from entrypoints.http.resources import CommandResource
from entrypoints.http.schemas.dataset import ViewCreateSchema, ViewItemsSchema


class Views(CommandResource):
    """/api/projects/{project_id}/dataset/views"""

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        resp.media = list_views(self.read, project_id)

    def on_post(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        body = load(req, ViewCreateSchema())
        written = self.commands.create(project_id, body["name"], req.context.user, id=body.get("id"))
        self.consistency.respond(resp, written, lambda: get_view(self.read, project_id, written.id),
                                 falcon.HTTP_201, f"/api/projects/{project_id}/dataset/views/{written.id}")


class View(CommandResource):
    """/api/projects/{project_id}/dataset/views/{view_id}"""

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, view_id: UUID) -> None:
        resp.media = get_view(self.read, project_id, view_id)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, view_id: UUID) -> None:
        written = self.commands.delete(project_id, view_id, req.context.user)
        self.consistency.respond(resp, written, dict, falcon.HTTP_204)


class ViewItems(CommandResource):
    """/api/projects/{project_id}/dataset/views/{view_id}/items: list, add, remove (ids or filter)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, view_id: UUID) -> None:
        get_view(self.read, project_id, view_id)
        resp.media = list_items(self.read, project_id, params.item_filter(req), params.page(req),
                                bool(params.boolean(req, "with_annotations")), view_id=view_id)

    def _ids(self, req: falcon.Request, project_id: UUID, view_id: UUID) -> list[UUID]:
        get_view(self.read, project_id, view_id)
        body = load(req, ViewItemsSchema())
        if "filter" in body:
            return matching_item_ids(self.read, project_id, params.filter_from_body(body["filter"]))
        missing = missing_item_ids(self.read, project_id, body["items"])
        if missing:
            raise InvalidInputError(f"{len(missing)} id(s) are not items of this project, e.g. {missing[0]}.",
                                    {"items": [f"Unknown item {i}." for i in missing[:20]]})
        return body["items"]

    def on_post(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, view_id: UUID) -> None:
        written = self.commands.add_items(project_id, view_id, self._ids(req, project_id, view_id), req.context.user)
        self.consistency.respond(resp, written, lambda: get_view(self.read, project_id, view_id))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, view_id: UUID) -> None:
        item_ids = self._ids(req, project_id, view_id)
        written = self.commands.remove_items(project_id, view_id, item_ids, req.context.user)
        self.consistency.respond(resp, written, lambda: get_view(self.read, project_id, view_id))
