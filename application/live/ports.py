"""What the runtime needs from outside, beyond sources and sinks."""

from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from application.ports.frames import FrameSource
from application.ports.sinks import FrameSink


class AsyncInference(Protocol):
    """A compiled model with several requests in flight; callbacks may come out of order."""

    def submit(self, image_bgr: Any, on_result: Callable[[list[dict[str, Any]]], None]) -> None: ...

    def wait(self) -> None: ...


class LiveFrames(ABC):
    """The latest frame with predictions drawn, per project, for the live view."""

    @abstractmethod
    def publish(self, project_id: UUID, jpeg: bytes) -> None:
        """Replace the latest frame."""

    @abstractmethod
    def latest(self, project_id: UUID) -> tuple[float, bytes] | None:
        """(when it was published, JPEG bytes), or None."""


class LiveAdapters(Protocol):
    """Factories the runtime uses to reach cameras, sinks and models."""

    def source(self, config: dict[str, Any]) -> FrameSource: ...

    def sink(self, config: dict[str, Any]) -> FrameSink: ...

    def model(self, xml_path: Path) -> AsyncInference: ...

    def render(self, image: Any, prediction: dict[str, Any]) -> bytes: ...

    def encode(self, image: Any) -> bytes: ...
