"""Project: a computer-vision task with its labels and training configuration."""

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import event

from domain.aggregate import Aggregate
from domain.errors import ConflictingStateError, InvalidValueError
from domain.labels import (
    Label,
    UnknownLabelError,
    check_color,
    check_label_name,
    check_label_set,
    generated_color,
)
from domain.training_configuration import Value, check_changes

TASK_TYPES = ("classification", "detection", "instance_segmentation")


class ProjectDeletedError(ConflictingStateError):
    """Raised when changing a project that was deleted."""


@dataclass(frozen=True)
class NewLabel:
    """A label to add: colour and hotkey are optional."""

    name: str
    color: str | None = None
    hotkey: str | None = None


@dataclass(frozen=True)
class LabelEdit:
    """Changes to one existing label; None leaves a field as it is."""

    id: UUID
    new_name: str | None = None
    new_color: str | None = None
    new_hotkey: str | None = None


def check_task_type(task_type: str) -> None:
    if task_type not in TASK_TYPES:
        raise InvalidValueError(f"Unknown task type '{task_type}'; use one of {', '.join(TASK_TYPES)}.",
                                field="task.task_type")


def minimum_labels(task_type: str, exclusive_labels: bool) -> int:
    """Exclusive classification needs two labels to choose between; everything else one."""
    return 2 if task_type == "classification" and exclusive_labels else 1


def build_label(new: NewLabel, field: str) -> Label:
    name = check_label_name(new.name, f"{field}.name")
    color = check_color(new.color, f"{field}.color") if new.color else generated_color(name)
    return Label(id=uuid4(), name=name, color=color, hotkey=new.hotkey or None)


class Project(Aggregate):
    """A project: name, task type, label set, training configuration overrides."""

    @event("Created")
    def __init__(self, id: UUID, name: str, task_type: str, exclusive_labels: bool,
                 labels: list[dict[str, Any]], user: str) -> None:
        self.name = name
        self.task_type = task_type
        self.exclusive_labels = exclusive_labels
        self.labels = [label_from_dict(d) for d in labels]
        self.training_configuration: dict[str, Value] = {}
        self.deleted = False

    @classmethod
    def start(cls, name: str, task_type: str, exclusive_labels: bool, labels: list[NewLabel],
              user: str, id: UUID | None = None) -> "Project":
        """Check the task and labels, then create the project."""
        check_task_type(task_type)
        built = [build_label(new, f"task.labels.{i}") for i, new in enumerate(labels)]
        check_label_set(built, minimum_labels(task_type, exclusive_labels))
        return cls(id=id or uuid4(), name=name, task_type=task_type, exclusive_labels=exclusive_labels,
                   labels=[label_to_dict(label) for label in built], user=user)

    def check_not_deleted(self) -> None:
        if self.deleted:
            raise ProjectDeletedError(f"The project '{self.name}' was deleted.")

    def label(self, label_id: UUID) -> Label:
        for label in self.labels:
            if label.id == label_id:
                return label
        raise UnknownLabelError(f"Label {label_id} is not a label of project '{self.name}'.", field="labels")

    def rename(self, name: str, user: str) -> None:
        self.check_not_deleted()
        if name != self.name:
            self._renamed(name=name, user=user)

    @event("Renamed")
    def _renamed(self, name: str, user: str) -> None:
        self.name = name

    def change_labels(self, add: list[NewLabel], edit: list[LabelEdit], remove: list[UUID], user: str) -> None:
        """Apply adds, edits and removals together, or none of them."""
        self.check_not_deleted()
        remove = list(dict.fromkeys(remove))
        if len({e.id for e in edit}) != len(edit):
            raise InvalidValueError("A label may be edited once per request.", field="labels_to_edit")
        for label_id in remove:
            self.label(label_id)
        edited = {e.id: (self.label(e.id), e) for e in edit}
        result = [label for label in self.labels if label.id not in remove]
        result = [_edited(label, edited[label.id][1]) if label.id in edited else label for label in result]
        added = [build_label(new, f"labels_to_add.{i}") for i, new in enumerate(add)]
        check_label_set(result + added, minimum_labels(self.task_type, self.exclusive_labels))
        for label_id in remove:
            self._label_removed(label_id=label_id, name=self.label(label_id).name, user=user)
        for label in result:
            if label.id in edited and label != edited[label.id][0]:
                self._label_edited(label=label_to_dict(label), user=user)
        for label in added:
            self._label_added(label=label_to_dict(label), user=user)

    @event("LabelAdded")
    def _label_added(self, label: dict[str, Any], user: str) -> None:
        self.labels = [*self.labels, label_from_dict(label)]

    @event("LabelEdited")
    def _label_edited(self, label: dict[str, Any], user: str) -> None:
        new = label_from_dict(label)
        self.labels = [new if old.id == new.id else old for old in self.labels]

    @event("LabelRemoved")
    def _label_removed(self, label_id: UUID, name: str, user: str) -> None:
        self.labels = [label for label in self.labels if label.id != label_id]

    def configure_training(self, changes: dict[str, Any], user: str) -> None:
        self.check_not_deleted()
        check_changes(self.training_configuration, changes)
        effective = {k: v for k, v in changes.items() if self.training_configuration.get(k) != v}
        if effective:
            self._training_configured(changes=effective, user=user)

    @event("TrainingConfigured")
    def _training_configured(self, changes: dict[str, Value], user: str) -> None:
        self.training_configuration = {**self.training_configuration, **changes}

    def delete(self, user: str) -> None:
        self.check_not_deleted()
        self._deleted(user=user)

    @event("Deleted")
    def _deleted(self, user: str) -> None:
        self.deleted = True


def _edited(label: Label, edit: LabelEdit) -> Label:
    field = f"labels_to_edit.{edit.id}"
    name = check_label_name(edit.new_name, f"{field}.new_name") if edit.new_name is not None else label.name
    color = check_color(edit.new_color, f"{field}.new_color") if edit.new_color is not None else label.color
    hotkey = label.hotkey if edit.new_hotkey is None else (edit.new_hotkey or None)
    return Label(id=label.id, name=name, color=color, hotkey=hotkey)


def label_to_dict(label: Label) -> dict[str, Any]:
    return {"id": label.id, "name": label.name, "color": label.color, "hotkey": label.hotkey}


def label_from_dict(data: dict[str, Any]) -> Label:
    label_id = data["id"] if isinstance(data["id"], UUID) else UUID(str(data["id"]))
    return Label(id=label_id, name=data["name"], color=data["color"], hotkey=data.get("hotkey"))
