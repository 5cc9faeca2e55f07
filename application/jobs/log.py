"""Job log lines and worker heartbeats: high-volume data kept out of the aggregate streams."""

import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from application.ports.read_store import ReadStore

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS job_logs (job_id TEXT NOT NULL, seq INTEGER NOT NULL, at DOUBLE PRECISION NOT NULL, "
    "line TEXT NOT NULL, PRIMARY KEY (job_id, seq))",
    "CREATE TABLE IF NOT EXISTS job_heartbeats (job_id TEXT PRIMARY KEY, attempt INTEGER NOT NULL, "
    "worker TEXT NOT NULL, beat_at DOUBLE PRECISION NOT NULL)",
)
MAX_LINE = 2000


class JobLog:
    """Append-only lines per job, and the last heartbeat of the attempt that runs it."""

    def __init__(self, read_store: ReadStore, clock: Callable[[], float] = time.time) -> None:
        self.db = read_store
        self.clock = clock

    def set_up(self) -> None:
        with self.db.transaction() as tx:
            for statement in SCHEMA:
                tx.execute(statement)

    def append(self, job_id: UUID, line: str) -> None:
        with self.db.transaction() as tx:
            rows = tx.query("SELECT COALESCE(MAX(seq), 0) AS last FROM job_logs WHERE job_id = ?", (str(job_id),))
            tx.execute("INSERT INTO job_logs (job_id, seq, at, line) VALUES (?, ?, ?, ?)",
                       (str(job_id), int(rows[0]["last"]) + 1, self.clock(), line[:MAX_LINE]))

    def lines_after(self, job_id: UUID, seq: int, limit: int = 500) -> list[dict[str, Any]]:
        return self.db.query("SELECT seq, at, line FROM job_logs WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                             (str(job_id), seq, limit))

    def beat(self, job_id: UUID, attempt: int, worker: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("INSERT INTO job_heartbeats (job_id, attempt, worker, beat_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (job_id) DO UPDATE SET attempt = excluded.attempt, worker = excluded.worker, "
                       "beat_at = excluded.beat_at", (str(job_id), attempt, worker, self.clock()))

    def last_beat(self, job_id: UUID) -> tuple[int, float] | None:
        row = self.db.query_one("SELECT attempt, beat_at FROM job_heartbeats WHERE job_id = ?", (str(job_id),))
        return (int(row["attempt"]), float(row["beat_at"])) if row else None
