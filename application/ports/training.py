"""Training port: what a trainer is given, what it reports and what it returns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from application.errors import InvalidInputError, ViewfinderError

TaskType = Literal["classification", "detection", "instance_segmentation"]
Subset = Literal["training", "validation", "testing"]
Annotation = dict[str, Any]
"""One annotation in the API shape: {"labels": [{"id": ..}], "shape": {"type": ..., ...}}."""


class TrainingCancelledError(ViewfinderError):
    """Raised when training stops because the reporter asked it to."""


class InsufficientTrainingDataError(InvalidInputError):
    """Raised when the samples cannot train a model (e.g. a label has no training image)."""


@dataclass(frozen=True)
class LabelSpec:
    """A label the model will predict, in the model's output order."""

    id: str
    name: str
    color: str = "#ff0000"


@dataclass(frozen=True)
class TrainingSample:
    """One annotated image; its bytes are loaded only when the trainer asks for them."""

    item_id: str
    subset: Subset
    load_image: Callable[[], bytes]
    annotations: Sequence[Annotation] = ()


@dataclass(frozen=True)
class ParameterDescription:
    """A tunable training parameter of an architecture."""

    key: str
    name: str
    description: str
    value_type: Literal["int", "float", "bool", "str"]
    default_value: Any
    min_value: float | None = None
    max_value: float | None = None


@dataclass(frozen=True)
class ModelArchitecture:
    """A trainable architecture for one task type."""

    id: str
    task_type: TaskType
    name: str
    description: str
    default: bool = False
    parameters: tuple[ParameterDescription, ...] = ()

    def defaults(self) -> dict[str, Any]:
        """Return the default value of every parameter."""
        return {p.key: p.default_value for p in self.parameters}


@dataclass(frozen=True)
class TrainingRequest:
    """Everything a trainer needs for one run."""

    task_type: TaskType
    labels: Sequence[LabelSpec]
    samples: Sequence[TrainingSample]
    output_dir: Path
    exclusive_labels: bool = True
    parameters: dict[str, Any] = field(default_factory=dict)
    seed: int = 0


@dataclass(frozen=True)
class TrainedModel:
    """The exported OpenVINO IR and how it scored on the testing subset."""

    xml_path: Path
    bin_path: Path
    metrics: list[dict[str, Any]]
    architecture: str
    precision: str = "fp32"
    size: int = 0


class TrainingReporter(ABC):
    """Where a trainer reports progress and log lines, and learns it must stop."""

    @abstractmethod
    def progress(self, percent: float, message: str) -> None:
        """Report overall progress in 0..100 with a short message."""

    @abstractmethod
    def log(self, line: str) -> None:
        """Append one line to the training log."""

    @abstractmethod
    def should_stop(self) -> bool:
        """Return True when the run was cancelled."""


class Trainer(ABC):
    """Trains one architecture and exports a self-describing OpenVINO IR."""

    architecture: ModelArchitecture

    @abstractmethod
    def train(self, request: TrainingRequest, reporter: TrainingReporter) -> TrainedModel:
        """Train on the request's samples; raise TrainingCancelledError when asked to stop."""


class ArchitectureCatalog(Protocol):
    """The trainers available, by architecture (adapters.training.registry.TrainerRegistry)."""

    def architectures(self, task_type: TaskType | None = None) -> list[ModelArchitecture]: ...

    def trainer(self, architecture_id: str) -> Trainer: ...

    def default_trainer(self, task_type: TaskType) -> Trainer: ...
