"""DatasetItem: one image of a project's dataset, its annotations, tags and subset.

One aggregate (and one stream) per item, so parallel uploads and annotations never contend.
Media bytes live in the media store; events hold only their references.
"""

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.aggregate import Aggregate
from domain.annotations import AnnotationContext, check_annotations, label_ids_of, without_label
from domain.errors import ConflictingStateError, InvalidValueError

SUBSETS = ("unassigned", "training", "validation", "testing")
ITEM_SOURCES = ("upload", "capture", "import")
MAX_TAG_LENGTH = 50


class ItemDeletedError(ConflictingStateError):
    """Raised when changing an item that was deleted."""


def check_tag(tag: str) -> str:
    trimmed = tag.strip()
    if not 1 <= len(trimmed) <= MAX_TAG_LENGTH or any(c in trimmed for c in ",\n\r\t"):
        raise InvalidValueError(f"Tag {tag!r} must have 1 to {MAX_TAG_LENGTH} characters and no commas.",
                                field="tags")
    return trimmed


class DatasetItem(Aggregate):
    """An image in a dataset, with the references of its bytes and thumbnail."""

    @event("Created")
    def __init__(self, id: UUID, project_id: UUID, name: str, media: dict[str, Any], source: str,
                 user: str) -> None:
        self.project_id = project_id
        self.name = name
        self.media = media  # sha256, size, format, width, height, content_type, thumbnail_sha256
        self.source = source
        self.annotations: list[dict[str, Any]] = []
        self.annotated = False
        self.user_reviewed = False
        self.tags: list[str] = []
        self.subset = "unassigned"
        self.deleted = False

    def check_not_deleted(self) -> None:
        if self.deleted:
            raise ItemDeletedError(f"The dataset item {self.id} was deleted.")

    def context(self, task_type: str, exclusive_labels: bool, label_ids: set[UUID]) -> AnnotationContext:
        return AnnotationContext(self.media["width"], self.media["height"], task_type, exclusive_labels, label_ids)

    def annotate(self, annotations: list[dict[str, Any]], context: AnnotationContext, user_reviewed: bool,
                 user: str) -> None:
        """Replace the item's annotations (a reviewed annotation, or an unreviewed prediction)."""
        self.check_not_deleted()
        check_annotations(annotations, context)
        self._annotations_replaced(annotations=annotations, user_reviewed=user_reviewed, user=user)

    @event("AnnotationsReplaced")
    def _annotations_replaced(self, annotations: list[dict[str, Any]], user_reviewed: bool, user: str) -> None:
        self.annotations = annotations
        self.annotated = True
        self.user_reviewed = user_reviewed

    def clear_annotations(self, user: str) -> None:
        self.check_not_deleted()
        if self.annotated:
            self._annotations_cleared(user=user)

    @event("AnnotationsCleared")
    def _annotations_cleared(self, user: str) -> None:
        self.annotations = []
        self.annotated = False
        self.user_reviewed = False

    def strip_label(self, label_id: UUID, user: str) -> None:
        """Take a removed project label out of the annotations (idempotent)."""
        if not self.deleted and label_id in label_ids_of(self.annotations):
            self._label_stripped(label_id=label_id, user=user)

    @event("LabelStripped")
    def _label_stripped(self, label_id: UUID, user: str) -> None:
        self.annotations = without_label(self.annotations, label_id)
        if not self.annotations:  # nothing of what was annotated is left
            self.annotated = self.user_reviewed = False

    def change_tags(self, add: list[str], remove: list[str], user: str) -> None:
        self.check_not_deleted()
        both = {check_tag(t) for t in add} & {t.strip() for t in remove}
        if both:
            raise InvalidValueError(f"Tag '{sorted(both)[0]}' is both added and removed.", field="tags")
        added = sorted({check_tag(t) for t in add} - set(self.tags))
        removed = sorted({t.strip() for t in remove} & set(self.tags))
        if added or removed:
            self._tags_changed(added=added, removed=removed, user=user)

    @event("TagsChanged")
    def _tags_changed(self, added: list[str], removed: list[str], user: str) -> None:
        self.tags = sorted((set(self.tags) | set(added)) - set(removed))

    def assign_subset(self, subset: str, reason: str, user: str) -> None:
        self.check_not_deleted()
        if subset not in SUBSETS:
            raise InvalidValueError(f"Unknown subset '{subset}'; use one of {', '.join(SUBSETS)}.", field="subset")
        if subset != self.subset:
            self._subset_assigned(subset=subset, reason=reason, user=user)

    @event("SubsetAssigned")
    def _subset_assigned(self, subset: str, reason: str, user: str) -> None:
        self.subset = subset

    def delete(self, user: str) -> None:
        self.check_not_deleted()
        self._deleted(user=user)

    @event("Deleted")
    def _deleted(self, user: str) -> None:
        self.deleted = True
