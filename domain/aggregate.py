"""The base aggregate: every event records who caused it (and, by the library, when)."""

from eventsourcing.domain import Aggregate as _Aggregate


class Aggregate(_Aggregate):
    """Base of Viewfinder aggregates; each event carries the caller identity `user`."""

    class Event(_Aggregate.Event):
        """Base event: `user` is the caller identity for the audit log."""

        user: str
