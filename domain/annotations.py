"""Annotation rules: shapes inside the image, labels of the project, shapes allowed by the task."""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.errors import InvalidValueError

SHAPES_OF_TASK = {
    "classification": ("full_image",),
    "detection": ("rectangle",),
    "instance_segmentation": ("polygon",),
}
MAX_ANNOTATIONS = 5000
MAX_POLYGON_POINTS = 10000


class InvalidAnnotationError(InvalidValueError):
    """Raised when an annotation breaks a rule; `field` names the offending annotation."""


@dataclass(frozen=True)
class AnnotationContext:
    """What annotations are checked against: the image size and the project's task and labels."""

    width: int
    height: int
    task_type: str
    exclusive_labels: bool
    label_ids: Collection[UUID]


def _fail(index: int, part: str, detail: str) -> InvalidAnnotationError:
    return InvalidAnnotationError(f"Annotation {index}: {detail}", field=f"annotations.{index}.{part}")


def _check_labels(index: int, labels: list[dict[str, Any]], context: AnnotationContext) -> None:
    if not labels:
        raise _fail(index, "labels", "needs at least one label.")
    ids = [label["id"] for label in labels]
    if len(set(ids)) != len(ids):
        raise _fail(index, "labels", "names the same label twice.")
    if context.exclusive_labels and len(ids) > 1:
        raise _fail(index, "labels", "may carry one label only, because the project's labels are exclusive.")
    for label in labels:
        if label["id"] not in context.label_ids:
            raise _fail(index, "labels", f"label {label['id']} is not a label of the project.")
        confidence = label.get("confidence")
        if confidence is not None and not 0 <= confidence <= 1:
            raise _fail(index, "labels", "a confidence must lie between 0 and 1.")


def _check_shape(index: int, shape: dict[str, Any], context: AnnotationContext) -> None:
    kind = shape["type"]
    if kind not in SHAPES_OF_TASK[context.task_type]:
        allowed = " or ".join(SHAPES_OF_TASK[context.task_type])
        raise _fail(index, "shape", f"a {context.task_type} project takes {allowed} shapes, not {kind}.")
    if kind == "rectangle":
        x, y, w, h = shape["x"], shape["y"], shape["width"], shape["height"]
        if w <= 0 or h <= 0:
            raise _fail(index, "shape", "a rectangle needs a positive width and height.")
        if x < 0 or y < 0 or x + w > context.width or y + h > context.height:
            raise _fail(index, "shape", f"the rectangle leaves the {context.width}x{context.height} image.")
    elif kind == "polygon":
        points = shape["points"]
        if not 3 <= len(points) <= MAX_POLYGON_POINTS:
            raise _fail(index, "shape", f"a polygon needs 3 to {MAX_POLYGON_POINTS} points.")
        if any(not (0 <= p["x"] <= context.width and 0 <= p["y"] <= context.height) for p in points):
            raise _fail(index, "shape", f"a polygon point lies outside the {context.width}x{context.height} image.")


def check_annotations(annotations: list[dict[str, Any]], context: AnnotationContext) -> None:
    """Raise InvalidAnnotationError naming the first offending annotation."""
    if len(annotations) > MAX_ANNOTATIONS:
        raise InvalidAnnotationError(f"An item may carry at most {MAX_ANNOTATIONS} annotations.", field="annotations")
    if context.task_type == "classification" and len(annotations) != 1:
        raise InvalidAnnotationError("A classification item takes exactly one full_image annotation.",
                                     field="annotations")
    for index, annotation in enumerate(annotations):
        _check_labels(index, annotation["labels"], context)
        _check_shape(index, annotation["shape"], context)


def without_label(annotations: list[dict[str, Any]], label_id: UUID) -> list[dict[str, Any]]:
    """The annotations with one label taken out; shapes left without any label disappear."""
    kept = []
    for annotation in annotations:
        labels = [label for label in annotation["labels"] if label["id"] != label_id]
        if labels:
            kept.append({**annotation, "labels": labels})
    return kept


def label_ids_of(annotations: list[dict[str, Any]]) -> set[UUID]:
    return {label["id"] for annotation in annotations for label in annotation["labels"]}
