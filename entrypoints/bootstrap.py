"""The composition root: builds every collaborator from one Config. Nothing runs at import."""

import os
import socket
from dataclasses import dataclass

import dramatiq
from urllib.parse import parse_qs, unquote, urlparse, urlunparse

from domain.sink import Sink
from domain.source import Source

from adapters.archives import ZipArchives
from adapters.dramatiq_queue import DramatiqJobQueue, build_broker, declare_run_job, declare_run_pipeline
from adapters.formats import all_formats
from adapters.live import FileLiveFrames, OpenCvLiveAdapters
from adapters.media.filesystem import FilesystemMediaStore
from adapters.media.opencv_codec import OpenCvImageCodec
from adapters.persistence.postgres_read_store import PostgresReadStore, schema_lock
from adapters.training.registry import default_registry
from adapters.persistence.sqlite_read_store import SqliteReadStore
from application.commands.connections import ConnectionCommands
from application.commands.dataset import DatasetCommands
from application.commands.live import LiveCommands
from application.commands.models import ModelCommands
from application.commands.pipelines import PipelineCommands
from application.commands.projects import ProjectCommands
from application.commands.views import ViewCommands
from application.event_store import EventStore
from application.jobs import dataset_export, dataset_import
from application.jobs.commands import JobCommands
from application.jobs.datasets import Transfer
from application.jobs.diagnostic import DiagnosticSleep
from application.jobs.dispatch import JobRecovery, WhenJobSubmittedEnqueueIt
from application.jobs.handler import JobHandler
from application.jobs.log import JobLog
from application.jobs.runner import JobRunner
from application.jobs.training import TrainModel
from application.live.dispatch import PipelineRecovery, WhenPipelineEnabledStartIt
from application.live.ports import LiveFrames
from application.live.runtime import PipelineRuntime, Wiring
from application.live.state import LiveState
from application.policies import PolicyRunner, WhenLabelRemovedStripIt
from application.ports.dataset_formats import ArchiveLimits
from application.ports.media import ImageCodec, MediaStore
from application.ports.read_store import ReadStore
from application.ports.training import ArchitectureCatalog
from application.projections.connections import SinksProjection, SourcesProjection
from application.projections.dataset import DatasetItemsProjection
from application.projections.history import HistoryProjection
from application.projections.jobs import JobsProjection
from application.projections.models import ModelsProjection, RevisionsProjection
from application.projections.pipelines import PipelinesProjection
from application.projections.projector import Projector
from application.projections.projects import ProjectsProjection
from application.projections.staged import StagedDatasetsProjection
from application.projections.views import DatasetViewsProjection
from application.staging import StagingArea, StagingCommands
from entrypoints.config import Config, ConfigError


@dataclass
class Jobs:
    """Everything about background jobs: commands, handlers, queue, runner, recovery."""

    commands: JobCommands
    handlers: dict[str, JobHandler]
    log: JobLog
    broker: dramatiq.Broker
    queue: DramatiqJobQueue
    runner: JobRunner
    recovery: JobRecovery
    pipelines: PipelineRecovery


@dataclass
class Container:
    """What the entry points use: stores, the projector and the command handlers."""

    config: Config
    store: EventStore
    read_store: ReadStore
    projector: Projector
    policies: PolicyRunner
    media: MediaStore
    codec: ImageCodec
    sources: ConnectionCommands
    sinks: ConnectionCommands
    projects: ProjectCommands
    pipelines: PipelineCommands
    dataset: DatasetCommands
    views: ViewCommands
    staging: StagingCommands
    staging_area: StagingArea
    catalog: ArchitectureCatalog
    models: ModelCommands
    live: LiveCommands
    live_state: LiveState
    live_frames: LiveFrames
    jobs: "Jobs"

    def close(self) -> None:
        self.jobs.broker.close()
        self.read_store.close()
        self.store.close()


def event_store_env(config: Config) -> dict[str, str]:
    """eventsourcing settings: an SQLite file, or the PostgreSQL database of the URL."""
    if config.database_url is None:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        return {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(config.data_dir / "events.sqlite"), "SQLITE_LOCK_TIMEOUT": "10"}
    url = urlparse(config.database_url)
    if url.scheme not in ("postgres", "postgresql") or not url.path.strip("/"):
        raise ConfigError("VIEWFINDER_DATABASE_URL must look like postgresql://user@host:5432/dbname[?schema=name].")
    return {"PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": url.path.strip("/"),
            "POSTGRES_SCHEMA": database_schema(config.database_url),
            "POSTGRES_HOST": url.hostname or "127.0.0.1", "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""), "POSTGRES_POOL_SIZE": "4",
            "POSTGRES_MAX_OVERFLOW": "8", "POSTGRES_CONNECT_TIMEOUT": "10"}


def database_schema(database_url: str) -> str:
    """The `schema` query parameter of the URL (ours, not libpq's): where every table goes."""
    return parse_qs(urlparse(database_url).query).get("schema", ["public"])[0]


def build_read_store(config: Config) -> ReadStore:
    if config.database_url is None:
        return SqliteReadStore(config.data_dir / "readmodels.sqlite")
    url = urlparse(config.database_url)
    return PostgresReadStore(urlunparse(url._replace(query="")), schema=database_schema(config.database_url))


def bootstrap(config: Config) -> Container:
    """Build the container; connects to the databases and creates missing tables."""
    if config.database_url is None:
        return _bootstrap(config)
    with schema_lock(urlunparse(urlparse(config.database_url)._replace(query=""))):
        return _bootstrap(config)


def _bootstrap(config: Config) -> Container:
    store = EventStore(env=event_store_env(config))
    read_store = build_read_store(config)
    projector = Projector(store, read_store, [
        SourcesProjection(), SinksProjection(), ProjectsProjection(), PipelinesProjection(),
        DatasetItemsProjection(), DatasetViewsProjection(), HistoryProjection(), StagedDatasetsProjection(),
        ModelsProjection(), RevisionsProjection(),
        JobsProjection()])  # last: a job shows 'done' only once what it made is visible too
    projector.set_up()
    media = FilesystemMediaStore(config.data_dir / "media")
    codec = OpenCvImageCodec(max_pixels=config.max_image_pixels)
    dataset = DatasetCommands(store, media, codec)
    catalog = default_registry()
    projects, views = ProjectCommands(store), ViewCommands(store)
    area = StagingArea(config.data_dir / "staging")
    archives, limits = ZipArchives(), ArchiveLimits()
    staging = StagingCommands(store, area, archives, limits, config.max_staged_bytes)
    transfer = Transfer(store, read_store, media, staging, area, archives, limits, all_formats(), dataset, projects,
                        views)
    trainer = TrainModel(store, read_store, media, dataset, catalog, config.data_dir / "models")
    live, live_state, frames = LiveCommands(store), LiveState(read_store), FileLiveFrames(config.data_dir / "live")
    live_state.set_up()
    wiring = Wiring(store, read_store, live, dataset, live_state, frames, OpenCvLiveAdapters(),
                    config.data_dir / "models", holder=f"{socket.gethostname()}:{os.getpid()}")
    jobs = build_jobs(config, store, read_store, job_handlers(config, transfer, trainer), wiring)
    policies = PolicyRunner(store, projector, [WhenLabelRemovedStripIt(read_store, dataset),
                                               WhenJobSubmittedEnqueueIt(jobs.queue, jobs.commands),
                                               WhenPipelineEnabledStartIt(jobs.queue)])
    policies.set_up()
    return Container(config=config, store=store, read_store=read_store, projector=projector, policies=policies,
                     media=media, codec=codec, sources=ConnectionCommands(store, Source),
                     sinks=ConnectionCommands(store, Sink), projects=projects,
                     pipelines=PipelineCommands(store), dataset=dataset, views=views, staging=staging,
                     staging_area=area, catalog=catalog,
                     models=ModelCommands(store, read_store, media, config.data_dir / "models"), live=live,
                     live_state=live_state, live_frames=frames, jobs=jobs)


def job_handlers(config: Config, transfer: Transfer, trainer: TrainModel) -> dict[str, JobHandler]:
    handlers: list[JobHandler] = [trainer, *(cls(transfer) for cls in (*dataset_import.HANDLERS,
                                                                        *dataset_export.HANDLERS))]
    if config.diagnostic_jobs:
        handlers.append(DiagnosticSleep())
    return {handler.job_type: handler for handler in handlers}


def build_jobs(config: Config, store: EventStore, read_store: ReadStore, handlers: dict[str, JobHandler],
               wiring: Wiring) -> Jobs:
    """The queue and runner; the run_job actor is bound to this container's broker (no globals)."""
    commands = JobCommands(store)
    job_log = JobLog(read_store)
    job_log.set_up()
    runner = JobRunner(commands, job_log, handlers, worker=f"{socket.gethostname()}:{os.getpid()}")
    broker, abortable = build_broker(config.redis_url, config.redis_namespace)
    actor = declare_run_job(broker, runner.run, lambda job_id, attempt: commands.confirm_cancelled(
        job_id, attempt, "stopped by a hard abort"))
    pipeline_actor = declare_run_pipeline(broker, lambda project_id, run: PipelineRuntime(
        wiring, project_id, run).execute())
    queue = DramatiqJobQueue(broker, abortable, actor, pipeline_actor, config.redis_url)
    recovery = JobRecovery(commands, job_log, read_store, handlers, queue, config.job_stale_after_s)
    pipelines = PipelineRecovery(read_store, wiring.state, queue)
    return Jobs(commands, handlers, job_log, broker, queue, runner, recovery, pipelines)
