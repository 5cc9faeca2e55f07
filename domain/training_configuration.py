"""The training configuration tree: parameters, their defaults and ranges, and validation."""

from dataclasses import dataclass, field, replace
from typing import Any, Union

from domain.errors import InvalidValueError

Value = Union[bool, int, float, str]


class InvalidTrainingConfigurationError(InvalidValueError):
    """Raised when a training configuration change names an unknown key or a bad value."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("The training configuration change is invalid.")
        self.errors = errors


@dataclass(frozen=True)
class Parameter:
    """One configurable value with its type and allowed range."""

    key: str
    name: str
    description: str
    value_type: str  # bool | int | float | str | enum
    default_value: Value
    min_value: float | None = None
    max_value: float | None = None
    allowed_values: tuple[str, ...] | None = None

    def check(self, value: Any) -> str | None:
        """Return why `value` is not acceptable, or None."""
        if self.value_type == "bool":
            return None if isinstance(value, bool) else "Must be a boolean."
        if self.value_type in ("int", "float"):
            numeric = (int,) if self.value_type == "int" else (int, float)
            if isinstance(value, bool) or not isinstance(value, numeric):
                return f"Must be a number of type {self.value_type}."
            if self.min_value is not None and value < self.min_value:
                return f"Must be at least {self.min_value}."
            if self.max_value is not None and value > self.max_value:
                return f"Must be at most {self.max_value}."
            return None
        if not isinstance(value, str):
            return "Must be a string."
        if self.allowed_values is not None and value not in self.allowed_values:
            return f"Must be one of {', '.join(self.allowed_values)}."
        return None


@dataclass(frozen=True)
class ParameterGroup:
    """A named group of parameters or further groups."""

    key: str
    name: str
    description: str
    parameters: tuple[Union["ParameterGroup", Parameter], ...] = field(default_factory=tuple)


TRAINING_CONFIGURATION = ParameterGroup("", "Training configuration", "", (
    ParameterGroup("dataset_preparation", "Dataset preparation", "How annotated items are split for training.", (
        ParameterGroup("subset_split", "Subset split", "Percent of annotated items per subset; the three add up to 100.", (
            Parameter("training", "Training", "Percent of items used to fit the model.", "int", 70, 1, 98),
            Parameter("validation", "Validation", "Percent of items used to pick the best epoch.", "int", 20, 1, 98),
            Parameter("testing", "Testing", "Percent of items held out for evaluation.", "int", 10, 1, 98),
        )),
        Parameter("seed", "Seed", "Seed of the deterministic split and of training.", "int", 0, 0, 2**31 - 1),
    )),
    ParameterGroup("training", "Training", "How the model is fitted (defaults are those of the task's default "
                   "architecture).", (
        Parameter("max_epochs", "Maximum epochs", "Passes over the training subset; the epoch that scores best "
                  "on the validation subset is kept.", "int", 30, 1, 1000),
        Parameter("learning_rate", "Learning rate", "Step size of the optimiser.", "float", 0.001, 1e-6, 1.0),
        Parameter("batch_size", "Batch size", "Images per optimisation step.", "int", 32, 1, 1024),
        Parameter("input_size", "Input size", "Side the model resizes images to, inside the model.", "int", 64,
                  32, 640),
    )),
    ParameterGroup("evaluation", "Evaluation", "How the trained model is judged.", (
        Parameter("confidence_threshold", "Confidence threshold", "Minimum score of a reported detection.",
                  "float", 0.3, 0.0, 1.0),
    )),
))


def _flatten(group: ParameterGroup, prefix: str = "") -> dict[str, Parameter]:
    found: dict[str, Parameter] = {}
    for child in group.parameters:
        key = f"{prefix}{child.key}"
        if isinstance(child, Parameter):
            found[key] = child
        else:
            found.update(_flatten(child, f"{key}."))
    return found


PARAMETERS = _flatten(TRAINING_CONFIGURATION)
SPLIT_KEYS = tuple(f"dataset_preparation.subset_split.{s}" for s in ("training", "validation", "testing"))


def with_defaults(defaults: dict[str, Value]) -> ParameterGroup:
    """The tree with some default values replaced (e.g. by those of an architecture)."""
    return _replace_defaults(TRAINING_CONFIGURATION, defaults, "")


def _replace_defaults(group: ParameterGroup, defaults: dict[str, Value], prefix: str) -> ParameterGroup:
    children: list[ParameterGroup | Parameter] = []
    for child in group.parameters:
        key = f"{prefix}{child.key}"
        if isinstance(child, Parameter):
            children.append(replace(child, default_value=defaults[key]) if key in defaults else child)
        else:
            children.append(_replace_defaults(child, defaults, f"{key}."))
    return replace(group, parameters=tuple(children))


def effective_values(overrides: dict[str, Value]) -> dict[str, Value]:
    """Every parameter's value: its override, else its default."""
    return {key: overrides.get(key, p.default_value) for key, p in PARAMETERS.items()}


def check_changes(current: dict[str, Value], changes: dict[str, Any]) -> None:
    """Raise with every offending key when a change is not acceptable."""
    errors: dict[str, list[str]] = {}
    for key, value in changes.items():
        parameter = PARAMETERS.get(key)
        problem = f"Unknown parameter '{key}'." if parameter is None else parameter.check(value)
        if problem:
            errors[key] = [problem]
    if not errors and any(key in changes for key in SPLIT_KEYS):
        merged = effective_values({**current, **changes})
        total = sum(int(merged[key]) for key in SPLIT_KEYS)
        if total != 100:
            errors["dataset_preparation.subset_split"] = [f"The subsets must add up to 100, not {total}."]
    if errors:
        raise InvalidTrainingConfigurationError(errors)
