"""Reusable fields and validators shared by the request schemas."""

from typing import Any
from urllib.parse import urlparse

from marshmallow import ValidationError, fields, validate


class TrimmedString(fields.String):
    """A string whose surrounding whitespace is removed; inner runs become one space."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return " ".join(super()._deserialize(value, attr, data, **kwargs).split())


def Name(**kwargs: Any) -> TrimmedString:  # noqa: N802 - reads like a field class
    """A resource name: 1 to 100 characters after trimming."""
    return TrimmedString(validate=validate.Length(min=1, max=100), **kwargs)


def check_url(schemes: tuple[str, ...], allow_credentials: bool = False) -> Any:
    """A validator of absolute URLs with one of `schemes` and a host."""

    def check(value: str) -> None:
        url = urlparse(value)
        if url.scheme not in schemes or not url.hostname:
            raise ValidationError(f"Must be an absolute {' or '.join(schemes)} URL.")
        if not allow_credentials and (url.username or url.password):
            raise ValidationError("Must not contain credentials; they are read from the environment.")

    return check


Path = fields.String(validate=validate.Length(min=1, max=4096))
