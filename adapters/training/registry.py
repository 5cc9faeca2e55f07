"""The trainers this installation offers, by architecture id and task type."""

from __future__ import annotations

from adapters.training.classification import SoftHogClassificationTrainer
from adapters.training.detection import CellDetectionTrainer
from adapters.training.segmentation import CellSegmentationTrainer
from application.errors import NotFoundError
from application.ports.training import ModelArchitecture, TaskType, Trainer


class ArchitectureNotFoundError(NotFoundError):
    """Raised when no trainer has the requested architecture id or task type."""


class TrainerRegistry:
    """Finds a trainer by architecture id, or the default one of a task."""

    def __init__(self, trainers: list[Trainer]) -> None:
        self._trainers = {t.architecture.id: t for t in trainers}

    def architectures(self, task_type: TaskType | None = None) -> list[ModelArchitecture]:
        """Every architecture, or those of one task type."""
        return [
            t.architecture for t in self._trainers.values()
            if task_type is None or t.architecture.task_type == task_type
        ]

    def trainer(self, architecture_id: str) -> Trainer:
        """The trainer of one architecture."""
        try:
            return self._trainers[architecture_id]
        except KeyError:
            raise ArchitectureNotFoundError(f"no model architecture '{architecture_id}'") from None

    def default_trainer(self, task_type: TaskType) -> Trainer:
        """The default trainer of a task type."""
        for trainer in self._trainers.values():
            if trainer.architecture.task_type == task_type and trainer.architecture.default:
                return trainer
        raise ArchitectureNotFoundError(f"no model architecture for task '{task_type}'")


def default_registry() -> TrainerRegistry:
    """The CPU trainers that ship with Viewfinder."""
    return TrainerRegistry([SoftHogClassificationTrainer(), CellDetectionTrainer(),
                            CellSegmentationTrainer()])
