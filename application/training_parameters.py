"""How the project's training configuration maps onto an architecture's own parameters."""

from typing import Any

from domain.training_configuration import TRAINING_CONFIGURATION, ParameterGroup, Value, with_defaults

from application.errors import InvalidInputError, NotFoundError
from application.ports.training import ArchitectureCatalog, ModelArchitecture

# project key → the architecture parameter names it sets (the first one the architecture has)
TRAINER_KEYS: dict[str, tuple[str, ...]] = {
    "training.max_epochs": ("epochs",),
    "training.learning_rate": ("learning_rate",),
    "training.batch_size": ("batch_size", "batch_images"),
    "training.input_size": ("input_size",),
}


def _name_in(architecture: ModelArchitecture, names: tuple[str, ...]) -> str | None:
    known = {p.key for p in architecture.parameters}
    return next((name for name in names if name in known), None)


def architecture_defaults(architecture: ModelArchitecture) -> dict[str, Value]:
    defaults = architecture.defaults()
    found = {key: _name_in(architecture, names) for key, names in TRAINER_KEYS.items()}
    return {key: defaults[name] for key, name in found.items() if name is not None}


def training_tree(catalog: ArchitectureCatalog, task_type: str) -> ParameterGroup:
    """The configuration tree whose training defaults are those of the task's default architecture."""
    try:
        trainer = catalog.default_trainer(task_type)  # type: ignore[arg-type]
    except NotFoundError:  # no trainer for this task yet: the generic defaults
        return TRAINING_CONFIGURATION
    return with_defaults(architecture_defaults(trainer.architecture))


def trainer_parameters(architecture: ModelArchitecture, overrides: dict[str, Value]) -> dict[str, Any]:
    """The architecture's defaults with the project's overrides applied, checked against its ranges."""
    parameters = architecture.defaults()
    ranges = {p.key: p for p in architecture.parameters}
    for key, names in TRAINER_KEYS.items():
        name = _name_in(architecture, names)
        if key not in overrides or name is None:
            continue
        value, spec = overrides[key], ranges[name]
        if (spec.min_value is not None and value < spec.min_value) or (
                spec.max_value is not None and value > spec.max_value):
            raise InvalidInputError(f"{key} = {value} is outside the range {spec.min_value}..{spec.max_value} of "
                                    f"architecture {architecture.id}.", {key: ["Out of the architecture's range."]})
        parameters[name] = value
    return parameters
