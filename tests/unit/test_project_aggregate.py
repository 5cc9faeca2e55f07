"""The rules a Project keeps: its label set, its training configuration, and its end."""

from typing import Any
from uuid import uuid4

import pytest

from domain.errors import DomainError, InvalidValueError
from domain.labels import (
    COLOR_PATTERN,
    DuplicateLabelError,
    TooFewLabelsError,
    UnknownLabelError,
)
from domain.project import LabelEdit, NewLabel, Project, ProjectDeletedError
from domain.training_configuration import InvalidTrainingConfigurationError

USER = "alice"


def started(*labels: NewLabel, task_type: str = "detection", exclusive: bool = False) -> Project:
    """A project whose creation event has already been collected (as if saved)."""
    project = Project.start("Conveyor", task_type, exclusive, list(labels), USER)
    project.collect_events()
    return project


def conveyor() -> Project:
    return started(NewLabel("nut", "#112233", "n"), NewLabel("bolt", hotkey="b"))


def names(project: Project) -> list[str]:
    return [label.name for label in project.labels]


def event_names(project: Project) -> list[str]:
    return [type(event).__name__ for event in project.collect_events()]


# Label names and hotkeys


def test_two_labels_cannot_share_a_name_whatever_its_case() -> None:
    with pytest.raises(DuplicateLabelError):
        Project.start("P", "detection", False, [NewLabel("Nut"), NewLabel(" nut ")], USER)

    project = conveyor()
    with pytest.raises(DuplicateLabelError):
        project.change_labels([NewLabel("NUT")], [], [], USER)
    with pytest.raises(DuplicateLabelError):
        project.change_labels([], [LabelEdit(project.labels[1].id, new_name="Nut")], [], USER)
    assert names(project) == ["nut", "bolt"]


def test_two_labels_cannot_share_a_hotkey_whatever_its_case() -> None:
    with pytest.raises(DuplicateLabelError):
        Project.start("P", "detection", False, [NewLabel("a", hotkey="k"), NewLabel("b", hotkey="K")], USER)

    project = conveyor()
    with pytest.raises(DuplicateLabelError):
        project.change_labels([NewLabel("washer", hotkey="N")], [], [], USER)
    with pytest.raises(DuplicateLabelError):
        project.change_labels([], [LabelEdit(project.labels[1].id, new_hotkey="n")], [], USER)


def test_labels_without_hotkeys_do_not_clash() -> None:
    project = started(NewLabel("a"), NewLabel("b"), NewLabel("c", hotkey=""))
    assert [label.hotkey for label in project.labels] == [None, None, None]


def test_a_freed_name_can_be_taken_by_another_label_in_the_same_change() -> None:
    project = conveyor()
    nut, _ = project.labels
    project.change_labels([NewLabel("nut")], [LabelEdit(nut.id, new_name="hex nut")], [], USER)
    assert names(project) == ["hex nut", "bolt", "nut"]


def test_two_labels_can_swap_names_in_one_change() -> None:
    project = conveyor()
    nut, bolt = project.labels
    project.change_labels([], [LabelEdit(nut.id, new_name="bolt"), LabelEdit(bolt.id, new_name="nut")], [], USER)
    assert [(label.id, label.name) for label in project.labels] == [(nut.id, "bolt"), (bolt.id, "nut")]


def test_label_names_are_trimmed_and_hold_one_to_fifty_characters() -> None:
    project = started(NewLabel("  scratch  "))
    assert names(project) == ["scratch"]
    for bad in ("", "   ", "x" * 51):
        with pytest.raises(InvalidValueError):
            project.change_labels([NewLabel(bad)], [], [], USER)
    project.change_labels([NewLabel("x" * 50)], [], [], USER)
    assert names(project)[-1] == "x" * 50


# How many labels a project keeps


def test_a_project_starts_with_and_keeps_at_least_one_label() -> None:
    with pytest.raises(TooFewLabelsError):
        Project.start("Empty", "detection", False, [], USER)
    project = conveyor()
    with pytest.raises(TooFewLabelsError):
        project.change_labels([], [], [label.id for label in project.labels], USER)
    assert names(project) == ["nut", "bolt"]


def test_exclusive_classification_needs_two_labels_to_choose_between() -> None:
    with pytest.raises(TooFewLabelsError):
        Project.start("Pass/fail", "classification", True, [NewLabel("ok")], USER)
    project = started(NewLabel("ok"), NewLabel("defect"), task_type="classification", exclusive=True)
    with pytest.raises(TooFewLabelsError):
        project.change_labels([], [], [project.labels[0].id], USER)
    # Replacing one of the two in the same change keeps two, so it is fine.
    project.change_labels([NewLabel("scratch")], [], [project.labels[0].id], USER)
    assert names(project) == ["defect", "scratch"]


@pytest.mark.parametrize(("task_type", "exclusive"), [
    ("classification", False), ("detection", True), ("instance_segmentation", True)])
def test_every_other_task_is_fine_with_a_single_label(task_type: str, exclusive: bool) -> None:
    assert names(started(NewLabel("only"), task_type=task_type, exclusive=exclusive)) == ["only"]


def test_an_unknown_task_type_is_refused() -> None:
    with pytest.raises(InvalidValueError):
        Project.start("P", "segmentation", False, [NewLabel("a")], USER)


# A label change is atomic


def test_a_label_change_applies_removals_edits_and_additions_together() -> None:
    project = conveyor()
    nut, bolt = project.labels
    project.change_labels([NewLabel("washer", "#00ff00", "w")],
                          [LabelEdit(nut.id, new_name="hex nut", new_color="#abcdef")], [bolt.id], USER)
    assert event_names(project) == ["LabelRemoved", "LabelEdited", "LabelAdded"]
    hex_nut, washer = project.labels
    assert (hex_nut.id, hex_nut.name, hex_nut.color, hex_nut.hotkey) == (nut.id, "hex nut", "#ABCDEF", "n")
    assert (washer.name, washer.color, washer.hotkey) == ("washer", "#00FF00", "w")


def test_a_failing_label_change_leaves_no_events_and_no_trace() -> None:
    project = conveyor()
    nut, bolt = project.labels
    before = list(project.labels)
    failing_changes = [
        # a valid removal, but the edit renames a label to the name of the added one
        ([NewLabel("washer")], [LabelEdit(nut.id, new_name="WASHER")], [bolt.id]),
        # valid removal and edit, but the added label has a bad colour
        ([NewLabel("washer", color="green")], [LabelEdit(nut.id, new_name="hex nut")], [bolt.id]),
        # valid addition and edit, but one removal names an unknown label
        ([NewLabel("washer")], [LabelEdit(nut.id, new_color="#000000")], [bolt.id, uuid4()]),
    ]
    for add, edit, remove in failing_changes:
        with pytest.raises(DomainError):
            project.change_labels(add, edit, remove, USER)
        assert project.pending_events == []
        assert project.labels == before


def test_naming_a_label_twice_for_removal_never_half_applies_the_change() -> None:
    project = conveyor()
    nut, _ = project.labels
    try:
        project.change_labels([], [], [nut.id, nut.id], USER)
    except DomainError:
        assert project.pending_events == [] and names(project) == ["nut", "bolt"]
    else:
        assert event_names(project) == ["LabelRemoved"] and names(project) == ["bolt"]


def test_editing_or_removing_an_unknown_label_is_refused() -> None:
    project = conveyor()
    with pytest.raises(UnknownLabelError):
        project.change_labels([], [LabelEdit(uuid4(), new_name="ghost")], [], USER)
    with pytest.raises(UnknownLabelError):
        project.change_labels([], [], [uuid4()], USER)
    assert project.pending_events == []


def test_an_edit_that_changes_nothing_records_nothing() -> None:
    project = conveyor()
    nut, _ = project.labels
    project.change_labels([], [LabelEdit(nut.id, new_name="nut", new_color="#112233")], [], USER)
    assert project.pending_events == []


def test_an_empty_hotkey_clears_the_hotkey_and_none_keeps_it() -> None:
    project = conveyor()
    nut, bolt = project.labels
    project.change_labels([], [LabelEdit(nut.id, new_hotkey=""), LabelEdit(bolt.id, new_name="Bolt")], [], USER)
    assert [(label.name, label.hotkey) for label in project.labels] == [("nut", None), ("Bolt", "b")]


# Colours


def test_colours_must_be_hex_triplets_and_are_kept_upper_case() -> None:
    for bad in ("red", "#12345", "#1234567", "123456", "#GGGGGG"):
        with pytest.raises(InvalidValueError) as raised:
            Project.start("P", "detection", False, [NewLabel("a", color=bad)], USER)
        assert raised.value.field == "task.labels.0.color"
    project = started(NewLabel("a", color="#a1b2c3"))
    assert project.labels[0].color == "#A1B2C3"
    with pytest.raises(InvalidValueError):
        project.change_labels([], [LabelEdit(project.labels[0].id, new_color="blue")], [], USER)


def test_a_missing_colour_is_generated_from_the_name_and_stays_stable() -> None:
    first = started(NewLabel("scratch"), NewLabel("dent"))
    second = started(NewLabel("scratch"))
    scratch, dent = first.labels
    assert COLOR_PATTERN.match(scratch.color) and scratch.color == scratch.color.upper()
    assert scratch.color == second.labels[0].color
    assert scratch.color != dent.color


# Training configuration


def test_training_changes_are_recorded_only_when_they_change_a_value() -> None:
    project = conveyor()
    project.configure_training({"training.max_epochs": 12, "training.batch_size": 8}, USER)
    assert event_names(project) == ["TrainingConfigured"]
    project.configure_training({"training.max_epochs": 12}, USER)
    assert project.pending_events == []
    assert project.training_configuration == {"training.max_epochs": 12, "training.batch_size": 8}


def test_unknown_keys_and_out_of_range_values_are_all_reported_at_once() -> None:
    project = conveyor()
    with pytest.raises(InvalidTrainingConfigurationError) as raised:
        project.configure_training({"training.max_epochs": 0, "training.learning_rate": 2.0,
                                    "training.nope": 1, "training.input_size": "65"}, USER)
    assert set(raised.value.errors) == {"training.max_epochs", "training.learning_rate", "training.nope",
                                        "training.input_size"}
    assert project.pending_events == [] and project.training_configuration == {}


@pytest.mark.parametrize(("key", "value"), [
    ("training.max_epochs", 12.5), ("training.max_epochs", True), ("training.max_epochs", "12"),
    ("training.input_size", "64"), ("training.input_size", 16), ("training.batch_size", 1025),
    ("evaluation.confidence_threshold", -0.01)])
def test_values_must_have_the_parameter_type_and_range(key: str, value: object) -> None:
    with pytest.raises(InvalidTrainingConfigurationError) as raised:
        conveyor().configure_training({key: value}, USER)
    assert list(raised.value.errors) == [key]


def test_boundary_values_and_integers_for_floats_are_accepted() -> None:
    project = conveyor()
    project.configure_training({"training.max_epochs": 1000, "training.learning_rate": 1,
                                "evaluation.confidence_threshold": 0.0, "training.input_size": 640}, USER)
    assert project.training_configuration["training.max_epochs"] == 1000


def test_the_subset_split_must_add_up_to_100_counting_current_values() -> None:
    project = conveyor()
    with pytest.raises(InvalidTrainingConfigurationError) as raised:
        project.configure_training({"dataset_preparation.subset_split.training": 80}, USER)
    assert raised.value.errors == {"dataset_preparation.subset_split": ["The subsets must add up to 100, not 110."]}
    project.configure_training({"dataset_preparation.subset_split.training": 80,
                                "dataset_preparation.subset_split.validation": 10}, USER)
    # testing keeps its default 10; now lowering validation alone must be refused
    with pytest.raises(InvalidTrainingConfigurationError):
        project.configure_training({"dataset_preparation.subset_split.validation": 5}, USER)
    project.configure_training({"dataset_preparation.subset_split.validation": 5,
                                "dataset_preparation.subset_split.testing": 15}, USER)
    assert project.training_configuration == {"dataset_preparation.subset_split.training": 80,
                                              "dataset_preparation.subset_split.validation": 5,
                                              "dataset_preparation.subset_split.testing": 15}


# The end of a project


def test_a_deleted_project_refuses_every_change() -> None:
    project = conveyor()
    project.delete(USER)
    project.collect_events()
    attempts = [
        lambda: project.rename("Other", USER),
        lambda: project.change_labels([NewLabel("washer")], [], [], USER),
        lambda: project.configure_training({"training.max_epochs": 3}, USER),
        lambda: project.delete(USER),
    ]
    for attempt in attempts:
        with pytest.raises(ProjectDeletedError):
            attempt()
    assert project.pending_events == []


def test_renaming_to_the_same_name_records_nothing() -> None:
    project = conveyor()
    project.rename("Conveyor", USER)
    assert project.pending_events == []
    project.rename("Shelf", USER)
    assert event_names(project) == ["Renamed"] and project.name == "Shelf"


def test_every_event_carries_the_caller_identity() -> None:
    project = Project.start("P", "detection", False, [NewLabel("a")], "bob")
    project.rename("Q", "carol")
    events: list[Any] = list(project.collect_events())
    assert [event.user for event in events] == ["bob", "carol"]
