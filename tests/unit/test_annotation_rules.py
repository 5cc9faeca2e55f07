"""The rules an annotation obeys: shapes of the task, inside the image, labels of the project."""

from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.annotations import (
    AnnotationContext,
    InvalidAnnotationError,
    check_annotations,
    label_ids_of,
    without_label,
)
from domain.errors import InvalidValueError

NUT, BOLT, WASHER = uuid4(), uuid4(), uuid4()
LABELS = {NUT, BOLT, WASHER}


def context(task_type: str, exclusive: bool = False, width: int = 640, height: int = 480) -> AnnotationContext:
    return AnnotationContext(width, height, task_type, exclusive, LABELS)


def rectangle(x: float = 10, y: float = 20, width: float = 100, height: float = 50, *labels: UUID) -> dict[str, Any]:
    return {"labels": [{"id": label} for label in labels or (NUT,)],
            "shape": {"type": "rectangle", "x": x, "y": y, "width": width, "height": height}}


def polygon(*points: tuple[float, float], labels: tuple[UUID, ...] = (NUT,)) -> dict[str, Any]:
    return {"labels": [{"id": label} for label in labels],
            "shape": {"type": "polygon", "points": [{"x": x, "y": y} for x, y in points]}}


def full_image(*labels: UUID, confidence: float | None = None) -> dict[str, Any]:
    entries = [{"id": label} if confidence is None else {"id": label, "confidence": confidence} for label in labels]
    return {"labels": entries, "shape": {"type": "full_image"}}


def refusal(annotations: list[dict[str, Any]], ctx: AnnotationContext) -> InvalidAnnotationError:
    with pytest.raises(InvalidAnnotationError) as caught:
        check_annotations(annotations, ctx)
    return caught.value


# Shapes each task takes


def test_a_detection_project_takes_rectangles_and_nothing_else() -> None:
    check_annotations([rectangle(), rectangle(0, 0, 640, 480, BOLT)], context("detection"))
    assert refusal([rectangle(), polygon((0, 0), (5, 0), (5, 5))], context("detection")).field == "annotations.1.shape"
    assert refusal([full_image(NUT)], context("detection")).field == "annotations.0.shape"


def test_an_instance_segmentation_project_takes_polygons_of_three_points_or_more() -> None:
    check_annotations([polygon((0, 0), (640, 0), (640, 480))], context("instance_segmentation"))
    two_points = refusal([polygon((0, 0), (10, 10))], context("instance_segmentation"))
    assert two_points.field == "annotations.0.shape" and "3" in two_points.detail
    assert refusal([rectangle()], context("instance_segmentation")).field == "annotations.0.shape"


def test_a_classification_item_takes_exactly_one_full_image_annotation() -> None:
    check_annotations([full_image(NUT, BOLT)], context("classification"))  # multi-label is fine
    assert refusal([], context("classification")).field == "annotations"
    assert refusal([full_image(NUT), full_image(BOLT)], context("classification")).field == "annotations"
    assert refusal([rectangle()], context("classification")).field == "annotations.0.shape"


def test_exclusive_labels_allow_one_label_per_shape() -> None:
    check_annotations([full_image(NUT)], context("classification", exclusive=True))
    error = refusal([full_image(NUT, BOLT)], context("classification", exclusive=True))
    assert error.field == "annotations.0.labels" and "exclusive" in error.detail


def test_a_detection_item_may_carry_no_shapes_at_all() -> None:
    check_annotations([], context("detection"))  # "nothing to detect here" is an annotation too


# Bounds


@pytest.mark.parametrize("shape", [
    rectangle(-1, 0, 10, 10), rectangle(0, -0.5, 10, 10), rectangle(600, 0, 41, 10), rectangle(0, 400, 10, 81),
    rectangle(10, 10, 0, 10), rectangle(10, 10, 10, -3)])
def test_a_rectangle_must_lie_inside_the_image_with_a_positive_size(shape: dict[str, Any]) -> None:
    error = refusal([rectangle(), shape], context("detection"))
    assert error.field == "annotations.1.shape"


def test_a_rectangle_may_touch_the_image_edges() -> None:
    check_annotations([rectangle(0, 0, 640, 480), rectangle(639.5, 479.5, 0.5, 0.5)], context("detection"))


def test_a_polygon_point_outside_the_image_is_refused() -> None:
    ctx = context("instance_segmentation", width=100, height=100)
    check_annotations([polygon((0, 0), (100, 0), (100, 100))], ctx)
    error = refusal([polygon((0, 0), (100, 0), (100, 100.5))], ctx)
    assert error.field == "annotations.0.shape" and "100x100" in error.detail


# Labels


def test_labels_must_belong_to_the_project() -> None:
    stranger = uuid4()
    error = refusal([rectangle(), rectangle(1, 1, 5, 5, stranger)], context("detection"))
    assert error.field == "annotations.1.labels" and str(stranger) in error.detail


def test_a_shape_needs_a_label_and_names_each_label_once() -> None:
    no_label = {"labels": [], "shape": {"type": "rectangle", "x": 0, "y": 0, "width": 1, "height": 1}}
    assert refusal([no_label], context("detection")).field == "annotations.0.labels"
    assert refusal([rectangle(0, 0, 5, 5, NUT, NUT)], context("detection")).field == "annotations.0.labels"


@pytest.mark.parametrize("confidence", [-0.01, 1.01, 7])
def test_a_confidence_lies_between_zero_and_one(confidence: float) -> None:
    error = refusal([full_image(NUT, confidence=confidence)], context("classification"))
    assert error.field == "annotations.0.labels"


@pytest.mark.parametrize("confidence", [0, 0.5, 1])
def test_confidences_at_the_ends_of_the_range_are_accepted(confidence: float) -> None:
    check_annotations([full_image(NUT, confidence=confidence)], context("classification"))


def test_the_first_offending_annotation_is_named_and_refusals_are_invalid_values() -> None:
    annotations = [rectangle(), rectangle(), rectangle(-5, 0, 1, 1), rectangle(0, 0, 1, 1, uuid4())]
    error = refusal(annotations, context("detection"))
    assert error.field == "annotations.2.shape" and error.detail.startswith("Annotation 2:")
    assert isinstance(error, InvalidValueError)  # the HTTP edge answers 422


# Taking a removed label out


def test_removing_a_label_keeps_other_labels_and_drops_shapes_left_without_one() -> None:
    annotations = [rectangle(0, 0, 5, 5, NUT, BOLT), rectangle(1, 1, 5, 5, NUT), rectangle(2, 2, 5, 5, WASHER)]
    stripped = without_label(annotations, NUT)
    assert [[label["id"] for label in a["labels"]] for a in stripped] == [[BOLT], [WASHER]]
    assert [a["shape"]["x"] for a in stripped] == [0, 2]
    assert label_ids_of(stripped) == {BOLT, WASHER}
    assert label_ids_of(annotations) == LABELS  # the input is left untouched
