"""The Falcon application factory: routes, middleware and error handlers in one place."""

import falcon

from domain.sink import Sink
from domain.source import Source
from entrypoints.bootstrap import Container
from entrypoints.http import errors
from entrypoints.http.middleware import BodyLimit, CallerIdentity, PathIds
from entrypoints.http.openapi import Docs, OpenApi, docs_static_dir
from entrypoints.http.resources import ReadYourWrites
from entrypoints.http.resources.annotations import ItemAnnotations, ItemHistory, ProjectHistory
from entrypoints.http.resources.connections import Connection, ConnectionKind, Connections
from entrypoints.http.resources.dataset import (
    DatasetItem,
    DatasetItemMedia,
    DatasetItems,
    DatasetItemTags,
    DatasetTags,
)
from entrypoints.http.resources.health import Health
from entrypoints.http.resources.jobs import Job, Jobs
from entrypoints.http.resources.models import DatasetRevisions, ModelArchitectures, Models
from entrypoints.http.resources.pipelines import LivePage, ProjectPipeline
from entrypoints.http.resources.projects import Project, ProjectLabels, Projects, TrainingConfiguration
from entrypoints.http.resources.staged import StagedDataset, StagedDatasets
from entrypoints.http.resources.views import View, ViewItems, Views
from entrypoints.http.schemas.connections import SINK_SCHEMAS, SOURCE_SCHEMAS


def create_app(container: Container) -> falcon.App:
    config = container.config
    app = falcon.App(middleware=[CallerIdentity(), BodyLimit(config.max_body_bytes, ("/api/staged_datasets",)),
                                 PathIds()])
    app.req_options.strip_url_path_trailing_slash = True
    errors.register(app)
    consistency = ReadYourWrites(container.projector, config.consistency_timeout_s)
    read = container.read_store

    for kind, schemas, commands in ((Source.kind, SOURCE_SCHEMAS, container.sources),
                                    (Sink.kind, SINK_SCHEMAS, container.sinks)):
        connection_kind = ConnectionKind(kind, schemas, commands, read, consistency, config.max_config_bytes)
        collection, item = Connections(connection_kind), Connection(connection_kind)
        app.add_route(f"/api/{kind}s", collection)
        app.add_route(f"/api/{kind}s:import", collection, suffix="import")
        app.add_route(f"/api/{kind}s/{{connection_id}}", item)
        app.add_route(f"/api/{kind}s/{{connection_id}}:export", item, suffix="export")

    projects = container.projects
    app.add_route("/api/projects", Projects(projects, read, consistency))
    app.add_route("/api/projects/{project_id}", Project(projects, read, consistency))
    app.add_route("/api/projects/{project_id}/labels", ProjectLabels(projects, read, consistency))
    app.add_route("/api/projects/{project_id}/training_configuration",
                  TrainingConfiguration(projects, read, consistency, container.catalog))
    pipeline = ProjectPipeline(container.pipelines, container.live, read, consistency, container.live_state,
                               container.live_frames)
    app.add_route("/api/projects/{project_id}/pipeline", pipeline)
    for action in ("enable", "disable", "capture"):
        app.add_route(f"/api/projects/{{project_id}}/pipeline:{action}", pipeline, suffix=action)
    app.add_route("/api/projects/{project_id}/pipeline/metrics", pipeline, suffix="metrics")
    app.add_route("/api/projects/{project_id}/pipeline/stream", pipeline, suffix="stream")
    app.add_route("/pipeline/{project_id}", LivePage(read, container.live_state))

    add_dataset_routes(app, container, consistency)
    jobs, job = Jobs(container.jobs, read, consistency), Job(container.jobs, read, consistency)
    app.add_route("/api/jobs", jobs)
    app.add_route("/api/jobs/{job_id}", job)
    app.add_route("/api/jobs/{job_id}:cancel", job, suffix="cancel")
    app.add_route("/api/jobs/{job_id}/status", job, suffix="status")
    app.add_route("/api/jobs/{job_id}/logs", job, suffix="logs")
    staged = StagedDataset(container.staging, read, consistency, container.staging_area)
    app.add_route("/api/staged_datasets", StagedDatasets(container.staging, read, consistency))
    app.add_route("/api/staged_datasets/{staged_id}", staged)
    app.add_route("/api/staged_datasets/{staged_id}/archive", staged, suffix="archive")
    add_model_routes(app, container, consistency)
    app.add_route("/api/health", Health(config, container.projector, container.policies, container.jobs.queue))
    app.add_route("/api/openapi.json", OpenApi())
    app.add_route("/api/docs", Docs())
    app.add_static_route("/api/docs/static", str(docs_static_dir()))
    return app


def add_dataset_routes(app: falcon.App, container: Container, consistency: ReadYourWrites) -> None:
    read, dataset = container.read_store, container.dataset
    base = "/api/projects/{project_id}/dataset"
    item = f"{base}/items/{{item_id}}"
    tags = DatasetTags(dataset, read, consistency)
    media = DatasetItemMedia(read, container.media)
    app.add_route(f"{base}/items", DatasetItems(dataset, read, consistency, container.config.max_image_bytes))
    app.add_route(f"{base}/items/tags", tags, suffix="bulk")
    app.add_route(f"{base}/tags", tags)
    app.add_route(item, DatasetItem(dataset, read, consistency))
    app.add_route(f"{item}/binary", media, suffix="binary")
    app.add_route(f"{item}/thumbnail", media, suffix="thumbnail")
    app.add_route(f"{item}/tags", DatasetItemTags(read))
    app.add_route(f"{item}/annotations", ItemAnnotations(dataset, read, consistency, container.store))
    app.add_route(f"{item}/history", ItemHistory(read))
    views = container.views
    app.add_route(f"{base}/views", Views(views, read, consistency))
    app.add_route(f"{base}/views/{{view_id}}", View(views, read, consistency))
    app.add_route(f"{base}/views/{{view_id}}/items", ViewItems(views, read, consistency))
    app.add_route("/api/projects/{project_id}/history", ProjectHistory(read))


def add_model_routes(app: falcon.App, container: Container, consistency: ReadYourWrites) -> None:
    read, base = container.read_store, "/api/projects/{project_id}"
    app.add_route("/api/model_architectures", ModelArchitectures(container.catalog))
    models = Models(container.models, read, consistency, container.config.data_dir / "models")
    app.add_route(f"{base}/models", models)
    app.add_route(f"{base}/models/{{model_id}}", models, suffix="model")
    app.add_route(f"{base}/models/{{model_id}}/labels", models, suffix="labels")
    app.add_route(f"{base}/models/{{model_id}}/binary", models, suffix="binary")
    revisions = DatasetRevisions(container.models, read, consistency, container.media)
    for prefix in (f"{base}/dataset_revisions", f"{base}/dataset_revisions/{{revision_id}}"):
        if prefix.endswith("}"):
            app.add_route(prefix, revisions, suffix="one")
        else:
            app.add_route(prefix, revisions)
        app.add_route(f"{prefix}/items", revisions, suffix="items")
        app.add_route(f"{prefix}/items/{{item_id}}", revisions, suffix="item")
        app.add_route(f"{prefix}/items/{{item_id}}/binary", revisions, suffix="binary")
        app.add_route(f"{prefix}/items/{{item_id}}/thumbnail", revisions, suffix="thumbnail")
