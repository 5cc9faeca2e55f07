"""Video file source: every frame in order (back-pressure), looping or finishing."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import cv2

from adapters.sources.frames import frame_from_image
from application.ports.frames import Frame, FrameSource, SourceStats, SourceUnavailableError


class VideoFileSource(FrameSource):
    """Reads a video file frame by frame; never skips, since the caller sets the pace."""

    def __init__(
        self, video_path: str, loop: bool = False, clock: Callable[[], float] = time.time
    ) -> None:
        self._path = video_path
        self._loop = loop
        self._clock = clock
        self._capture: cv2.VideoCapture | None = None
        self._finished = False
        self._sequence = 0
        self._frames_this_pass = 0
        self._stats = SourceStats()

    def open(self) -> None:
        """Open the file with OpenCV; a missing or undecodable file is unavailable."""
        self.close()
        self._finished = False
        self._capture = self._open_capture()

    def _open_capture(self) -> cv2.VideoCapture:
        if not os.path.isfile(self._path):
            raise SourceUnavailableError(f"Video file '{self._path}' does not exist.")
        capture = cv2.VideoCapture(self._path)
        if not capture.isOpened():
            capture.release()
            raise SourceUnavailableError(f"Video file '{self._path}' cannot be decoded.")
        self._frames_this_pass = 0
        return capture

    def read(self, timeout: float) -> Frame | None:
        """Decode the next frame; at the end rewind (loop) or become finished."""
        if self._finished:
            return None
        if self._capture is None:
            raise SourceUnavailableError(f"Video file '{self._path}' is not open.")
        ok, image = self._capture.read()
        if not ok and self._loop and self._frames_this_pass > 0:
            self._capture.release()
            self._capture = self._open_capture()
            ok, image = self._capture.read()
        if not ok:
            if self._loop:
                raise SourceUnavailableError(f"Video file '{self._path}' has no readable frame.")
            self._finished = True
            return None
        self._frames_this_pass += 1
        self._sequence += 1
        self._stats.read += 1
        return frame_from_image(self._sequence, image, self._clock())

    def close(self) -> None:
        """Release the decoder."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    @property
    def finished(self) -> bool:
        """True after the last frame of a non-looping file."""
        return self._finished

    @property
    def stats(self) -> SourceStats:
        """A copy of the counters."""
        return SourceStats(self._stats.read, self._stats.dropped, self._stats.unreadable)
