"""Decoupled dispatch: a bounded queue and a thread, so a slow sink never stalls the caller."""

from __future__ import annotations

import logging
import threading
from collections import deque

from adapters.sinks.rate_limit import RateLimiter
from application.ports.frames import Frame
from application.ports.sinks import FrameSink, PredictionPayload, SinkStats, SinkUnavailableError

logger = logging.getLogger(__name__)

_Item = tuple[Frame, bytes | None, PredictionPayload]


class DecoupledSink(FrameSink):
    """Rate-limits in the caller's thread, then queues; a full queue drops its oldest item."""

    def __init__(
        self, inner: FrameSink, rate_limiter: RateLimiter | None = None, capacity: int = 8
    ) -> None:
        self._inner = inner
        self._limiter = rate_limiter or RateLimiter(None)
        self._queue: deque[_Item] = deque()
        self._capacity = capacity
        self._condition = threading.Condition()
        self._busy = False
        self._closed = False
        self._error: str | None = None
        self._stats = SinkStats()
        self._thread = threading.Thread(target=self._work, name="sink-dispatch", daemon=True)
        self._thread.start()

    def send(
        self,
        frame: Frame,
        image_with_predictions_jpeg: bytes | None,
        prediction: PredictionPayload,
    ) -> None:
        """Queue the frame and return at once; never raises for the inner sink's failures."""
        with self._condition:
            if self._closed:
                return
            if not self._limiter.allow():
                self._stats.rate_limited += 1
                return
            if len(self._queue) >= self._capacity:
                self._queue.popleft()
                self._stats.dropped += 1
            self._queue.append((frame, image_with_predictions_jpeg, prediction))
            self._condition.notify_all()

    def _work(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._queue or self._closed)
                if not self._queue:
                    return
                item = self._queue.popleft()
                self._busy = True
            self._deliver(item)

    def _deliver(self, item: _Item) -> None:
        error: str | None = None
        try:
            self._inner.send(*item)
        except SinkUnavailableError as failure:
            error = failure.detail
        except Exception as failure:  # a sink bug must not kill dispatch for good
            logger.exception("Sink failed unexpectedly")
            error = f"The sink failed unexpectedly: {failure}."
        with self._condition:
            if error is None:
                self._stats.dispatched += 1
            else:
                self._stats.failed += 1
            self._error = error
            self._busy = False
            self._condition.notify_all()

    def flush(self, timeout: float) -> bool:
        """Wait until every queued frame was handled; False on timeout."""
        with self._condition:
            return self._condition.wait_for(lambda: not self._queue and not self._busy, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued (within `timeout`), then close the inner sink."""
        with self._condition:
            if self._closed:
                return
            self._closed = True
            self._condition.notify_all()
        self._thread.join(timeout)
        with self._condition:
            self._stats.dropped += len(self._queue)
            self._queue.clear()
        self._inner.close()

    @property
    def stats(self) -> SinkStats:
        """Dispatched, dropped (queue full), failed (inner sink raised) and rate-limited."""
        with self._condition:
            return SinkStats(**self._stats.as_dict())

    @property
    def last_error(self) -> str | None:
        """The inner sink's latest failure, cleared by its next success."""
        with self._condition:
            return self._error
