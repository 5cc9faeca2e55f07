"""Read model of jobs: status, progress, outcome and timestamps."""

from typing import Any

from domain.job import Job

from application.ports.read_store import Transaction
from application.projections import Projection, handles, iso, to_json


class JobsProjection(Projection):
    """`rm_jobs`, one row per job."""

    name = "jobs"
    tables = ("rm_jobs",)
    schema = (
        "CREATE TABLE IF NOT EXISTS rm_jobs (id TEXT PRIMARY KEY, job_type TEXT NOT NULL, project_id TEXT, "
        "status TEXT NOT NULL, progress DOUBLE PRECISION NOT NULL, message TEXT NOT NULL, error TEXT, "
        "parameters TEXT NOT NULL, result TEXT, attempt INTEGER NOT NULL, created_at TEXT NOT NULL, "
        "started_at TEXT, finished_at TEXT, updated_at TEXT NOT NULL, version INTEGER NOT NULL)",
        "CREATE INDEX IF NOT EXISTS rm_jobs_by_status ON rm_jobs (status, created_at)",
    )

    @handles(Job.Submitted)
    def submitted(self, event: Any, tx: Transaction) -> None:
        tx.execute("INSERT INTO rm_jobs (id, job_type, project_id, status, progress, message, parameters, attempt, "
                   "created_at, updated_at, version) VALUES (?, ?, ?, 'scheduled', 0, 'Scheduled.', ?, 1, ?, ?, ?)",
                   (str(event.originator_id), event.job_type, event.project_id and str(event.project_id),
                    to_json(event.parameters), iso(event.timestamp), iso(event.timestamp), event.originator_version))

    @handles(Job.Started)
    def started(self, event: Any, tx: Transaction) -> None:
        self._set(tx, event, status="running", started_at=iso(event.timestamp), message="Running.")

    @handles(Job.Progressed)
    def progressed(self, event: Any, tx: Transaction) -> None:
        self._set(tx, event, progress=event.progress, message=event.message)

    @handles(Job.Finished)
    def finished(self, event: Any, tx: Transaction) -> None:
        self._set(tx, event, status="done", progress=100.0, message="Done.", result=to_json(event.result),
                  finished_at=iso(event.timestamp))

    @handles(Job.Failed)
    def failed(self, event: Any, tx: Transaction) -> None:
        self._set(tx, event, status="failed", error=event.error, message=f"Failed: {event.reason}.",
                  finished_at=iso(event.timestamp))

    @handles(Job.CancelRequested)
    def cancel_requested(self, event: Any, tx: Transaction) -> None:
        self._set(tx, event, status="cancelling", message="Cancelling.")

    @handles(Job.Cancelled)
    def cancelled(self, event: Any, tx: Transaction) -> None:
        self._set(tx, event, status="cancelled", message=f"Cancelled: {event.reason}.",
                  finished_at=iso(event.timestamp))

    @handles(Job.Requeued)
    def requeued(self, event: Any, tx: Transaction) -> None:
        self._set(tx, event, status="scheduled", attempt=event.attempt, progress=0.0,
                  message=f"Requeued: {event.reason}.", started_at=None)

    def _set(self, tx: Transaction, event: Any, **columns: Any) -> None:
        assignments = "".join(f"{column} = ?, " for column in columns)
        tx.execute(f"UPDATE rm_jobs SET {assignments}updated_at = ?, version = ? WHERE id = ?",
                   (*columns.values(), iso(event.timestamp), event.originator_version, str(event.originator_id)))
