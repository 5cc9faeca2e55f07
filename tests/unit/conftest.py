"""Unit-test fixtures: the real event store on eventsourcing's in-memory (POPO) persistence."""

from collections.abc import Iterator

import pytest

from application.event_store import EventStore

IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


@pytest.fixture
def store() -> Iterator[EventStore]:
    """A fresh, empty event store held in memory."""
    store = EventStore(env=IN_MEMORY)
    yield store
    store.close()
