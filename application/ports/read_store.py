"""Port of the read-model database: SQL tables that projections write and queries read.

SQL is written once, in the dialect SQLite and PostgreSQL share, with `?` placeholders.
"""

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

Row = dict[str, Any]


class Transaction(ABC):
    """Statements run inside one atomic transaction."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; return the number of rows it changed."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a query; return its rows as dicts."""

    @abstractmethod
    def lock_tracking(self, projection: str) -> int:
        """Lock the tracking row of a projection for this transaction; return its position."""


class ReadStore(ABC):
    """A database of read-model tables, each kept with its projection's tracking position."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Transaction]:
        """A write transaction: committed on normal exit, rolled back on error."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Read rows outside any write transaction."""

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

