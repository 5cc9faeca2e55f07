"""Projections: each turns events into the rows of one read model, tracked by log position."""

import json
from abc import ABC
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from application.ports.read_store import Transaction

Handler = Callable[[Any, Any, Transaction], None]


def handles(*event_classes: type) -> Callable[[Handler], Handler]:
    """Mark a projection method as the handler of the given event classes (and subclasses)."""

    def mark(method: Handler) -> Handler:
        method.handled_events = event_classes  # type: ignore[attr-defined]
        return method

    return mark


class Projection(ABC):
    """One read model: its tables, and a handler per event class it cares about."""

    name: ClassVar[str]
    tables: ClassVar[tuple[str, ...]]
    schema: ClassVar[tuple[str, ...]]
    _handlers: ClassVar[dict[type, str]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._handlers = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                for event_class in getattr(value, "handled_events", ()):
                    cls._handlers[event_class] = attr

    position = 0  # log position of the event being processed, for handlers that record it

    def handles(self, event: Any) -> bool:
        """Whether some handler of this projection takes the event (looked up once per event class)."""
        cache = type(self).__dict__.get("_takes")
        if cache is None:
            cache = {}
            type(self)._takes = cache  # type: ignore[attr-defined]
        kind = type(event)
        if kind not in cache:
            cache[kind] = any(klass in self._handlers for klass in kind.__mro__)
        return bool(cache[kind])

    def process(self, event: Any, tx: Transaction, position: int = 0) -> None:
        self.position = position
        for klass in type(event).__mro__:
            attr = self._handlers.get(klass)
            if attr is not None:
                getattr(self, attr)(event, tx)
                return


def to_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def from_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def iso(timestamp: datetime) -> str:
    return timestamp.isoformat()
