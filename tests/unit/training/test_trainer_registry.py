"""Stories about choosing a trainer."""

from __future__ import annotations

import pytest

from adapters.training.registry import ArchitectureNotFoundError, default_registry


def test_every_task_with_a_trainer_has_exactly_one_default_architecture() -> None:
    registry = default_registry()
    for task in ("classification", "detection"):
        defaults = [a for a in registry.architectures(task) if a.default]
        assert len(defaults) == 1
        assert registry.default_trainer(task).architecture == defaults[0]


def test_architectures_describe_their_training_parameters() -> None:
    for architecture in default_registry().architectures():
        assert architecture.description and architecture.parameters
        for parameter in architecture.parameters:
            assert parameter.key in architecture.defaults()


def test_an_unknown_architecture_is_not_found() -> None:
    with pytest.raises(ArchitectureNotFoundError, match="no model architecture 'yolo'"):
        default_registry().trainer("yolo")
