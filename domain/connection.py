"""What Source and Sink share: a named, typed configuration that pipelines attach to."""

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.aggregate import Aggregate
from domain.errors import ConflictingStateError, InvalidValueError


class ConnectionInUseError(ConflictingStateError):
    """Raised when deleting a source or sink that a pipeline uses."""


class ConnectionDeletedError(ConflictingStateError):
    """Raised when changing a source or sink that was deleted."""


class ConnectionTypeChangeError(InvalidValueError):
    """Raised when a reconfiguration tries to change the type of a source or sink."""


class Connection(Aggregate):
    """A named configuration of a given type (`source_type` or `sink_type`)."""

    kind = "connection"  # not annotated: annotations would make the library treat it as a dataclass
    types = ()  # each subclass lists its own

    @event("Created")
    def __init__(self, id: UUID, name: str, type: str, config: dict[str, Any], user: str) -> None:
        self.name = name
        self.type = type
        self.config = dict(config)
        self.used_by: list[UUID] = []
        self.deleted = False

    @classmethod
    def check_type(cls, type_: str) -> None:
        if type_ not in cls.types:
            allowed = ", ".join(cls.types)
            raise InvalidValueError(f"Unknown {cls.kind} type '{type_}'; use one of {allowed}.")

    def check_not_deleted(self) -> None:
        if self.deleted:
            raise ConnectionDeletedError(f"The {self.kind} '{self.name}' was deleted.")

    def reconfigure(self, name: str, type_: str, config: dict[str, Any], user: str) -> None:
        self.check_not_deleted()
        if type_ != self.type:
            raise ConnectionTypeChangeError(
                f"The type of a {self.kind} cannot change (it is '{self.type}').", field=f"{self.kind}_type"
            )
        if name != self.name or config != self.config:
            self._reconfigured(name=name, config=dict(config), user=user)

    @event("Reconfigured")
    def _reconfigured(self, name: str, config: dict[str, Any], user: str) -> None:
        self.name = name
        self.config = config

    def attach(self, pipeline_id: UUID, user: str) -> None:
        self.check_not_deleted()
        if pipeline_id not in self.used_by:
            self._attached(pipeline_id=pipeline_id, user=user)

    @event("Attached")
    def _attached(self, pipeline_id: UUID, user: str) -> None:
        self.used_by.append(pipeline_id)

    def detach(self, pipeline_id: UUID, user: str) -> None:
        if pipeline_id in self.used_by:
            self._detached(pipeline_id=pipeline_id, user=user)

    @event("Detached")
    def _detached(self, pipeline_id: UUID, user: str) -> None:
        self.used_by.remove(pipeline_id)

    def delete(self, user: str) -> None:
        self.check_not_deleted()
        if self.used_by:
            raise ConnectionInUseError(
                f"The {self.kind} '{self.name}' is used by {len(self.used_by)} pipeline(s); "
                "detach it first."
            )
        self._deleted(user=user)

    @event("Deleted")
    def _deleted(self, user: str) -> None:
        self.deleted = True
