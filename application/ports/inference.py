"""Inference port: a loaded model that turns a BGR frame into predictions."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from application.ports.training import LabelSpec, TaskType

Prediction = dict[str, Any]
"""One prediction in the API shape: {"labels": [{"id", "name", "confidence"}], "shape": {...}}."""


class InferenceModel(ABC):
    """A model loaded once and run on many frames."""

    labels: list[LabelSpec]
    task_type: TaskType
    architecture: str

    @abstractmethod
    def infer(self, image_bgr: Any) -> list[Prediction]:
        """Run on an HxWx3 uint8 BGR array; shapes are in the image's pixels."""
