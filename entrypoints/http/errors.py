"""HTTP status codes, chosen once, from the class of the error. Resources never try/except."""

import json
import logging
from typing import Any

import falcon
from marshmallow import ValidationError

from application import errors as app
from domain.errors import ConflictingStateError, DomainError, InvalidValueError

log = logging.getLogger("viewfinder.http")

STATUS_OF: list[tuple[type[Exception], str]] = [
    (app.NotFoundError, falcon.HTTP_404),
    (app.ConflictError, falcon.HTTP_409),
    (app.InvalidInputError, falcon.HTTP_422),
    (app.BadRequestError, falcon.HTTP_400),
    (app.PayloadTooLargeError, falcon.HTTP_413),
    (app.UnsupportedMediaTypeError, falcon.HTTP_415),
    (ConflictingStateError, falcon.HTTP_409),
    (InvalidValueError, falcon.HTTP_422),
]


def _send(resp: falcon.Response, status: str, body: dict[str, Any]) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    resp.text = json.dumps(body)
    resp.data = None
    resp.stream = None


def _first_message(errors: Any, path: str = "") -> str:
    """The first leaf message of marshmallow's nested error dict, with its field path."""
    if isinstance(errors, dict):
        key, value = next(iter(errors.items()))
        return _first_message(value, f"{path}.{key}" if path else str(key))
    if isinstance(errors, list) and errors:
        return _first_message(errors[0], path)
    return f"Field '{path}': {errors}" if path and path != "_schema" else str(errors)


def nested(path: list[str], leaf: Any) -> dict[str, Any]:
    """A dotted field path in marshmallow's nested error form: a.0.b → {"a": {"0": {"b": leaf}}}."""
    return {path[0]: nested(path[1:], leaf) if len(path) > 1 else leaf}


def handle_validation(req: falcon.Request, resp: falcon.Response, error: ValidationError, params: Any) -> None:
    messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
    _send(resp, falcon.HTTP_422, {"detail": f"Invalid request body. {_first_message(messages)}",
                                  "errors": messages})


def handle_known(req: falcon.Request, resp: falcon.Response, error: Exception, params: Any) -> None:
    status = next(s for cls, s in STATUS_OF if isinstance(error, cls))
    body: dict[str, Any] = {"detail": getattr(error, "detail", str(error))}
    errors = getattr(error, "errors", None)
    if errors:
        body["errors"] = errors
    elif isinstance(error, DomainError) and error.field and status == falcon.HTTP_422:
        body["errors"] = nested(error.field.split("."), [error.detail])
    _send(resp, status, body)


def handle_http_error(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError, params: Any) -> None:
    if isinstance(error, falcon.HTTPRouteNotFound):
        detail = f"There is no endpoint at {req.path}."
    elif isinstance(error, falcon.HTTPMethodNotAllowed):
        detail = f"Method {req.method} is not allowed on {req.path}."
    else:
        detail = error.description or error.title or "Request failed."
    _send(resp, error.status, {"detail": detail})
    for name, value in (error.headers or {}).items():
        resp.set_header(name, value)


def handle_unexpected(req: falcon.Request, resp: falcon.Response, error: Exception, params: Any) -> None:
    log.exception("Unhandled error on %s %s", req.method, req.path)
    _send(resp, falcon.HTTP_500, {"detail": "Internal server error; the incident was logged."})


def register(app_: falcon.App) -> None:
    """Order matters: Falcon picks the most specific registered class."""
    app_.add_error_handler(Exception, handle_unexpected)
    app_.add_error_handler(falcon.HTTPError, handle_http_error)
    app_.add_error_handler(ValidationError, handle_validation)
    app_.add_error_handler(app.ViewfinderError, handle_known)
    app_.add_error_handler(DomainError, handle_known)
