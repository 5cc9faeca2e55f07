"""What a pipeline runtime shares with every process: its lease, its per-second metrics."""

import json
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from application.pipeline_metrics import PipelineMetrics, merge_second_rows
from application.ports.read_store import ReadStore

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS pipeline_leases (project_id TEXT PRIMARY KEY, run INTEGER NOT NULL, "
    "holder TEXT NOT NULL, started_at DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE IF NOT EXISTS pipeline_metrics (project_id TEXT NOT NULL, second BIGINT NOT NULL, "
    "row TEXT NOT NULL, PRIMARY KEY (project_id, second))",
)
LEASE_S = 3.0  # a runtime renews it every 0.5 s; a dead one shows within 3 s


class LiveState:
    """Leases make sure one runtime runs a pipeline; metrics rows make them readable anywhere."""

    def __init__(self, db: ReadStore, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def set_up(self) -> None:
        with self.db.transaction() as tx:
            for statement in SCHEMA:
                tx.execute(statement)

    def acquire(self, project_id: UUID, run: int, holder: str) -> bool:
        """Take (or renew) the lease of a pipeline's run; False when another live runtime holds it."""
        now = self.clock()
        with self.db.transaction() as tx:
            rows = tx.query("SELECT run, holder, started_at, expires_at FROM pipeline_leases WHERE project_id = ?",
                            (str(project_id),))
            if rows and rows[0]["holder"] != holder and rows[0]["expires_at"] > now and rows[0]["run"] >= run:
                return False
            started = rows[0]["started_at"] if rows and rows[0]["holder"] == holder else now
            tx.execute("INSERT INTO pipeline_leases (project_id, run, holder, started_at, expires_at) "
                       "VALUES (?, ?, ?, ?, ?) ON CONFLICT (project_id) DO UPDATE SET run = excluded.run, "
                       "holder = excluded.holder, started_at = excluded.started_at, expires_at = excluded.expires_at",
                       (str(project_id), run, holder, started, now + LEASE_S))
        return True

    def release(self, project_id: UUID, holder: str) -> None:
        with self.db.transaction() as tx:
            tx.execute("DELETE FROM pipeline_leases WHERE project_id = ? AND holder = ?", (str(project_id), holder))

    def alive(self, project_id: UUID) -> dict[str, Any] | None:
        """The lease of a runtime that is alive now, if any."""
        row = self.db.query_one("SELECT * FROM pipeline_leases WHERE project_id = ? AND expires_at > ?",
                                (str(project_id), self.clock()))
        return row

    def save_seconds(self, project_id: UUID, rows: list[dict[str, Any]]) -> None:
        """Completed seconds of a runtime (each runtime shares a second once; two runtimes add up)."""
        if not rows:
            return
        with self.db.transaction() as tx:
            for row in rows:
                found = tx.query("SELECT row FROM pipeline_metrics WHERE project_id = ? AND second = ?",
                                 (str(project_id), row["second"]))
                merged = merge_second_rows(json.loads(found[0]["row"]), row) if found else row
                tx.execute("INSERT INTO pipeline_metrics (project_id, second, row) VALUES (?, ?, ?) "
                           "ON CONFLICT (project_id, second) DO UPDATE SET row = excluded.row",
                           (str(project_id), row["second"], json.dumps(merged)))
            tx.execute("DELETE FROM pipeline_metrics WHERE project_id = ? AND second < ?",
                       (str(project_id), int(self.clock()) - 3700))

    def metrics(self, project_id: UUID, time_window_s: float) -> dict[str, Any]:
        """The API metrics over the last `time_window_s` seconds.

        A running runtime shares a second once it is over, so while one runs the window ends with the
        last second it shared (the current one is still being counted); after it stopped, it ends now.
        """
        now = self.clock()
        rows = self.db.query("SELECT row FROM pipeline_metrics WHERE project_id = ? AND second >= ? ORDER BY second",
                             (str(project_id), int(now - time_window_s) - 1))
        lease = self.db.query_one("SELECT started_at FROM pipeline_leases WHERE project_id = ?", (str(project_id),))
        decoded = [json.loads(r["row"]) for r in rows]
        if decoded and self.alive(project_id) is not None:
            now = min(now, decoded[-1]["second"] + 1 - 1e-6)
        first = lease["started_at"] if lease else (decoded[0]["second"] if decoded else None)
        return PipelineMetrics.from_rows(decoded, first).snapshot(time_window_s, now)
