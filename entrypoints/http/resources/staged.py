"""The staging area over HTTP: upload a zip, list, get, download, delete."""

from uuid import UUID

import falcon

from application.errors import BadRequestError, NotFoundError, UnsupportedMediaTypeError
from application.queries.staged import get_staged, list_staged
from application.staging import StagingArea
from entrypoints.http.resources import CommandResource, ReadYourWrites

ZIP_TYPES = ("application/zip", "application/x-zip-compressed", "application/octet-stream")


def _archive_stream(req: falcon.Request):  # type: ignore[no-untyped-def]
    """The zip: the `file` part of a multipart form, or the raw body."""
    content_type = req.content_type or ""
    if content_type.startswith("multipart/form-data"):
        for part in req.get_media():
            if part.name == "file":
                return part.stream
        raise BadRequestError("The multipart form has no field named 'file'.")
    if not content_type.startswith(ZIP_TYPES):
        raise UnsupportedMediaTypeError(f"Send a zip archive (application/zip) or multipart field 'file', "
                                        f"not '{content_type or 'no Content-Type'}'.")
    return req.bounded_stream


class StagedDatasets(CommandResource):
    """/api/staged_datasets"""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = list_staged(self.read)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        written = self.commands.upload(_archive_stream(req), req.context.user)
        self.consistency.respond(resp, written, lambda: get_staged(self.read, written.id), falcon.HTTP_201,
                                 f"/api/staged_datasets/{written.id}")


class StagedDataset(CommandResource):
    """/api/staged_datasets/{staged_id} and /archive"""

    def __init__(self, commands: object, read: object, consistency: ReadYourWrites, area: StagingArea) -> None:
        super().__init__(commands, read, consistency)
        self.area = area

    def on_get(self, req: falcon.Request, resp: falcon.Response, staged_id: UUID) -> None:
        resp.media = get_staged(self.read, staged_id)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, staged_id: UUID) -> None:
        written = self.commands.delete(staged_id, req.context.user)
        self.consistency.respond(resp, written, dict, falcon.HTTP_204)

    def on_get_archive(self, req: falcon.Request, resp: falcon.Response, staged_id: UUID) -> None:
        staged = get_staged(self.read, staged_id)
        path = self.area.archive(staged_id)
        if not path.exists():
            raise NotFoundError(f"Staged dataset {staged_id} has no archive ({staged['status']}).")
        resp.content_type = "application/zip"
        resp.downloadable_as = f"dataset-{staged_id}{'-' + staged['format'] if staged['format'] else ''}.zip"
        resp.content_length = path.stat().st_size
        resp.stream = path.open("rb")
