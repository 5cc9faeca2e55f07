"""The OpenAPI 3 document, generated from the marshmallow schemas, and the local docs page."""

from pathlib import Path
from typing import Any

import falcon
import swagger_ui_bundle
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from entrypoints.http.schemas import connections as c
from entrypoints.http.schemas import dataset as d
from entrypoints.http.schemas import jobs as j
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

P, ITEM = "/api/projects/{project_id}", "/api/projects/{project_id}/dataset/items/{item_id}"
OPERATIONS += [
    (f"{P}/dataset/items", "get", "List items (filters: annotated, labels, tags, subset, created_after/before, "
     "sort; with_annotations)", None, r.DatasetItemsSchema, 200),
    (f"{P}/dataset/items", "post", "Upload an image (raw body with image/* type, or multipart 'file')", "image",
     r.DatasetItemSchema, 201),
    (f"{P}/dataset/items/tags", "patch", "Add and remove tags on many items", d.TagsChangeSchema,
     [r.TagCountSchema], 200),
    (f"{P}/dataset/tags", "get", "Tags of the dataset with counts", None, [r.TagCountSchema], 200),
    (ITEM, "get", "Get an item", None, r.DatasetItemSchema, 200),
    (ITEM, "delete", "Delete an item (its history stays)", None, None, 204),
    (f"{ITEM}/binary", "get", "The original bytes (ETag, If-None-Match)", None, "image", 200),
    (f"{ITEM}/thumbnail", "get", "JPEG thumbnail, longest side 256 px", None, "image", 200),
    (f"{ITEM}/tags", "get", "Tags of an item", None, "strings", 200),
    (f"{ITEM}/annotations", "get", "Annotations (now, or ?version=N, or ?as_of=ISO time)", None,
     r.AnnotationStateSchema, 200),
    (f"{ITEM}/annotations", "post", "Replace the annotations", d.AnnotationsSchema, r.AnnotationStateSchema, 201),
    (f"{ITEM}/annotations", "delete", "Remove the annotations", None, None, 204),
    (f"{ITEM}/history", "get", "Every event of the item", None, [r.HistoryEntrySchema], 200),
    (f"{P}/dataset/views", "get", "List views", None, [r.ViewSchema], 200),
    (f"{P}/dataset/views", "post", "Create a view", d.ViewCreateSchema, r.ViewSchema, 201),
    (f"{P}/dataset/views/{{view_id}}", "get", "Get a view with its item count", None, r.ViewSchema, 200),
    (f"{P}/dataset/views/{{view_id}}", "delete", "Delete a view", None, None, 204),
    (f"{P}/dataset/views/{{view_id}}/items", "get", "Items of a view (same filters)", None,
     r.DatasetItemsSchema, 200),
    (f"{P}/dataset/views/{{view_id}}/items", "post", "Add items by ids or filter", d.ViewItemsSchema,
     r.ViewSchema, 200),
    (f"{P}/dataset/views/{{view_id}}/items", "delete", "Remove items by ids or filter", d.ViewItemsSchema,
     r.ViewSchema, 200),
    (f"{P}/history", "get", "Audit log of the project (kind, item_id, since, until, offset, limit)", None,
     [r.HistoryEntrySchema], 200),
    ("/api/jobs", "get", "List jobs (project_id, job_type, status)", None, [r.JobSchema], 200),
    ("/api/jobs", "post", "Submit a job (parameters per job_type)", j.JobSubmitSchema, r.JobSchema, 202),
    ("/api/jobs/{job_id}", "get", "Get a job", None, r.JobSchema, 200),
    ("/api/jobs/{job_id}:cancel", "post", "Cancel a job (409 once finished)", None, r.JobSchema, 202),
    ("/api/jobs/{job_id}/status", "get", "Server-Sent Events: the job on every change", None, "sse", 200),
    ("/api/jobs/{job_id}/logs", "get", "Server-Sent Events: log lines, past then new", None, "sse", 200),
    ("/api/staged_datasets", "get", "List staged datasets", None, [r.StagedDatasetSchema], 200),
    ("/api/staged_datasets", "post", "Upload a zip archive (raw or multipart 'file')", "zip",
     r.StagedDatasetSchema, 201),
    ("/api/staged_datasets/{staged_id}", "get", "Get a staged dataset", None, r.StagedDatasetSchema, 200),
    ("/api/staged_datasets/{staged_id}", "delete", "Delete a staged dataset and its files", None, None, 204),
    ("/api/staged_datasets/{staged_id}/archive", "get", "Download the archive", None, "zip", 200),
    ("/api/model_architectures", "get", "Architectures per task (?task_type=)", None, [r.ArchitectureSchema], 200),
    (f"{P}/models", "get", "Models of the project", None, [r.ModelSchema], 200),
    (f"{P}/models/{{model_id}}", "get", "Get a model", None, r.ModelSchema, 200),
    (f"{P}/models/{{model_id}}", "delete", "Delete a model (?weights_only=true keeps the record)", None, None, 204),
    (f"{P}/models/{{model_id}}/labels", "get", "The labels in the model's output order", None,
     [r.LabelSchema], 200),
    (f"{P}/models/{{model_id}}/binary", "get", "Zip of model.xml, model.bin and a README", None, "zip", 200),
]
for _rev in (f"{P}/dataset_revisions", f"{P}/dataset_revisions/{{revision_id}}"):
    _which = "the latest revision" if _rev.endswith("revisions") else "a revision"
    OPERATIONS += [
        (f"{_rev}/items", "get", f"Items of {_which}", None, r.DatasetItemsSchema, 200),
        (f"{_rev}/items/{{item_id}}", "get", f"An item of {_which}", None, r.DatasetItemSchema, 200),
        (f"{_rev}/items/{{item_id}}/binary", "get", f"Original bytes of an item of {_which}", None, "image", 200),
        (f"{_rev}/items/{{item_id}}/thumbnail", "get", f"Thumbnail of an item of {_which}", None, "image", 200),
        (_rev, "delete", f"Free the files of {_which} (409 if the pipeline's model uses it)", None, None, 204),
    ]
OPERATIONS += [
    (f"{P}/pipeline:enable", "post", "Start the pipeline (409 without source or trained model, or while another "
     "project's pipeline runs)", None, r.PipelineSchema, 200),
    (f"{P}/pipeline:disable", "post", "Stop the pipeline", None, r.PipelineSchema, 200),
    (f"{P}/pipeline:capture", "post", "The next frame becomes a dataset item (409 when not running)", None,
     None, 202),
    (f"{P}/pipeline/metrics", "get", "Latency and throughput over ?time_window= seconds (1..3600)", None,
     "object", 200),
    (f"{P}/pipeline/stream", "get", "multipart/x-mixed-replace JPEG frames with predictions drawn", None,
     "mjpeg", 200),
    ("/pipeline/{project_id}", "get", "A small page with the live view and metrics", None, "html", 200),
    (f"{P}/dataset_revisions", "get", "Dataset revisions of the project", None, [r.RevisionSchema], 200),
    (f"{P}/dataset_revisions/{{revision_id}}", "get", "Get a dataset revision", None, r.RevisionSchema, 200),
]

ERRORS = {"400": "Malformed request or id", "404": "Unknown resource", "409": "Conflict with current state",
          "413": "Payload too large", "422": "Invalid content"}


RAW = {"yaml": "application/x-yaml", "image": "image/*", "zip": "application/zip", "sse": "text/event-stream",
       "mjpeg": "multipart/x-mixed-replace", "html": "text/html"}


def _content(schema: Any) -> dict[str, Any]:
    if isinstance(schema, str) and schema in RAW:
        return {RAW[schema]: {"schema": {"type": "string", "format": "binary"}}}
    if schema == "strings":
        return {"application/json": {"schema": {"type": "array", "items": {"type": "string"}}}}
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
