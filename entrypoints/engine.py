"""The engine: the process that follows the event log and keeps the read models current.

The job policies and the embedded Dramatiq worker of later features run here too.
"""

import logging
import threading

from entrypoints.bootstrap import Container

log = logging.getLogger("viewfinder.engine")


class Engine:
    """Runs the projector until stopped; survives transient database errors."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        projector = self.container.projector
        interval = self.container.config.engine_poll_interval_s
        log.info("engine following the event log")
        while not self.stopping.is_set():
            try:
                processed = projector.run_once()
            except Exception:  # noqa: BLE001 - a database hiccup must not kill the engine
                log.exception("projection round failed; retrying")
                self.stopping.wait(1.0)
                continue
            if not processed:
                self.stopping.wait(interval)

    def start_in_thread(self) -> "Engine":
        self._thread = threading.Thread(target=self.run, name="viewfinder-engine", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
