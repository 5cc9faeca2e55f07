"""Frame sink port: where the live pipeline sends frames and their predictions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from application.errors import ViewfinderError
from application.ports.frames import Frame

PredictionPayload = dict[str, Any]
"""{"model_id", "frame": {"sequence","timestamp","width","height"},
"predictions": [{"labels": [{"id","name","confidence"}], "shape": {...}}]} as in API.md."""

OUTPUT_FORMATS = ("image_original", "image_with_predictions", "predictions")


class SinkUnavailableError(ViewfinderError):
    """Raised when a sink cannot deliver (broker down, endpoint failing, folder full)."""


@dataclass
class SinkStats:
    """Counters of a sink since it was built."""

    dispatched: int = 0
    dropped: int = 0
    failed: int = 0
    rate_limited: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters as plain data."""
        return {
            "dispatched": self.dispatched,
            "dropped": self.dropped,
            "failed": self.failed,
            "rate_limited": self.rate_limited,
        }


class FrameSink(ABC):
    """Delivers a frame, its annotated JPEG and its prediction in the configured formats."""

    @abstractmethod
    def send(
        self,
        frame: Frame,
        image_with_predictions_jpeg: bytes | None,
        prediction: PredictionPayload,
    ) -> None:
        """Deliver one frame; raises SinkUnavailableError when the peer cannot take it."""

    @abstractmethod
    def close(self) -> None:
        """Flush what can be flushed and release connections; safe to call twice."""

    @property
    def stats(self) -> SinkStats:
        """Counters; sinks that do not count return zeros."""
        return SinkStats()

    @property
    def last_error(self) -> str | None:
        """The latest delivery error as one sentence, None once delivery works again."""
        return None
