"""Sources and sinks over HTTP: CRUD, YAML export and import."""

from typing import Any
from uuid import UUID

import falcon
from marshmallow import Schema

from adapters.yaml_config import dump_config, load_config
from application.commands.connections import ConnectionCommands
from application.errors import BadRequestError, InvalidInputError, PayloadTooLargeError
from application.ports.read_store import ReadStore
from application.queries.configuration import get_connection, list_connections
from entrypoints.http.body import read_bytes, read_json
from entrypoints.http.resources import ReadYourWrites


class ConnectionKind:
    """What differs between sources and sinks: the names and the schema per type."""

    def __init__(self, kind: str, schemas: dict[str, type[Schema]], commands: ConnectionCommands,
                 read: ReadStore, consistency: ReadYourWrites, max_config_bytes: int) -> None:
        self.kind = kind
        self.type_field = f"{kind}_type"
        self.schemas = schemas
        self.commands = commands
        self.read = read
        self.consistency = consistency
        self.max_config_bytes = max_config_bytes

    def validate(self, document: Any, partial: bool = False, current_type: str | None = None) -> tuple[str, dict]:
        """(type, validated fields) of a create or PATCH document."""
        if not isinstance(document, dict):
            raise BadRequestError("The request body must be a JSON object.")
        type_ = document.get(self.type_field, current_type)
        if current_type is not None and type_ != current_type:
            raise BadRequestError(f"The {self.type_field} of a {self.kind} cannot change (it is '{current_type}').")
        if type_ not in self.schemas:
            allowed = ", ".join(self.schemas)
            raise InvalidInputError(f"Field '{self.type_field}' must be one of {allowed}.",
                                    {self.type_field: [f"Must be one of {allowed}."]})
        fields = {k: v for k, v in document.items() if k != self.type_field}
        return type_, self.schemas[type_]().load(fields, partial=partial)

    def create(self, req: falcon.Request, resp: falcon.Response, document: Any) -> None:
        type_, fields = self.validate(document)
        id_ = fields.pop("id", None)
        name = fields.pop("name")
        written = self.commands.create(name, type_, fields, req.context.user, id=id_)
        self.consistency.respond(resp, written, lambda: get_connection(self.read, self.kind, written.id),
                                 falcon.HTTP_201, f"/api/{self.kind}s/{written.id}")


class Connections:
    """/api/sources and /api/sinks: list and create."""

    def __init__(self, kind: ConnectionKind) -> None:
        self.kind = kind

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = list_connections(self.kind.read, self.kind.kind)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.kind.create(req, resp, read_json(req))

    def on_post_import(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Create from the YAML that export writes (raw body or multipart field `file`)."""
        self.kind.create(req, resp, load_config(yaml_body(req, self.kind.max_config_bytes),
                                                self.kind.max_config_bytes))


class Connection:
    """/api/sources/{id} and /api/sinks/{id}: get, reconfigure, delete, export."""

    def __init__(self, kind: ConnectionKind) -> None:
        self.kind = kind

    def on_get(self, req: falcon.Request, resp: falcon.Response, connection_id: UUID) -> None:
        resp.media = get_connection(self.kind.read, self.kind.kind, connection_id)

    def on_patch(self, req: falcon.Request, resp: falcon.Response, connection_id: UUID) -> None:
        current = get_connection(self.kind.read, self.kind.kind, connection_id)
        document = read_json(req)
        if isinstance(document, dict) and document.get("id", str(connection_id)) != str(connection_id):
            raise BadRequestError("The id of a resource cannot change.")
        if isinstance(document, dict):
            document.pop("id", None)
        _, fields = self.kind.validate(document, partial=True, current_type=current[self.kind.type_field])
        written = self.kind.commands.reconfigure(connection_id, fields, req.context.user)
        self.kind.consistency.respond(resp, written,
                                      lambda: get_connection(self.kind.read, self.kind.kind, connection_id))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, connection_id: UUID) -> None:
        written = self.kind.commands.delete(connection_id, req.context.user)
        self.kind.consistency.respond(resp, written, dict, falcon.HTTP_204)

    def on_post_export(self, req: falcon.Request, resp: falcon.Response, connection_id: UUID) -> None:
        config = get_connection(self.kind.read, self.kind.kind, connection_id)
        config.pop("id")
        resp.content_type = "application/x-yaml"
        resp.downloadable_as = f"{self.kind.kind}-{connection_id}.yaml"
        resp.text = dump_config(config)


def yaml_body(req: falcon.Request, limit: int) -> bytes:
    """The YAML document: the raw body, or the `file` part of a multipart form."""
    if (req.content_type or "").startswith("multipart/form-data"):
        for part in req.get_media():
            if part.name == "file":
                return read_part(part, limit)
        raise BadRequestError("The multipart form has no field named 'file'.")
    return read_bytes(req, limit)


def read_part(part: Any, limit: int) -> bytes:
    data = part.stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(f"The uploaded file is larger than {limit} bytes.")
    return data
