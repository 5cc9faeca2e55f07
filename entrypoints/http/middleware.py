"""Cross-cutting request handling: caller identity, path id validation, body size limits."""

import re
from typing import Any
from uuid import UUID

import falcon

from application.errors import BadRequestError, PayloadTooLargeError

USER_PATTERN = re.compile(r"^[\w.@+-]{1,100}$")


class CallerIdentity:
    """Puts the caller identity (header X-User, default anonymous) in req.context.user."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        user = (req.get_header("X-User") or "anonymous").strip()
        if not USER_PATTERN.match(user):
            raise BadRequestError("Header X-User must be 1 to 100 letters, digits or . @ + - _ characters.")
        req.context.user = user


class PathIds:
    """Turns every `*_id` path field into a UUID, or answers 400 for a malformed one."""

    def process_resource(self, req: falcon.Request, resp: falcon.Response, resource: Any,
                         params: dict[str, Any]) -> None:
        for name, value in params.items():
            if name.endswith("_id") and isinstance(value, str):
                try:
                    params[name] = UUID(value)
                except ValueError:
                    raise BadRequestError(f"'{value}' is not a valid id (a UUID is expected).") from None


class BodyLimit:
    """Refuses bodies larger than the configured limit before reading them (except on paths that
    stream large uploads to disk under a limit of their own)."""

    def __init__(self, max_bytes: int, streamed_prefixes: tuple[str, ...] = ()) -> None:
        self.max_bytes = max_bytes
        self.streamed_prefixes = streamed_prefixes

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.path.startswith(self.streamed_prefixes):
            return
        if req.content_length is not None and req.content_length > self.max_bytes:
            raise PayloadTooLargeError(f"The request body is larger than {self.max_bytes} bytes.")
