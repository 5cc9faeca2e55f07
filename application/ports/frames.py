"""Frame source port: where the live pipeline reads its frames from."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from application.errors import ViewfinderError


class SourceUnavailableError(ViewfinderError):
    """Raised when a source cannot be opened or stops delivering; the runtime retries."""


@dataclass(frozen=True)
class Frame:
    """One decoded frame; `image` is an HxWx3 uint8 BGR array owned by the frame."""

    sequence: int
    timestamp: float
    image: Any
    width: int
    height: int

    def metadata(self) -> dict[str, Any]:
        """The frame part of a prediction payload."""
        return {
            "sequence": self.sequence,
            "timestamp": self.timestamp,
            "width": self.width,
            "height": self.height,
        }


@dataclass
class SourceStats:
    """Counters of a source since it was built."""

    read: int = 0
    dropped: int = 0
    unreadable: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters as plain data."""
        return {"read": self.read, "dropped": self.dropped, "unreadable": self.unreadable}


class FrameSource(ABC):
    """A stream of frames: files apply back-pressure, live cameras keep the newest frame."""

    @abstractmethod
    def open(self) -> None:
        """Connect to the source; raises SourceUnavailableError with a readable message."""

    @abstractmethod
    def read(self, timeout: float) -> Frame | None:
        """Return the next frame, or None if none arrived within `timeout` seconds."""

    @abstractmethod
    def close(self) -> None:
        """Release the device, stream or file; safe to call twice."""

    @property
    @abstractmethod
    def finished(self) -> bool:
        """True once a finite source (a non-looping video file) has delivered every frame."""

    @property
    @abstractmethod
    def stats(self) -> SourceStats:
        """Frames read, dropped (live cameras) and unreadable (image folders)."""

    def __enter__(self) -> FrameSource:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
