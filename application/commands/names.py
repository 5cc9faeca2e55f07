"""Claiming and releasing unique names through NameClaim index aggregates."""

from uuid import UUID

from domain.name_claim import NameClaim

from application.event_store import EventStore


def claim_name(store: EventStore, kind: str, name: str, owner_id: UUID, user: str,
               scope: str = "") -> NameClaim:
    """The claim of `name` for `owner_id`: a new one, or an existing released one reclaimed."""
    claim_id = NameClaim.create_id(kind, name, scope)
    existing = store.find(claim_id)
    if isinstance(existing, NameClaim):
        existing.claim(owner_id, name, user)
        return existing
    return NameClaim(kind=kind, name=name, scope=scope, owner_id=owner_id, user=user)


def release_name(store: EventStore, kind: str, name: str, owner_id: UUID, user: str,
                 scope: str = "") -> NameClaim | None:
    claim = store.find(NameClaim.create_id(kind, name, scope))
    if isinstance(claim, NameClaim):
        claim.release(owner_id, user)
        return claim
    return None


def rename_claims(store: EventStore, kind: str, old: str, new: str, owner_id: UUID,
                  user: str) -> list[NameClaim]:
    """Claims to save when an owner changes its name (none when only the spelling changes)."""
    if NameClaim.create_id(kind, old) == NameClaim.create_id(kind, new):
        return []
    claimed = claim_name(store, kind, new, owner_id, user)
    released = release_name(store, kind, old, owner_id, user)
    return [c for c in (claimed, released) if c is not None]
