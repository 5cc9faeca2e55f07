"""Read models in PostgreSQL (scale-out mode), through a psycopg connection pool."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from application.ports.read_store import ReadStore, Row, Transaction


def _dialect(sql: str) -> str:
    """Shared SQL uses `?` placeholders; psycopg wants `%s` (and literal `%` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


SCHEMA_LOCK = 7_204_311  # an arbitrary advisory-lock key: table creation, one process at a time


@contextmanager
def schema_lock(conninfo: str) -> Iterator[None]:
    """Serialise table creation across processes: concurrent CREATE ... IF NOT EXISTS can collide."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


class PostgresTransaction(Transaction):
    """Statements inside one PostgreSQL transaction."""

    def __init__(self, connection: psycopg.Connection[Row]) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self.connection.execute(_dialect(sql), tuple(params)).rowcount

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self.connection.execute(_dialect(sql), tuple(params)).fetchall()

    def lock_tracking(self, projection: str) -> int:
        rows = self.query("SELECT position FROM rm_tracking WHERE projection = ? FOR UPDATE", (projection,))
        return int(rows[0]["position"]) if rows else 0


class PostgresReadStore(ReadStore):
    """A PostgreSQL read-model database; the pool opens on first use."""

    def __init__(self, conninfo: str, max_size: int = 8, schema: str = "public") -> None:
        self.pool = ConnectionPool(conninfo, min_size=1, max_size=max_size, open=False,
                                   kwargs={"row_factory": dict_row, "autocommit": True,
                                           "options": f"-c search_path={schema}"})
        self._opened = False

    def _open(self) -> ConnectionPool:
        if not self._opened:
            self.pool.open(wait=True, timeout=10)
            self._opened = True
        return self.pool

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self._open().connection() as connection, connection.transaction():
            yield PostgresTransaction(connection)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._open().connection() as connection:
            return connection.execute(_dialect(sql), tuple(params)).fetchall()

    def close(self) -> None:
        if self._opened:
            self.pool.close()
            self._opened = False
