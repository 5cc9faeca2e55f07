"""Name claims: deterministic index aggregates that make names unique under concurrency.

A claim's id is derived from (kind, normalised name), so two writers claiming the
same name collide on the same aggregate and optimistic concurrency lets one win.
"""

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from domain.aggregate import Aggregate
from domain.errors import ConflictingStateError


class NameTakenError(ConflictingStateError):
    """Raised when a name is already claimed by another owner."""


def normalise_name(name: str) -> str:
    """Names compare case-insensitively and without surrounding spaces."""
    return " ".join(name.split()).casefold()


def name_claim_id(kind: str, name: str, scope: str = "") -> UUID:
    """The id of the claim for `name` among `kind` (optionally within a scope)."""
    return uuid5(NAMESPACE_URL, f"viewfinder:name:{kind}:{scope}:{normalise_name(name)}")


class NameClaim(Aggregate):
    """Who currently owns a name; released names can be claimed again."""

    @staticmethod
    def create_id(kind: str, name: str, scope: str = "") -> UUID:
        return name_claim_id(kind, name, scope)

    @event("Claimed")
    def __init__(self, kind: str, name: str, scope: str, owner_id: UUID, user: str) -> None:
        self.kind = kind
        self.name = name
        self.owner_id: UUID | None = owner_id

    def claim(self, owner_id: UUID, name: str, user: str) -> None:
        if self.owner_id is not None and self.owner_id != owner_id:
            raise NameTakenError(f"A {self.kind} named '{name}' already exists.", field="name")
        if self.owner_id != owner_id:
            self._reclaimed(owner_id=owner_id, name=name, user=user)

    @event("Reclaimed")
    def _reclaimed(self, owner_id: UUID, name: str, user: str) -> None:
        self.owner_id = owner_id
        self.name = name

    def release(self, owner_id: UUID, user: str) -> None:
        if self.owner_id == owner_id:
            self._released(user=user)

    @event("Released")
    def _released(self, user: str) -> None:
        self.owner_id = None
