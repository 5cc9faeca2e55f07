"""Errors raised by use cases; the HTTP edge maps each class to one status code."""


class ViewfinderError(Exception):
    """Base of every error a client can cause; carries one readable sentence."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(ViewfinderError):
    """Raised when a referenced resource does not exist."""


class ConflictError(ViewfinderError):
    """Raised when a request conflicts with the current state (duplicate, in use, running)."""


class InvalidInputError(ViewfinderError):
    """Raised when well-formed input is invalid; `errors` maps field paths to messages."""

    def __init__(self, detail: str, errors: dict | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or {}


class BadRequestError(ViewfinderError):
    """Raised when a request is malformed (bad id, bad query parameter, undecodable body)."""


class PayloadTooLargeError(ViewfinderError):
    """Raised when a body or an image exceeds a configured limit."""


class UnsupportedMediaTypeError(ViewfinderError):
    """Raised when a body's media type or image format is not supported."""
