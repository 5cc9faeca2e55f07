"""Reading request bodies: bounded, JSON-decoded, validated by a marshmallow schema."""

import json
from typing import Any

import falcon
from marshmallow import Schema

from application.errors import BadRequestError, PayloadTooLargeError


def read_bytes(req: falcon.Request, limit: int) -> bytes:
    """The raw body, refusing more than `limit` bytes even without a Content-Length."""
    data = req.bounded_stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(f"The request body is larger than {limit} bytes.")
    return data


def read_json(req: falcon.Request, limit: int = 1024 * 1024) -> Any:
    data = read_bytes(req, limit)
    if not data.strip():
        raise BadRequestError("The request body is empty; a JSON document is expected.")
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequestError(f"The request body is not valid JSON ({error}).") from None


def load(req: falcon.Request, schema: Schema, **kwargs: Any) -> dict[str, Any]:
    """Decode the JSON body and validate it; marshmallow errors become 422 upstream."""
    document = read_json(req)
    if not isinstance(document, dict):
        raise BadRequestError("The request body must be a JSON object.")
    return schema.load(document, **kwargs)
