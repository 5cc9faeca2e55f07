"""The engine: the process that follows the event log.

It keeps the read models current (projections), runs the policies (label stripping, job dispatch),
recovers jobs whose worker died, sweeps orphaned media, and in the embedded mode hosts the Dramatiq
worker that runs the jobs.
"""

import logging
import threading
import time

import dramatiq

from adapters.dramatiq_queue import start_worker
from application.media_sweep import sweep_media
from entrypoints.bootstrap import Container

log = logging.getLogger("viewfinder.engine")
SWEEP_EVERY_S = 3600.0
RECOVERY_EVERY_S = 1.0


class Engine:
    """Runs projections, policies and periodic duties until stopped; survives transient errors."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.worker: dramatiq.Worker | None = None

    @property
    def hosts_worker(self) -> bool:
        return self.container.config.redis_url is None

    def run(self) -> None:
        container = self.container
        container.projector.catch_up()
        if self.hosts_worker:
            self.worker = start_worker(container.jobs.broker, container.config.worker_threads)
        self._guarded(lambda: container.jobs.recovery.on_start(sole_worker=self.hosts_worker), "job recovery")
        log.info("engine following the event log (worker %s)", "in-process" if self.hosts_worker else "remote")
        try:
            self._loop()
        finally:
            if self.worker is not None:
                self.worker.stop(timeout=5000)

    def _loop(self) -> None:
        interval = self.container.config.engine_poll_interval_s
        next_sweep = time.monotonic() + SWEEP_EVERY_S
        next_recovery = time.monotonic() + RECOVERY_EVERY_S
        while not self.stopping.is_set():
            now = time.monotonic()
            if now >= next_recovery:
                next_recovery = now + RECOVERY_EVERY_S
                self._guarded(self.container.jobs.recovery.check, "job recovery")
                self._guarded(self.container.jobs.pipelines.check, "pipeline recovery")
            if now >= next_sweep:
                next_sweep = now + SWEEP_EVERY_S
                self._guarded(self._sweep, "media sweep")
            processed = self._guarded(self._round, "projection round")
            if not processed:
                self.stopping.wait(interval)

    def _round(self) -> int:
        return self.container.projector.run_once() + self.container.policies.run_once()

    def _sweep(self) -> int:
        projector = self.container.projector
        removed = sweep_media(self.container.media, self.container.read_store,
                              lag=lambda: max(projector.lag().values(), default=0))
        if removed:
            log.info("media sweep removed %d unreferenced file(s)", len(removed))
        return len(removed)

    def _guarded(self, duty, name: str) -> int:  # type: ignore[no-untyped-def]
        """Run a duty; a database hiccup is logged and retried, never fatal."""
        try:
            return int(duty() or 0)
        except Exception:  # noqa: BLE001
            log.exception("%s failed; retrying", name)
            self.stopping.wait(1.0)
            return 0

    def start_in_thread(self) -> "Engine":
        self._thread = threading.Thread(target=self.run, name="viewfinder-engine", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
