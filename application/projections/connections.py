"""Read models of sources and sinks: one row per live connection with its config."""

from typing import Any, ClassVar

from domain.connection import Connection
from domain.sink import Sink
from domain.source import Source

from application.ports.read_store import Transaction
from application.projections import Projection, handles, iso, to_json


class ConnectionsProjection(Projection):
    """Rows of the live sources (or sinks); subclasses name the table and the aggregate."""

    aggregate: ClassVar[type[Connection]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if hasattr(cls, "aggregate"):
            table = cls.tables[0]
            cls.schema = (
                f"CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
                "type TEXT NOT NULL, config TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
            )

    @property
    def table(self) -> str:
        return self.tables[0]

    @handles(Connection.Created)
    def created(self, event: Any, tx: Transaction) -> None:
        if not isinstance(event, self.aggregate.Created):
            return
        tx.execute(f"INSERT INTO {self.table} (id, name, type, config, created_at, updated_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   (str(event.originator_id), event.name, event.type, to_json(event.config),
                    iso(event.timestamp), iso(event.timestamp)))

    @handles(Connection.Reconfigured)
    def reconfigured(self, event: Any, tx: Transaction) -> None:
        tx.execute(f"UPDATE {self.table} SET name = ?, config = ?, updated_at = ? WHERE id = ?",
                   (event.name, to_json(event.config), iso(event.timestamp), str(event.originator_id)))

    @handles(Connection.Deleted)
    def deleted(self, event: Any, tx: Transaction) -> None:
        tx.execute(f"DELETE FROM {self.table} WHERE id = ?", (str(event.originator_id),))


class SourcesProjection(ConnectionsProjection):
    """The `rm_sources` read model."""

    name = "sources"
    tables = ("rm_sources",)
    aggregate = Source


class SinksProjection(ConnectionsProjection):
    """The `rm_sinks` read model."""

    name = "sinks"
    tables = ("rm_sinks",)
    aggregate = Sink
