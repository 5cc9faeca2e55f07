"""Queries of the staging area."""

from typing import Any
from uuid import UUID

from application.errors import NotFoundError
from application.ports.read_store import ReadStore, Row
from application.projections import from_json


def _staged(row: Row) -> dict[str, Any]:
    return {"id": row["id"], "status": row["status"], "format": row["format"], "size": int(row["size"]),
            "metadata": from_json(row["metadata"]), "error": row["error"], "origin": row["origin"],
            "project_id": row["project_id"], "created_at": row["created_at"]}


def list_staged(read: ReadStore) -> list[dict[str, Any]]:
    return [_staged(row) for row in read.query("SELECT * FROM rm_staged_datasets ORDER BY created_at DESC, id")]


def get_staged(read: ReadStore, staged_id: UUID) -> dict[str, Any]:
    row = read.query_one("SELECT * FROM rm_staged_datasets WHERE id = ?", (str(staged_id),))
    if row is None:
        raise NotFoundError(f"No staged dataset with id {staged_id}.")
    return _staged(row)
