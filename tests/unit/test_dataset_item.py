"""A DatasetItem's life: uploaded by reference, annotated, tagged, stripped of labels, deleted.

The real event store on in-memory persistence; the media store and codec are hand-written fakes.
"""

import hashlib
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.commands.dataset import DatasetCommands
from application.errors import NotFoundError
from application.event_store import EventStore
from application.ports.media import (
    CorruptImageError,
    ImageCodec,
    ImageInfo,
    MediaRef,
    MediaStore,
)
from domain.annotations import InvalidAnnotationError
from domain.dataset_item import DatasetItem, ItemDeletedError, check_tag
from domain.errors import InvalidValueError
from domain.project import NewLabel, Project

USER = "alice"


class FakeMediaStore(MediaStore):
    """Blobs in a dict, keyed by their real SHA-256."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, data: bytes) -> MediaRef:
        sha256 = hashlib.sha256(data).hexdigest()
        self.blobs[sha256] = data
        return MediaRef(sha256, len(data))

    def get(self, sha256: str) -> bytes:
        return self.blobs[sha256]

    def path(self, sha256: str) -> Any:
        raise NotImplementedError

    def exists(self, sha256: str) -> bool:
        return sha256 in self.blobs

    def delete(self, sha256: str) -> None:
        self.blobs.pop(sha256, None)

    def sweep(self, is_referenced: Callable[[str], bool], older_than_s: float) -> list[str]:
        gone = [sha for sha in self.blobs if not is_referenced(sha)]
        for sha in gone:
            del self.blobs[sha]
        return gone


class FakeImageCodec(ImageCodec):
    """Understands b'IMG <width>x<height> ...'; anything else is corrupt."""

    def inspect(self, data: bytes) -> ImageInfo:
        if not data.startswith(b"IMG "):
            raise CorruptImageError("The image is corrupt.")
        width, height = (int(n) for n in data.split()[1].split(b"x"))
        return ImageInfo("png", width, height, "image/png")

    def thumbnail(self, data: bytes, longest_side: int = 256) -> bytes:
        self.inspect(data)
        return b"THUMB " + data


@pytest.fixture
def store() -> Iterator[EventStore]:
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield store
    store.close()


@pytest.fixture
def media() -> FakeMediaStore:
    return FakeMediaStore()


@pytest.fixture
def dataset(store: EventStore, media: FakeMediaStore) -> DatasetCommands:
    return DatasetCommands(store, media, FakeImageCodec())


@pytest.fixture
def project(store: EventStore) -> Project:
    project = Project.start("Conveyor", "detection", False, [NewLabel("nut"), NewLabel("bolt")], USER)
    store.save(project)
    return project


def labels(project: Project) -> dict[str, UUID]:
    return {label.name: label.id for label in project.labels}


def box(label_id: UUID, x: float = 0, width: float = 10) -> dict[str, Any]:
    return {"labels": [{"id": label_id}], "shape": {"type": "rectangle", "x": x, "y": 0, "width": width,
                                                     "height": 10}}


def uploaded(dataset: DatasetCommands, project: Project, data: bytes = b"IMG 640x480 pixels") -> DatasetItem:
    written = dataset.upload(project.id, data, "frame.png", "upload", USER)
    return dataset.item(project.id, written.id)


def kinds(store: EventStore, item_id: UUID) -> list[str]:
    return [type(event).__name__ for event in store.events.get(item_id)]


# Uploads


def test_an_upload_keeps_its_bytes_in_the_media_store_and_only_their_hashes_in_events(
        store: EventStore, media: FakeMediaStore, dataset: DatasetCommands, project: Project) -> None:
    data = b"IMG 640x480 pixels"
    item = uploaded(dataset, project, data)
    assert item.media["sha256"] == hashlib.sha256(data).hexdigest()
    assert media.get(item.media["sha256"]) == data
    assert media.get(item.media["thumbnail_sha256"]) == b"THUMB " + data
    assert (item.media["width"], item.media["height"], item.media["size"]) == (640, 480, len(data))
    assert (item.name, item.source, item.subset, item.annotated, item.tags) == ("frame.png", "upload",
                                                                                 "unassigned", False, [])
    created = next(iter(store.events.get(item.id)))
    assert not any(isinstance(value, bytes) for value in vars(created).values())
    assert data.decode() not in repr(vars(created))


def test_an_unnamed_upload_is_named_after_its_id_and_format(dataset: DatasetCommands, project: Project) -> None:
    written = dataset.upload(project.id, b"IMG 8x8", None, "capture", USER)
    item = dataset.item(project.id, written.id)
    assert item.name == f"{written.id}.png" and item.source == "capture"


def test_a_corrupt_upload_stores_nothing(store: EventStore, media: FakeMediaStore, dataset: DatasetCommands,
                                         project: Project) -> None:
    head = store.max_position()
    with pytest.raises(CorruptImageError):
        dataset.upload(project.id, b"GARBAGE", None, "upload", USER)
    assert media.blobs == {} and store.max_position() == head


def test_an_upload_to_an_unknown_project_stores_nothing(store: EventStore, media: FakeMediaStore,
                                                        dataset: DatasetCommands) -> None:
    with pytest.raises(NotFoundError):
        dataset.upload(uuid4(), b"IMG 8x8", None, "upload", USER)
    assert media.blobs == {} and store.max_position() == 0


def test_an_item_of_another_project_is_not_found_through_this_one(store: EventStore, dataset: DatasetCommands,
                                                                   project: Project) -> None:
    item = uploaded(dataset, project)
    other = Project.start("Shelf", "detection", False, [NewLabel("can")], USER)
    store.save(other)
    with pytest.raises(NotFoundError):
        dataset.item(other.id, item.id)


# Annotations


def test_annotating_replaces_the_previous_annotations(store: EventStore, dataset: DatasetCommands,
                                                      project: Project) -> None:
    item = uploaded(dataset, project)
    nut, bolt = labels(project)["nut"], labels(project)["bolt"]
    dataset.annotate(project.id, item.id, [box(nut), box(bolt, x=20)], USER)
    dataset.annotate(project.id, item.id, [box(bolt, x=50)], USER)
    item = dataset.item(project.id, item.id)
    assert item.annotations == [box(bolt, x=50)] and item.annotated and item.user_reviewed
    assert kinds(store, item.id) == ["Created", "AnnotationsReplaced", "AnnotationsReplaced"]


def test_an_unreviewed_prediction_is_annotated_but_not_user_reviewed(dataset: DatasetCommands,
                                                                     project: Project) -> None:
    item = uploaded(dataset, project)
    dataset.annotate(project.id, item.id, [box(labels(project)["nut"])], "pipeline", user_reviewed=False)
    item = dataset.item(project.id, item.id)
    assert item.annotated and not item.user_reviewed


def test_annotations_are_checked_against_the_image_of_the_item(store: EventStore, dataset: DatasetCommands,
                                                               project: Project) -> None:
    item = uploaded(dataset, project, b"IMG 40x30")
    with pytest.raises(InvalidAnnotationError) as caught:
        dataset.annotate(project.id, item.id, [box(labels(project)["nut"], x=35, width=10)], USER)
    assert caught.value.field == "annotations.0.shape" and "40x30" in caught.value.detail
    assert kinds(store, item.id) == ["Created"]


def test_clearing_annotations_records_an_event_only_when_there_were_some(store: EventStore,
                                                                         dataset: DatasetCommands,
                                                                         project: Project) -> None:
    item = uploaded(dataset, project)
    dataset.clear_annotations(project.id, item.id, USER)
    assert kinds(store, item.id) == ["Created"]
    dataset.annotate(project.id, item.id, [box(labels(project)["nut"])], USER)
    dataset.clear_annotations(project.id, item.id, USER)
    dataset.clear_annotations(project.id, item.id, USER)
    item = dataset.item(project.id, item.id)
    assert (item.annotations, item.annotated, item.user_reviewed) == ([], False, False)
    assert kinds(store, item.id)[-1] == "AnnotationsCleared" and kinds(store, item.id).count("AnnotationsCleared") == 1


def test_stripping_a_label_is_idempotent_and_keeps_the_rest(store: EventStore, dataset: DatasetCommands,
                                                            project: Project) -> None:
    item = uploaded(dataset, project)
    nut, bolt = labels(project)["nut"], labels(project)["bolt"]
    dataset.annotate(project.id, item.id, [box(nut), box(bolt, x=20)], USER)
    assert dataset.strip_label(item.id, nut, "policy") > 0
    assert dataset.strip_label(item.id, nut, "policy") == 0
    assert dataset.strip_label(uuid4(), nut, "policy") == 0  # an unknown item is not an error for a policy
    item = dataset.item(project.id, item.id)
    assert item.annotations == [box(bolt, x=20)] and item.annotated
    assert kinds(store, item.id).count("LabelStripped") == 1


# Tags


def test_tags_are_trimmed_deduplicated_and_sorted(dataset: DatasetCommands, project: Project) -> None:
    item = uploaded(dataset, project)
    dataset.change_tags(project.id, [item.id], [" night ", "dock", "night", "dock "], [], USER)
    assert dataset.item(project.id, item.id).tags == ["dock", "night"]


@pytest.mark.parametrize("tag", ["", "   ", "x" * 51, "a,b", "line\nbreak", "tab\there"])
def test_a_tag_is_one_to_fifty_characters_without_commas_or_breaks(tag: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        check_tag(tag)
    assert caught.value.field == "tags"


def test_a_fifty_character_tag_with_inner_spaces_is_fine() -> None:
    assert check_tag(f" {'y' * 48} z ") == f"{'y' * 48} z"


def test_tag_changes_that_change_nothing_record_nothing(store: EventStore, dataset: DatasetCommands,
                                                        project: Project) -> None:
    item = uploaded(dataset, project)
    dataset.change_tags(project.id, [item.id], ["dock"], [], USER)
    written = dataset.change_tags(project.id, [item.id], ["dock"], ["absent"], USER)
    assert written.position == 0
    assert kinds(store, item.id) == ["Created", "TagsChanged"]


def test_a_bulk_tag_change_is_all_or_nothing(store: EventStore, dataset: DatasetCommands,
                                             project: Project) -> None:
    first, second = uploaded(dataset, project), uploaded(dataset, project, b"IMG 10x10 other")
    with pytest.raises(NotFoundError):
        dataset.change_tags(project.id, [first.id, uuid4(), second.id], ["dock"], [], USER)
    with pytest.raises(InvalidValueError):
        dataset.change_tags(project.id, [first.id, second.id], ["dock", "bad,tag"], [], USER)
    assert dataset.item(project.id, first.id).tags == [] and dataset.item(project.id, second.id).tags == []
    dataset.change_tags(project.id, [first.id, second.id, first.id], ["dock"], [], USER)
    assert [dataset.item(project.id, i).tags for i in (first.id, second.id)] == [["dock"], ["dock"]]


def test_a_tag_both_added_and_removed_in_one_request_is_refused_and_changes_nothing(
        dataset: DatasetCommands, project: Project) -> None:
    tagged, untagged = uploaded(dataset, project), uploaded(dataset, project, b"IMG 10x10 other")
    dataset.change_tags(project.id, [tagged.id], ["dock"], [], USER)
    with pytest.raises(InvalidValueError, match="both added and removed"):
        dataset.change_tags(project.id, [tagged.id, untagged.id], ["dock"], ["dock"], USER)
    assert [dataset.item(project.id, i).tags for i in (tagged.id, untagged.id)] == [["dock"], []]


# Subsets and deletion


def test_a_subset_is_one_of_four_and_reassigning_the_same_records_nothing(store: EventStore,
                                                                          project: Project,
                                                                          dataset: DatasetCommands) -> None:
    item = uploaded(dataset, project)
    item.assign_subset("training", "split 70/20/10", USER)
    item.assign_subset("training", "split 70/20/10", USER)
    with pytest.raises(InvalidValueError):
        item.assign_subset("holdout", "typo", USER)
    assert item.subset == "training"
    assert [type(e).__name__ for e in item.collect_events()] == ["SubsetAssigned"]


def test_a_deleted_item_refuses_changes_and_is_no_longer_found(store: EventStore, dataset: DatasetCommands,
                                                               project: Project) -> None:
    item = uploaded(dataset, project)
    nut = labels(project)["nut"]
    dataset.annotate(project.id, item.id, [box(nut)], USER)
    dataset.delete(project.id, item.id, USER)
    with pytest.raises(NotFoundError):
        dataset.annotate(project.id, item.id, [box(nut)], USER)
    with pytest.raises(NotFoundError):
        dataset.delete(project.id, item.id, USER)
    assert dataset.strip_label(item.id, nut, "policy") == 0  # a deleted item is left alone
    deleted: DatasetItem = store.repository.get(item.id)
    with pytest.raises(ItemDeletedError):
        deleted.change_tags(["late"], [], USER)
    assert kinds(store, item.id) == ["Created", "AnnotationsReplaced", "Deleted"]
