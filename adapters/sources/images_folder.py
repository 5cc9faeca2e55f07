"""Image folder source: existing files by modification time, then new files as they appear."""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable

import cv2

from adapters.sources.frames import frame_from_image
from application.ports.frames import Frame, FrameSource, SourceStats, SourceUnavailableError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})

_Stat = tuple[int, int]


class ImagesFolderSource(FrameSource):
    """Polls a folder; a file is read once its size and mtime have settled."""

    def __init__(
        self,
        folder_path: str,
        ignore_existing_images: bool = False,
        poll_interval: float = 0.05,
        settle_time: float = 0.2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._folder = folder_path
        self._ignore_existing = ignore_existing_images
        self._poll_interval = poll_interval
        self._settle_time = settle_time
        self._clock = clock
        self._seen: set[str] = set()
        self._ready: deque[str] = deque()
        self._pending: dict[str, tuple[_Stat, float]] = {}
        self._last_scan = float("-inf")
        self._sequence = 0
        self._stats = SourceStats()

    def open(self) -> None:
        """Take stock of the folder; existing files are queued or ignored."""
        self._seen.clear()
        self._ready.clear()
        self._pending.clear()
        if self._ignore_existing:
            self._seen.update(name for name, _ in self._candidates())
        self._scan()

    def read(self, timeout: float) -> Frame | None:
        """Decode the oldest settled file; unreadable files are skipped and counted."""
        deadline = time.monotonic() + timeout
        while True:
            if not self._ready and time.monotonic() - self._last_scan >= self._poll_interval:
                self._scan()
            while self._ready:
                frame = self._decode(self._ready.popleft())
                if frame is not None:
                    return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            time.sleep(min(self._poll_interval, remaining))

    def _decode(self, name: str) -> Frame | None:
        self._seen.add(name)
        image = cv2.imread(os.path.join(self._folder, name), cv2.IMREAD_COLOR)
        if image is None:
            self._stats.unreadable += 1
            return None
        self._sequence += 1
        self._stats.read += 1
        return frame_from_image(self._sequence, image, self._clock())

    def _candidates(self) -> list[tuple[str, _Stat]]:
        try:
            entries = list(os.scandir(self._folder))
        except OSError as error:
            raise SourceUnavailableError(
                f"Image folder '{self._folder}' cannot be read: {error.strerror}."
            ) from error
        found = []
        for entry in entries:
            name = entry.name
            if name.startswith(".") or os.path.splitext(name)[1].lower() not in IMAGE_SUFFIXES:
                continue
            try:
                if entry.is_file():
                    stat = entry.stat()
                    found.append((name, (stat.st_size, stat.st_mtime_ns)))
            except FileNotFoundError:
                continue
        return found

    def _scan(self) -> None:
        now = time.monotonic()
        self._last_scan = now
        wall_now_ns = time.time_ns()
        candidates = self._candidates()
        present = {name for name, _ in candidates}
        self._seen &= present
        queued = set(self._ready)
        settled: list[tuple[int, str]] = []
        pending: dict[str, tuple[_Stat, float]] = {}
        for name, stat in candidates:
            if name in self._seen or name in queued:
                continue
            previous = self._pending.get(name)
            first_seen = previous[1] if previous and previous[0] == stat else now
            old_enough = (wall_now_ns - stat[1]) / 1e9 >= self._settle_time
            if old_enough or now - first_seen >= self._settle_time:
                settled.append((stat[1], name))
            else:
                pending[name] = (stat, first_seen)
        self._pending = pending
        self._ready.extend(name for _, name in sorted(settled))

    def close(self) -> None:
        """Nothing to release; the folder is only polled."""

    @property
    def finished(self) -> bool:
        """A folder is watched forever."""
        return False

    @property
    def stats(self) -> SourceStats:
        """A copy of the counters."""
        return SourceStats(self._stats.read, self._stats.dropped, self._stats.unreadable)
