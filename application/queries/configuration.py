"""Queries of sources, sinks, projects, pipelines and training configuration."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from domain.training_configuration import Parameter, ParameterGroup

from application.errors import NotFoundError
from application.ports.read_store import ReadStore, Row
from application.projections import from_json


def _connection(row: Row, kind: str) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], f"{kind}_type": row["type"], **from_json(row["config"])}


def list_connections(read: ReadStore, kind: str) -> list[dict[str, Any]]:
    rows = read.query(f"SELECT * FROM rm_{kind}s ORDER BY created_at, id")
    return [_connection(row, kind) for row in rows]


def get_connection(read: ReadStore, kind: str, connection_id: UUID) -> dict[str, Any]:
    row = read.query_one(f"SELECT * FROM rm_{kind}s WHERE id = ?", (str(connection_id),))
    if row is None:
        raise NotFoundError(f"No {kind} with id {connection_id}.")
    return _connection(row, kind)


def _project(row: Row, running: bool) -> dict[str, Any]:
    return {
        "id": row["id"], "name": row["name"], "created_at": row["created_at"], "active_pipeline": running,
        "task": {"task_type": row["task_type"], "exclusive_labels": bool(row["exclusive_labels"]),
                 "labels": from_json(row["labels"])},
    }


_PROJECTS = ("SELECT p.*, COALESCE(l.enabled, 0) AS running FROM rm_projects p "
             "LEFT JOIN rm_pipelines l ON l.project_id = p.id")


def list_projects(read: ReadStore) -> list[dict[str, Any]]:
    return [_project(row, bool(row["running"])) for row in read.query(f"{_PROJECTS} ORDER BY p.created_at, p.id")]


def get_project(read: ReadStore, project_id: UUID) -> dict[str, Any]:
    row = read.query_one(f"{_PROJECTS} WHERE p.id = ?", (str(project_id),))
    if row is None:
        raise NotFoundError(f"No project with id {project_id}.")
    return _project(row, bool(row["running"]))


def get_labels(read: ReadStore, project_id: UUID) -> dict[str, Any]:
    task = get_project(read, project_id)["task"]
    return {"task_type": task["task_type"], "exclusive_labels": task["exclusive_labels"], "labels": task["labels"]}


def _tree(node: ParameterGroup | Parameter, values: dict[str, Any], prefix: str) -> dict[str, Any]:
    if isinstance(node, Parameter):
        key = f"{prefix}{node.key}"
        return {"type": "parameter", "key": node.key, "name": node.name, "description": node.description,
                "value_type": node.value_type, "value": values.get(key, node.default_value),
                "default_value": node.default_value, "min_value": node.min_value, "max_value": node.max_value,
                "allowed_values": list(node.allowed_values) if node.allowed_values else None}
    return {"type": "parameter_group", "key": node.key, "name": node.name, "description": node.description,
            "parameters": [_tree(child, values, f"{prefix}{node.key}.") for child in node.parameters]}


def get_training_configuration(read: ReadStore, project_id: UUID,
                               tree_of: Callable[[str], ParameterGroup]) -> dict[str, Any]:
    """The tree of the project's task (defaults of its default architecture) with the project's values."""
    row = read.query_one("SELECT task_type, training_configuration FROM rm_projects WHERE id = ?", (str(project_id),))
    if row is None:
        raise NotFoundError(f"No project with id {project_id}.")
    values = from_json(row["training_configuration"])
    return {"parameters": [_tree(child, values, "") for child in tree_of(row["task_type"]).parameters]}


def get_pipeline(read: ReadStore, project_id: UUID) -> dict[str, Any]:
    row = read.query_one("SELECT * FROM rm_pipelines WHERE project_id = ?", (str(project_id),))
    if row is None:
        raise NotFoundError(f"No project with id {project_id}.")
    source = get_connection(read, "source", row["source_id"]) if row["source_id"] else None
    sink = get_connection(read, "sink", row["sink_id"]) if row["sink_id"] else None
    model = read.query_one("SELECT id, name, architecture, task_type, status FROM rm_models WHERE id = ?",
                           (row["model_id"],)) if row["model_id"] else None
    return {"project_id": row["project_id"], "status": row["status"], "enabled": bool(row["enabled"]),
            "source": source, "sink": sink,
            "model": model, "data_collection": from_json(row["data_collection"]), "error": row["error"]}
