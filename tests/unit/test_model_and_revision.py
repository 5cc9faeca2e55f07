"""The Model and DatasetRevision aggregates: a model's life from training to deletion, and what makes two
dataset revisions the same, on the in-memory event store."""

from typing import Any
from uuid import UUID, uuid4

import pytest

from application.errors import NotFoundError
from application.event_store import EventStore
from domain.dataset_revision import DatasetRevision, RevisionInUseError, fingerprint
from domain.errors import ConflictingStateError
from domain.model import Model, ModelNotTrainedError

USER = "alice"
LABELS: list[dict[str, Any]] = [{"id": str(UUID(int=1)), "name": "nut", "color": "#ff0000", "hotkey": None},
          {"id": str(UUID(int=2)), "name": "bolt", "color": "#00ff00", "hotkey": "b"}]
VARIANT = {"id": str(UUID(int=9)), "format": "openvino", "precision": "fp32", "size": 1234, "files_deleted": False}
METRICS = [{"name": "accuracy", "value": 0.97, "subset": "testing"}]


def _model(**changes: Any) -> Model:
    fields: dict[str, Any] = dict(id=uuid4(), project_id=uuid4(), name="Soft-HOG + MLP", architecture="softhog",
                                  task_type="classification", job_id=uuid4(), dataset_revision_id=uuid4(),
                                  labels=LABELS, user=USER)
    return Model(**{**fields, **changes})


def _trained(store: EventStore) -> Model:
    model = _model()
    model.trained(VARIANT, METRICS, 12.5, USER)
    store.commit(model)
    return store.load(Model, model.id)


def _events(store: EventStore, aggregate_id: UUID) -> list[str]:
    return [type(event).__name__ for event in store.history_of(aggregate_id)]


def _entry(item: int, version: int, subset: str) -> dict[str, Any]:
    return {"item_id": UUID(int=item), "version": version, "subset": subset, "name": f"{item}.png",
            "media": {"sha256": f"{item:064x}", "thumbnail_sha256": f"{item + 1000:064x}"}, "annotations": []}


ENTRIES = [_entry(1, 3, "training"), _entry(2, 2, "validation"), _entry(3, 4, "testing")]


# --- Model ------------------------------------------------------------------------------------------------


def test_a_model_is_recorded_while_training_and_then_holds_its_variant_and_metrics(store: EventStore) -> None:
    started = _model()
    store.commit(started)
    assert store.load(Model, started.id).status == "training"
    with pytest.raises(ModelNotTrainedError):
        store.load(Model, started.id).check_usable()

    model = _trained(store)

    assert model.status == "trained" and model.variants == [VARIANT] and model.metrics == METRICS
    assert model.labels == LABELS and model.architecture == "softhog"
    assert _events(store, model.id) == ["TrainingStarted", "Trained"]
    model.check_usable()


def test_a_failed_training_leaves_a_failed_model_that_cannot_be_used(store: EventStore) -> None:
    model = _model()
    model.failed("out of memory", USER)
    model.failed("again", USER)  # only the first failure is recorded
    store.commit(model)

    failed = store.load(Model, model.id)

    assert failed.status == "failed" and failed.variants == []
    assert _events(store, model.id) == ["TrainingStarted", "TrainingFailed"]
    with pytest.raises(ModelNotTrainedError):
        failed.check_usable()


def test_a_trained_model_does_not_become_failed_afterwards(store: EventStore) -> None:
    model = _trained(store)

    model.failed("a late error of the job", USER)
    store.commit(model)

    assert store.load(Model, model.id).status == "trained"
    assert _events(store, model.id) == ["TrainingStarted", "Trained"]


def test_deleting_the_weights_keeps_the_record_with_its_variants_marked_and_makes_it_unusable(
        store: EventStore) -> None:
    model = _trained(store)

    model.delete_weights(USER)
    model.delete_weights(USER)  # nothing left to delete: no second event
    store.commit(model)

    kept = store.load(Model, model.id)
    assert kept.variants == [{**VARIANT, "files_deleted": True}]
    assert kept.status == "trained" and kept.metrics == METRICS and not kept.deleted
    assert _events(store, model.id) == ["TrainingStarted", "Trained", "WeightsDeleted"]
    with pytest.raises(ModelNotTrainedError):
        kept.check_usable()


def test_a_model_without_variants_has_no_weights_to_delete(store: EventStore) -> None:
    model = _model()
    model.failed("cancelled", USER)
    model.delete_weights(USER)
    store.commit(model)

    assert _events(store, model.id) == ["TrainingStarted", "TrainingFailed"]


def test_a_deleted_model_is_not_found_but_its_history_stays(store: EventStore) -> None:
    model = _trained(store)

    model.delete_weights(USER)
    model.delete(USER)
    model.delete(USER)
    store.commit(model)

    with pytest.raises(NotFoundError):
        store.load(Model, model.id, "model")
    assert _events(store, model.id) == ["TrainingStarted", "Trained", "WeightsDeleted", "Deleted"]
    assert all(event.user == USER for event in store.history_of(model.id))


def test_using_a_model_without_weights_or_a_revision_in_use_is_a_conflict() -> None:
    assert issubclass(ModelNotTrainedError, ConflictingStateError)
    assert issubclass(RevisionInUseError, ConflictingStateError)


# --- DatasetRevision --------------------------------------------------------------------------------------


def _revision(store: EventStore, entries: list[dict[str, Any]] = ENTRIES) -> DatasetRevision:
    revision = DatasetRevision(id=uuid4(), project_id=uuid4(), entries=entries, labels=LABELS, user=USER)
    store.commit(revision)
    return store.load(DatasetRevision, revision.id)


def test_a_revision_keeps_every_entry_and_the_label_schema(store: EventStore) -> None:
    revision = _revision(store)

    assert revision.entries == ENTRIES and revision.labels == LABELS and not revision.files_deleted


def test_the_same_items_at_the_same_versions_and_subsets_make_the_same_revision(store: EventStore) -> None:
    revision = _revision(store)
    reordered = [ENTRIES[2], ENTRIES[0], ENTRIES[1]]
    renamed = [{**ENTRIES[0], "name": "other.png"}, *ENTRIES[1:]]  # not part of the fingerprint

    assert revision.same_as(reordered, [dict(label) for label in LABELS])
    assert revision.same_as(renamed, LABELS)
    assert fingerprint(reordered) == fingerprint(ENTRIES)


@pytest.mark.parametrize("entries, labels", [
    ([_entry(1, 4, "training"), *ENTRIES[1:]], LABELS),  # item 1 was changed since
    ([_entry(1, 3, "testing"), *ENTRIES[1:]], LABELS),  # item 1 moved to another subset
    (ENTRIES[:2], LABELS),  # item 3 left the dataset
    ([*ENTRIES, _entry(4, 1, "training")], LABELS),  # item 4 joined it
    (ENTRIES, [LABELS[0], {**LABELS[1], "name": "screw"}]),  # a label was renamed
    (ENTRIES, LABELS[:1]),  # a label was removed
], ids=["new version", "new subset", "item removed", "item added", "label renamed", "label removed"])
def test_any_change_of_items_versions_subsets_or_labels_makes_a_new_revision(
        store: EventStore, entries: list[dict[str, Any]], labels: list[dict[str, Any]]) -> None:
    assert not _revision(store).same_as(entries, labels)


def test_a_revision_whose_files_were_deleted_says_so_and_is_never_reused(store: EventStore) -> None:
    revision = _revision(store)

    revision.delete_files(USER)
    revision.delete_files(USER)
    store.commit(revision)

    freed = store.load(DatasetRevision, revision.id)
    assert freed.files_deleted and freed.entries == ENTRIES  # the record of what was trained on stays
    assert not freed.same_as(ENTRIES, LABELS)
    assert _events(store, revision.id) == ["Created", "FilesDeleted"]
