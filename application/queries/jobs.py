"""Queries of jobs."""

from typing import Any
from uuid import UUID

from application.errors import NotFoundError
from application.ports.read_store import ReadStore, Row
from application.projections import from_json

TERMINAL = ("done", "failed", "cancelled")


def job_json(row: Row) -> dict[str, Any]:
    return {"id": row["id"], "job_type": row["job_type"], "project_id": row["project_id"], "status": row["status"],
            "progress": float(row["progress"]), "message": row["message"], "error": row["error"],
            "parameters": from_json(row["parameters"]), "result": from_json(row["result"]),
            "attempt": int(row["attempt"]), "created_at": row["created_at"], "started_at": row["started_at"],
            "finished_at": row["finished_at"]}


def list_jobs(read: ReadStore, project_id: UUID | None = None, job_type: str | None = None,
              status: str | None = None) -> list[dict[str, Any]]:
    clauses, params = ["1 = 1"], []
    for column, value in (("project_id", project_id and str(project_id)), ("job_type", job_type),
                          ("status", status)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    rows = read.query(f"SELECT * FROM rm_jobs WHERE {' AND '.join(clauses)} ORDER BY created_at DESC, id", params)
    return [job_json(row) for row in rows]


def get_job(read: ReadStore, job_id: UUID) -> dict[str, Any]:
    row = read.query_one("SELECT * FROM rm_jobs WHERE id = ?", (str(job_id),))
    if row is None:
        raise NotFoundError(f"No job with id {job_id}.")
    return job_json(row)


def jobs_in(read: ReadStore, statuses: tuple[str, ...]) -> list[Row]:
    marks = ", ".join("?" * len(statuses))
    return read.query(f"SELECT id, job_type, status, attempt, started_at, updated_at FROM rm_jobs "
                      f"WHERE status IN ({marks})", statuses)
