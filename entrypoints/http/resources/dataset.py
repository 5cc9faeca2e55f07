"""Dataset items over HTTP: upload, list, get, bytes, thumbnail, delete, tags."""

from pathlib import PurePath
from uuid import UUID

import falcon

from application.errors import BadRequestError, UnsupportedMediaTypeError
from application.ports.media import MediaStore
from application.queries.dataset import dataset_tags, get_item, item_media, item_tags, list_items
from entrypoints.http import params
from entrypoints.http.body import load, read_bytes
from entrypoints.http.resources import CommandResource, ReadYourWrites
from entrypoints.http.resources.connections import read_part
from entrypoints.http.schemas.dataset import TagsChangeSchema

RAW_TYPES = ("image/", "application/octet-stream")


def _upload(req: falcon.Request, limit: int) -> tuple[bytes, str | None]:
    """The image bytes and a file name: a multipart `file` part, or the raw body."""
    content_type = req.content_type or ""
    if content_type.startswith("multipart/form-data"):
        for part in req.get_media():
            if part.name == "file":
                return read_part(part, limit), part.secure_filename if part.filename else None
        raise BadRequestError("The multipart form has no field named 'file'.")
    if not content_type.startswith(RAW_TYPES):
        raise UnsupportedMediaTypeError(
            f"Send the image as the raw body with an image/* Content-Type, or as multipart field 'file' "
            f"(got '{content_type or 'no Content-Type'}').")
    return read_bytes(req, limit), req.get_param("name")


class DatasetItems(CommandResource):
    """/api/projects/{project_id}/dataset/items"""

    def __init__(self, commands: object, read: object, consistency: ReadYourWrites, max_image_bytes: int) -> None:
        super().__init__(commands, read, consistency)
        self.max_image_bytes = max_image_bytes

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        resp.media = list_items(self.read, project_id, params.item_filter(req), params.page(req),
                                with_annotations=bool(params.boolean(req, "with_annotations")))

    def on_post(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        data, name = _upload(req, self.max_image_bytes)
        if name is not None and not 1 <= len(name) <= 255:
            raise BadRequestError("An item name must have 1 to 255 characters.")
        written = self.commands.upload(project_id, data, name and PurePath(name).name, "upload", req.context.user)
        self.consistency.respond(resp, written, lambda: get_item(self.read, project_id, written.id),
                                 falcon.HTTP_201, f"/api/projects/{project_id}/dataset/items/{written.id}")


class DatasetItem(CommandResource):
    """/api/projects/{project_id}/dataset/items/{item_id}"""

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, item_id: UUID) -> None:
        resp.media = get_item(self.read, project_id, item_id, bool(params.boolean(req, "with_annotations")))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, item_id: UUID) -> None:
        written = self.commands.delete(project_id, item_id, req.context.user)
        self.consistency.respond(resp, written, dict, falcon.HTTP_204)


class DatasetItemMedia:
    """/binary and /thumbnail: content-addressed bytes with ETag and long-lived caching."""

    def __init__(self, read: object, media: MediaStore) -> None:
        self.read = read
        self.media = media

    def send(self, req: falcon.Request, resp: falcon.Response, sha256: str, content_type: str) -> None:
        etag = f'"{sha256}"'
        resp.etag = etag
        resp.cache_control = ["private", "max-age=31536000", "immutable"]
        if any(tag == "*" or tag == sha256 for tag in req.if_none_match or []):
            resp.status = falcon.HTTP_304
            return
        path = self.media.path(sha256)
        resp.content_type = content_type
        resp.content_length = path.stat().st_size
        resp.stream = path.open("rb")

    def on_get_binary(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, item_id: UUID) -> None:
        media = item_media(self.read, project_id, item_id)
        resp.downloadable_as = None
        self.send(req, resp, media["sha256"], media["content_type"])

    def on_get_thumbnail(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, item_id: UUID) -> None:
        media = item_media(self.read, project_id, item_id)
        self.send(req, resp, media["thumbnail_sha256"], "image/jpeg")


class DatasetItemTags:
    """/api/projects/{project_id}/dataset/items/{item_id}/tags"""

    def __init__(self, read: object) -> None:
        self.read = read

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: UUID, item_id: UUID) -> None:
        resp.media = item_tags(self.read, project_id, item_id)


class DatasetTags(CommandResource):
    """/dataset/tags (counts) and /dataset/items/tags (bulk add/remove)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        resp.media = dataset_tags(self.read, project_id)

    def on_patch_bulk(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        body = load(req, TagsChangeSchema())
        written = self.commands.change_tags(project_id, body["items"], body["add"], body["remove"], req.context.user)
        self.consistency.respond(resp, written, lambda: dataset_tags(self.read, project_id))
