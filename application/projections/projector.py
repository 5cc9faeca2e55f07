"""Runs projections over the event log: atomic rows + tracking, resumable, rebuildable."""

import time
from collections.abc import Sequence

from application.event_store import EventStore
from application.ports.read_store import ReadStore
from application.projections import Projection

TRACKING_SCHEMA = ("CREATE TABLE IF NOT EXISTS rm_tracking (projection TEXT PRIMARY KEY, "
                   "position BIGINT NOT NULL)")


class Projector:
    """Feeds every new event to each projection, in one transaction per projection and batch."""

    def __init__(self, store: EventStore, read_store: ReadStore, projections: Sequence[Projection],
                 batch_size: int = 500) -> None:
        self.store = store
        self.read_store = read_store
        self.projections = list(projections)
        self.batch_size = batch_size

    def set_up(self) -> None:
        """Create the tables and tracking rows that are missing (idempotent)."""
        with self.read_store.transaction() as tx:
            tx.execute(TRACKING_SCHEMA)
            for projection in self.projections:
                for statement in projection.schema:
                    tx.execute(statement)
                tx.execute("INSERT INTO rm_tracking (projection, position) VALUES (?, 0) "
                           "ON CONFLICT (projection) DO NOTHING", (projection.name,))

    def positions(self) -> dict[str, int]:
        rows = self.read_store.query("SELECT projection, position FROM rm_tracking")
        return {row["projection"]: int(row["position"]) for row in rows}

    def run_once(self) -> int:
        """Process one batch of new events; return how many events were read."""
        known = self.positions()
        start = min((known.get(p.name, 0) for p in self.projections), default=0)
        events = list(self.store.events_after(start, self.batch_size))
        if not events:
            return 0
        with self.read_store.transaction() as tx:  # one transaction: every view moves together
            for projection in self.projections:
                position = tx.lock_tracking(projection.name)
                for event_position, event in events:
                    if event_position > position and projection.handles(event):
                        projection.process(event, tx, event_position)
                if events[-1][0] > position:
                    tx.execute("UPDATE rm_tracking SET position = ? WHERE projection = ?",
                               (events[-1][0], projection.name))
        return len(events)

    def catch_up(self) -> int:
        total = 0
        while processed := self.run_once():
            total += processed
        return total

    def rebuild(self) -> int:
        """Drop every read model, replay the whole log from position zero; return events read."""
        self.set_up()
        with self.read_store.transaction() as tx:
            for projection in self.projections:
                tx.lock_tracking(projection.name)
                for table in projection.tables:
                    tx.execute(f"DROP TABLE IF EXISTS {table}")
                for statement in projection.schema:
                    tx.execute(statement)
                tx.execute("UPDATE rm_tracking SET position = 0 WHERE projection = ?", (projection.name,))
        return self.catch_up()

    def lag(self, names: list[str] | None = None) -> dict[str, int]:
        """Events not yet processed, per projection (or per the given tracked names)."""
        head, known = self.store.max_position(), self.positions()
        return {name: head - known.get(name, 0) for name in names or [p.name for p in self.projections]}

    def wait_for(self, position: int, timeout: float) -> bool:
        """Block until every projection has processed `position` (or the timeout passes)."""
        deadline = time.monotonic() + timeout
        while True:
            known = self.positions()
            if all(known.get(p.name, 0) >= position for p in self.projections):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.002)
