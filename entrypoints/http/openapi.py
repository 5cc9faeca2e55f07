"""The OpenAPI 3 document, generated from the marshmallow schemas, and the local docs page."""

from pathlib import Path
from typing import Any

import falcon
import swagger_ui_bundle
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from entrypoints.http.schemas import connections as c
from entrypoints.http.schemas import projects as p
from entrypoints.http.schemas import responses as r

Op = tuple[str, str, str, Any, Any, int]  # path, method, summary, request schema, response schema, status

OPERATIONS: list[Op] = [
    ("/api/health", "get", "Health of the event store, read models and broker", None, r.HealthSchema, 200),
    ("/api/sources", "get", "List the sources", None, [c.ConnectionSchema], 200),
    ("/api/sources", "post", "Create a source (body per source_type)", c.SOURCE_SCHEMAS, c.ConnectionSchema, 201),
    ("/api/sources:import", "post", "Import a source from exported YAML", "yaml", c.ConnectionSchema, 201),
    ("/api/sources/{source_id}", "get", "Get a source", None, c.ConnectionSchema, 200),
    ("/api/sources/{source_id}", "patch", "Reconfigure a source", c.SOURCE_SCHEMAS, c.ConnectionSchema, 200),
    ("/api/sources/{source_id}", "delete", "Delete a source (409 when a pipeline uses it)", None, None, 204),
    ("/api/sources/{source_id}:export", "post", "Export a source as YAML", None, "yaml", 200),
    ("/api/sinks", "get", "List the sinks", None, [c.ConnectionSchema], 200),
    ("/api/sinks", "post", "Create a sink (body per sink_type)", c.SINK_SCHEMAS, c.ConnectionSchema, 201),
    ("/api/sinks:import", "post", "Import a sink from exported YAML", "yaml", c.ConnectionSchema, 201),
    ("/api/sinks/{sink_id}", "get", "Get a sink", None, c.ConnectionSchema, 200),
    ("/api/sinks/{sink_id}", "patch", "Reconfigure a sink", c.SINK_SCHEMAS, c.ConnectionSchema, 200),
    ("/api/sinks/{sink_id}", "delete", "Delete a sink (409 when a pipeline uses it)", None, None, 204),
    ("/api/sinks/{sink_id}:export", "post", "Export a sink as YAML", None, "yaml", 200),
    ("/api/projects", "get", "List the projects", None, [r.ProjectSchema], 200),
    ("/api/projects", "post", "Create a project", p.ProjectCreateSchema, r.ProjectSchema, 201),
    ("/api/projects/{project_id}", "get", "Get a project", None, r.ProjectSchema, 200),
    ("/api/projects/{project_id}", "patch", "Rename a project", p.ProjectRenameSchema, r.ProjectSchema, 200),
    ("/api/projects/{project_id}", "delete", "Delete a project (409 while its pipeline runs)", None, None, 204),
    ("/api/projects/{project_id}/labels", "get", "Get the task and labels", None, r.LabelsSchema, 200),
    ("/api/projects/{project_id}/labels", "patch", "Add, edit and remove labels", p.LabelsChangeSchema,
     r.LabelsSchema, 200),
    ("/api/projects/{project_id}/training_configuration", "get", "Get the training configuration tree", None,
     r.TrainingConfigurationSchema, 200),
    ("/api/projects/{project_id}/training_configuration", "patch",
     "Change parameters: a flat object of dotted keys to values", "object", r.TrainingConfigurationSchema, 200),
    ("/api/projects/{project_id}/pipeline", "get", "Get the project's pipeline", None, r.PipelineSchema, 200),
    ("/api/projects/{project_id}/pipeline", "patch", "Configure the pipeline's source, sink, model, collection",
     p.PipelinePatchSchema, r.PipelineSchema, 200),
]

ERRORS = {"400": "Malformed request or id", "404": "Unknown resource", "409": "Conflict with current state",
          "413": "Payload too large", "422": "Invalid content"}


def _content(schema: Any) -> dict[str, Any]:
    if schema == "yaml":
        return {"application/x-yaml": {"schema": {"type": "string"}}}
    if schema == "object":
        return {"application/json": {"schema": {"type": "object", "additionalProperties": True}}}
    if isinstance(schema, dict):
        refs = [{"$ref": f"#/components/schemas/{s.__name__.removesuffix('Schema')}"} for s in schema.values()]
        return {"application/json": {"schema": {"oneOf": refs}}}
    if isinstance(schema, list):
        return {"application/json": {"schema": {"type": "array", "items": schema[0]}}}
    return {"application/json": {"schema": schema}}


def build_spec() -> dict[str, Any]:
    spec = APISpec(title="Viewfinder", version="0.1.0", openapi_version="3.0.3", plugins=[MarshmallowPlugin()],
                   info={"description": "Event-sourced backend for edge computer vision."})
    spec.components.schema("Error", schema=r.ErrorSchema)
    for schema in (*c.SOURCE_SCHEMAS.values(), *c.SINK_SCHEMAS.values()):
        spec.components.schema(schema.__name__.removesuffix("Schema"), schema=schema)
    paths: dict[str, dict[str, Any]] = {}
    for path, method, summary, request, response, status in OPERATIONS:
        operation: dict[str, Any] = {"summary": summary, "responses": {
            str(status): {"description": "Success", **({"content": _content(response)} if response else {})},
            **{code: {"description": text, "content": {"application/json": {"schema": "Error"}}}
               for code, text in ERRORS.items()}}}
        if request is not None:
            operation["requestBody"] = {"required": True, "content": _content(request)}
        operation["parameters"] = [{"in": "path", "name": name, "required": True,
                                    "schema": {"type": "string", "format": "uuid"}}
                                   for name in _path_fields(path)]
        operation["parameters"].append({"in": "header", "name": "X-User", "required": False,
                                        "schema": {"type": "string", "default": "anonymous"}})
        paths.setdefault(path, {})[method] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _path_fields(path: str) -> list[str]:
    return [part[1:part.index("}")] for part in path.split("/") if part.startswith("{")]


DOCS_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Viewfinder API</title>
<link rel="stylesheet" href="/api/docs/static/swagger-ui.css"></head><body><div id="ui"></div>
<script src="/api/docs/static/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#ui"});</script></body></html>"""


class OpenApi:
    """/api/openapi.json, built once per process."""

    def __init__(self) -> None:
        self.document: dict[str, Any] | None = None

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self.document is None:
            self.document = build_spec()
        resp.media = self.document


class Docs:
    """/api/docs: Swagger UI served from the installed bundle (no CDN)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.text = DOCS_PAGE


def docs_static_dir() -> Path:
    return Path(swagger_ui_bundle.swagger_ui_path)
