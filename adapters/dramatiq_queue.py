"""The job queue on Dramatiq: an in-process StubBroker (embedded) or Redis (scale-out), with
dramatiq-abort for hard stops."""

import logging
from collections.abc import Callable
from uuid import UUID, uuid5

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AgeLimit, Callbacks, Pipelines, Retries, TimeLimit
from dramatiq_abort import Abortable, abort
from dramatiq_abort.abort_manager import Abort
from dramatiq_abort.backends import RedisBackend, StubBackend

from adapters.redis_health import redis_reachable
from application.ports.job_queue import JobQueue

log = logging.getLogger("viewfinder.queue")

QUEUE = "viewfinder-jobs"
PIPELINE_QUEUE = "viewfinder-pipelines"
ABORT_GRACE_MS = 500  # a cooperative job sees the cancel within 0.2 s; then an exception is raised in its thread
JOB_TIME_LIMIT_MS = 24 * 3600 * 1000


def build_broker(redis_url: str | None, namespace: str) -> tuple[dramatiq.Broker, Abortable]:
    """A broker with the middleware jobs need (no automatic retries: recovery is ours)."""
    if redis_url is None:
        broker: dramatiq.Broker = StubBroker(middleware=[])
        backend = StubBackend()
    else:
        client = redis.Redis.from_url(redis_url)
        broker = RedisBroker(client=client, namespace=namespace, middleware=[])
        backend = RedisBackend(client=client, namespace=f"{namespace}-abort:")
    abortable = Abortable(backend=backend)
    abortable.wait_timeout = 200 if redis_url is None else 1000  # the Redis backend refuses shorter waits
    for middleware in (AgeLimit(), TimeLimit(time_limit=JOB_TIME_LIMIT_MS), Callbacks(), Pipelines(),
                       Retries(max_retries=0), abortable):
        broker.add_middleware(middleware)
    return broker, abortable


def message_id(job_id: UUID, attempt: int) -> str:
    """Deterministic per attempt, so that the abort of an attempt can be addressed by id."""
    return str(uuid5(job_id, f"attempt-{attempt}"))


def declare_run_job(broker: dramatiq.Broker, run: Callable[[UUID, int], None],
                    on_abort: Callable[[UUID, int], None]) -> dramatiq.Actor:
    """The one actor: thin, primitive arguments, idempotent (the runner skips stale attempts)."""

    def run_job(job_id: str, attempt: int) -> None:
        try:
            run(UUID(job_id), attempt)
        except Abort:
            on_abort(UUID(job_id), attempt)

    return dramatiq.actor(run_job, broker=broker, queue_name=QUEUE, actor_name="run_job", max_retries=0,
                          time_limit=JOB_TIME_LIMIT_MS)


def declare_run_pipeline(broker: dramatiq.Broker, run: Callable[[UUID, int], None]) -> dramatiq.Actor:
    """Runs a pipeline until it is disabled: a long message, never retried (the engine re-queues)."""

    def run_pipeline(project_id: str, run_number: int) -> None:
        run(UUID(project_id), run_number)

    return dramatiq.actor(run_pipeline, broker=broker, queue_name=PIPELINE_QUEUE, actor_name="run_pipeline",
                          max_retries=0, time_limit=JOB_TIME_LIMIT_MS * 365)


class DramatiqJobQueue(JobQueue):
    """Enqueues run_job and run_pipeline messages; aborts jobs through dramatiq-abort."""

    def __init__(self, broker: dramatiq.Broker, abortable: Abortable, actor: dramatiq.Actor,
                 pipeline_actor: dramatiq.Actor, redis_url: str | None) -> None:
        self.broker = broker
        self.abortable = abortable
        self.actor = actor
        self.pipeline_actor = pipeline_actor
        self.redis_url = redis_url

    def start_pipeline(self, project_id: UUID, run: int) -> None:
        self.pipeline_actor.send_with_options(args=(str(project_id), run), abortable=False)

    def enqueue(self, job_id: UUID, attempt: int) -> None:
        message = self.actor.message(str(job_id), attempt).copy(message_id=message_id(job_id, attempt))
        self.broker.enqueue(message)

    def abort(self, job_id: UUID, attempt: int) -> None:
        abort(message_id(job_id, attempt), middleware=self.abortable, abort_timeout=ABORT_GRACE_MS)

    def healthy(self) -> bool:
        return self.redis_url is None or redis_reachable(self.redis_url)


def start_worker(broker: dramatiq.Broker, threads: int) -> dramatiq.Worker:
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=100)
    worker.start()
    return worker
