"""The engine: the process that follows the event log and keeps the read models current.

The job policies and the embedded Dramatiq worker of later features run here too.
"""

import logging
import threading
import time

from application.media_sweep import sweep_media

from entrypoints.bootstrap import Container

log = logging.getLogger("viewfinder.engine")
SWEEP_EVERY_S = 3600.0


class Engine:
    """Runs the projector until stopped; survives transient database errors."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        projector, policies = self.container.projector, self.container.policies
        interval = self.container.config.engine_poll_interval_s
        log.info("engine following the event log")
        next_sweep = time.monotonic() + SWEEP_EVERY_S
        while not self.stopping.is_set():
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + SWEEP_EVERY_S
                self._sweep()
            try:
                processed = projector.run_once()
                processed += policies.run_once()
            except Exception:  # noqa: BLE001 - a database hiccup must not kill the engine
                log.exception("projection round failed; retrying")
                self.stopping.wait(1.0)
                continue
            if not processed:
                self.stopping.wait(interval)

    def _sweep(self) -> None:
        try:
            removed = sweep_media(self.container.media, self.container.read_store)
        except Exception:  # noqa: BLE001 - a failed sweep is retried at the next round
            log.exception("media sweep failed")
            return
        if removed:
            log.info("media sweep removed %d unreferenced file(s)", len(removed))

    def start_in_thread(self) -> "Engine":
        self._thread = threading.Thread(target=self.run, name="viewfinder-engine", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
