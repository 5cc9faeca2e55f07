"""Base classes of the errors domain guards raise; the edges map them to responses."""


class DomainError(Exception):
    """Base of every rule violation found by an aggregate; carries a readable sentence."""

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class ConflictingStateError(DomainError):
    """Raised when a command conflicts with the aggregate's current state."""


class InvalidValueError(DomainError):
    """Raised when a command carries a value that the domain rules reject."""
