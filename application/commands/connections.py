"""Commands on sources and sinks (both are Connections)."""

from typing import Any
from uuid import UUID, uuid4

from domain.connection import Connection

from application.commands import Written, retrying
from application.commands.names import claim_name, release_name, rename_claims
from application.errors import ConflictError
from application.event_store import EventStore


class ConnectionCommands:
    """Create, reconfigure and delete sources (or sinks) with unique names."""

    def __init__(self, store: EventStore, cls: type[Connection]) -> None:
        self.store = store
        self.cls = cls

    @retrying
    def create(self, name: str, type_: str, config: dict[str, Any], user: str,
               id: UUID | None = None) -> Written:
        self.cls.check_type(type_)
        if id is not None and self.store.exists(id):
            raise ConflictError(f"A resource with id {id} already exists.")
        connection = self.cls(id=id or uuid4(), name=name, type=type_, config=config, user=user)
        claim = claim_name(self.store, self.cls.kind, name, connection.id, user)
        return Written(connection.id, self.store.commit(connection, claim))

    @retrying
    def reconfigure(self, connection_id: UUID, changes: dict[str, Any], user: str) -> Written:
        """Apply changed fields (name, type-specific settings) over the current config."""
        connection = self.store.load(self.cls, connection_id, self.cls.kind)
        changes = dict(changes)  # a retry after a lost race must see the caller's changes again
        name = changes.pop("name", connection.name)
        type_ = changes.pop(f"{self.cls.kind}_type", connection.type)
        claims = rename_claims(self.store, self.cls.kind, connection.name, name, connection.id, user)
        connection.reconfigure(name, type_, {**connection.config, **changes}, user)
        return Written(connection.id, self.store.commit(connection, *claims))

    @retrying
    def delete(self, connection_id: UUID, user: str) -> Written:
        connection = self.store.load(self.cls, connection_id, self.cls.kind)
        connection.delete(user)
        claim = release_name(self.store, self.cls.kind, connection.name, connection.id, user)
        return Written(connection.id, self.store.commit(connection, claim))
