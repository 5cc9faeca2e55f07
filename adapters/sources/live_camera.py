"""Live camera base: a grabber thread keeps only the newest frame and counts the drops."""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from collections.abc import Callable

import cv2

from adapters.sources.frames import frame_from_image
from application.ports.frames import Frame, FrameSource, SourceStats, SourceUnavailableError


class LiveCameraSource(FrameSource):
    """Reads a camera or stream as fast as it delivers, so the pipeline never lags behind."""

    def __init__(self, clock: Callable[[], float] = time.time, join_timeout: float = 2.0) -> None:
        self._clock = clock
        self._join_timeout = join_timeout
        self._condition = threading.Condition()
        self._latest: Frame | None = None
        self._error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sequence = 0
        self._stats = SourceStats()

    @property
    @abstractmethod
    def description(self) -> str:
        """How the source is named in messages (never with credentials)."""

    @abstractmethod
    def _open_capture(self) -> cv2.VideoCapture:
        """Open the device or stream; raise SourceUnavailableError if it cannot be."""

    def open(self) -> None:
        """Connect and start grabbing frames in the background."""
        self.close()
        capture = self._open_capture()
        self._stop = threading.Event()
        with self._condition:
            self._latest, self._error = None, None
        self._thread = threading.Thread(
            target=self._grab, args=(capture, self._stop), name="frame-grabber", daemon=True
        )
        self._thread.start()

    def _grab(self, capture: cv2.VideoCapture, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                ok, image = capture.read()
                if not ok:
                    self._fail(f"{self.description} stopped delivering frames.")
                    return
                self._publish(image)
        except Exception as error:  # whatever breaks the grabber must reach read()
            self._fail(f"{self.description} failed: {error}")
        finally:
            capture.release()

    def _publish(self, image: object) -> None:
        with self._condition:
            self._sequence += 1
            if self._latest is not None:
                self._stats.dropped += 1
            self._latest = frame_from_image(self._sequence, image, self._clock())
            self._condition.notify_all()

    def _fail(self, message: str) -> None:
        with self._condition:
            self._error = message
            self._condition.notify_all()

    def read(self, timeout: float) -> Frame | None:
        """Return the newest frame not yet read; raise once the stream broke."""
        with self._condition:
            self._condition.wait_for(
                lambda: self._latest is not None or self._error is not None, timeout
            )
            frame, self._latest = self._latest, None
            if frame is not None:
                self._stats.read += 1
                return frame
            if self._error is not None:
                raise SourceUnavailableError(self._error)
            if self._thread is None:
                raise SourceUnavailableError(f"{self.description} is not open.")
            return None

    def close(self) -> None:
        """Stop the grabber; the capture is released by the grabber thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self._join_timeout)
            self._thread = None

    @property
    def finished(self) -> bool:
        """A live camera never finishes; a broken one raises from read()."""
        return False

    @property
    def stats(self) -> SourceStats:
        """A copy of the counters."""
        with self._condition:
            return SourceStats(self._stats.read, self._stats.dropped, self._stats.unreadable)
