"""The Falcon application factory: routes, middleware and error handlers in one place."""

import falcon

from domain.sink import Sink
from domain.source import Source
from entrypoints.bootstrap import Container
from entrypoints.http import errors
from entrypoints.http.middleware import BodyLimit, CallerIdentity, PathIds
from entrypoints.http.openapi import Docs, OpenApi, docs_static_dir
from entrypoints.http.resources import ReadYourWrites
from entrypoints.http.resources.connections import Connection, ConnectionKind, Connections
from entrypoints.http.resources.health import Health
from entrypoints.http.resources.pipelines import ProjectPipeline
from entrypoints.http.resources.projects import Project, ProjectLabels, Projects, TrainingConfiguration
from entrypoints.http.schemas.connections import SINK_SCHEMAS, SOURCE_SCHEMAS


def create_app(container: Container) -> falcon.App:
    config = container.config
    app = falcon.App(middleware=[CallerIdentity(), BodyLimit(config.max_body_bytes), PathIds()])
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
                  TrainingConfiguration(projects, read, consistency))
    app.add_route("/api/projects/{project_id}/pipeline", ProjectPipeline(container.pipelines, read, consistency))

    app.add_route("/api/health", Health(config, container.projector))
    app.add_route("/api/openapi.json", OpenApi())
    app.add_route("/api/docs", Docs())
    app.add_static_route("/api/docs/static", str(docs_static_dir()))
    return app
