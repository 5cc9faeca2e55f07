"""The deterministic, label-stratified split of annotated items, and how a train job applies it: only items
without a subset are split, and each assignment is an event on the item that names the job."""

import random
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.commands.dataset import DatasetCommands
from application.event_store import EventStore
from application.jobs.handler import JobContext
from application.jobs.split import split, stratum
from application.jobs.training import TrainModel
from application.ports.read_store import ReadStore, Row
from application.ports.training import (
    ArchitectureCatalog,
    ModelArchitecture,
    ParameterDescription,
    TaskType,
    TrainedModel,
    Trainer,
    TrainingReporter,
    TrainingRequest,
)
from application.projections import to_json
from domain.dataset_item import DatasetItem
from domain.project import NewLabel, Project

USER = "alice"
SUBSETS = ("training", "validation", "testing")
DEFAULT_SPLIT = (70, 20, 10)


def _items(counts: dict[str, int], seed: int = 0) -> list[dict[str, Any]]:
    """`counts[label]` single-label items per label, with random ids."""
    rng = random.Random(seed)
    return [{"id": str(UUID(int=rng.getrandbits(128))), "annotations": [{"labels": [{"id": label}],
                                                                          "shape": {"type": "full_image"}}]}
            for label, n in counts.items() for _ in range(n)]


def _label_of(item: dict[str, Any]) -> str:
    return str(item["annotations"][0]["labels"][0]["id"])


def _subsets_per_label(items: list[dict[str, Any]], assigned: dict[str, str]) -> dict[str, Counter[str]]:
    per_label: dict[str, Counter[str]] = {}
    for item in items:
        per_label.setdefault(_label_of(item), Counter())[assigned[item["id"]]] += 1
    return per_label


# --- the split itself ------------------------------------------------------------------------------------


def test_the_same_items_and_seed_always_give_the_same_split_whatever_their_order() -> None:
    items = _items({"nut": 20, "bolt": 13, "washer": 7})
    shuffled = random.Random(3).sample(items, len(items))

    first = split(items, DEFAULT_SPLIT, seed=42)

    assert split(items, DEFAULT_SPLIT, seed=42) == first
    assert split(shuffled, DEFAULT_SPLIT, seed=42) == first
    assert set(first) == {item["id"] for item in items} and set(first.values()) == set(SUBSETS)
    assert split(items, DEFAULT_SPLIT, seed=43) != first  # the seed is what changes it


def test_labels_of_very_different_frequency_all_reach_every_subset() -> None:
    items = _items({"nut": 3, "bolt": 4, "washer": 9, "screw": 40})

    per_label = _subsets_per_label(items, split(items, DEFAULT_SPLIT, seed=0))

    for label, counts in per_label.items():
        assert set(counts) == set(SUBSETS), (label, counts)


@pytest.mark.parametrize("per_label", [3, 4, 5, 6])
def test_a_label_with_three_or_more_items_reaches_every_subset(per_label: int) -> None:
    items = _items({"nut": per_label, "bolt": per_label})

    per_subset = _subsets_per_label(items, split(items, DEFAULT_SPLIT, seed=0))

    assert all(set(counts) == set(SUBSETS) for counts in per_subset.values()), per_subset


def test_a_single_label_is_split_exactly_by_the_percentages() -> None:
    items = _items({"nut": 100})

    counts = Counter(split(items, (60, 25, 15), seed=5).values())

    assert counts == {"training": 60, "validation": 25, "testing": 15}


@pytest.mark.parametrize("percents", [(70, 20, 10), (50, 25, 25), (80, 10, 10), (34, 33, 33)])
def test_each_label_is_split_by_the_percentages_within_rounding(percents: tuple[int, int, int]) -> None:
    items = _items({"nut": 17, "bolt": 23, "washer": 11, "screw": 64})

    per_label = _subsets_per_label(items, split(items, percents, seed=1))

    for label, counts in per_label.items():
        n = sum(counts.values())
        for subset, percent in zip(SUBSETS, percents, strict=True):
            assert abs(counts[subset] - n * percent / 100) <= 1, (label, subset, counts)


def test_an_item_with_several_labels_is_stratified_by_its_rarest_label() -> None:
    common_and_rare = [{"labels": [{"id": "nut"}], "shape": {"type": "full_image"}},
                       {"labels": [{"id": "bolt"}], "shape": {"type": "full_image"}}]

    assert stratum(common_and_rare, {"nut": 50, "bolt": 3}) == "bolt"
    assert stratum(common_and_rare, {"nut": 2, "bolt": 3}) == "nut"
    assert stratum([], {"nut": 1}) == ""


def test_a_label_seen_only_next_to_a_common_one_still_reaches_every_subset() -> None:
    items = _items({"nut": 60})
    for item in items[:10]:  # ten images also show a bolt
        item["annotations"].append({"labels": [{"id": "bolt"}], "shape": {"type": "full_image"}})

    assigned = split(items, DEFAULT_SPLIT, seed=0)

    assert {assigned[item["id"]] for item in items[:10]} == set(SUBSETS)


# --- the train job applies the split to items without a subset ---------------------------------------------


class FakeReadStore(ReadStore):
    """Answers the train job's two read-model queries from the aggregates in the store."""

    def __init__(self, store: EventStore, item_ids: list[UUID]) -> None:
        self.store, self.item_ids = store, item_ids

    def transaction(self) -> Any:
        raise NotImplementedError

    def query(self, sql: str, params: Any = ()) -> list[Row]:
        if "FROM rm_revisions" in sql:
            return []
        items = [self.store.load(DatasetItem, item_id) for item_id in sorted(self.item_ids, key=str)]
        return [{"id": str(item.id), "subset": item.subset, "annotations": to_json(item.annotations)}
                for item in items if item.annotated]

    def close(self) -> None:
        pass


class FakeTrainer(Trainer):
    """Records the request instead of training."""

    architecture = ModelArchitecture("fake-classifier", "classification", "Fake", "Does not train.", default=True,
                                     parameters=(ParameterDescription("epochs", "Epochs", "", "int", 1, 1, 10),))

    def __init__(self) -> None:
        self.requests: list[TrainingRequest] = []

    def train(self, request: TrainingRequest, reporter: TrainingReporter) -> TrainedModel:
        self.requests.append(request)
        return TrainedModel(request.output_dir / "model.xml", request.output_dir / "model.bin",
                            [{"name": "accuracy", "value": 1.0, "subset": "testing"}], self.architecture.id)


class FakeCatalog(ArchitectureCatalog):
    def __init__(self, trainer: Trainer) -> None:
        self.only = trainer

    def architectures(self, task_type: TaskType | None = None) -> list[ModelArchitecture]:
        return [self.only.architecture]

    def trainer(self, architecture_id: str) -> Trainer:
        return self.only

    def default_trainer(self, task_type: TaskType) -> Trainer:
        return self.only


def _annotated_items(store: EventStore, project: Project, per_label: int) -> list[UUID]:
    ids = []
    for label in project.labels:
        for n in range(per_label):
            media = {"sha256": uuid4().hex, "size": 10, "format": "png", "content_type": "image/png", "width": 32,
                     "height": 32, "thumbnail_sha256": uuid4().hex}
            item = DatasetItem(id=uuid4(), project_id=project.id, name=f"{label.name}-{n}.png", media=media,
                               source="upload", user=USER)
            context = item.context(project.task_type, project.exclusive_labels, {lb.id for lb in project.labels})
            item.annotate([{"labels": [{"id": label.id}], "shape": {"type": "full_image"}}], context, True, USER)
            store.commit(item)
            ids.append(item.id)
    return ids


def test_a_train_job_splits_only_items_without_a_subset_and_records_why(store: EventStore, tmp_path: Path) -> None:
    project = Project.start("Shapes", "classification", True, [NewLabel("circle"), NewLabel("square")], USER)
    store.commit(project)
    item_ids = _annotated_items(store, project, per_label=10)
    imported = {item_ids[0]: "testing", item_ids[1]: "testing", item_ids[10]: "validation"}
    for item_id, subset in imported.items():
        item = store.load(DatasetItem, item_id)
        item.assign_subset(subset, "imported with the dataset", USER)
        store.commit(item)
    trainer, job_id = FakeTrainer(), uuid4()
    job = TrainModel(store, FakeReadStore(store, item_ids), media=None, dataset=DatasetCommands(store, None, None),  # type: ignore[arg-type]
                     catalog=FakeCatalog(trainer), models_dir=tmp_path)
    context = JobContext(job_id, 1, project.id, {}, USER, report=lambda percent, message: None,
                         log=lambda line: None)

    job.run(context)

    items = {item_id: store.load(DatasetItem, item_id) for item_id in item_ids}
    assert {item_id: items[item_id].subset for item_id in imported} == imported
    assert all(item.subset in SUBSETS for item in items.values())
    assert {sample.item_id: sample.subset for sample in trainer.requests[0].samples} == {
        str(item_id): item.subset for item_id, item in items.items()}
    reasons = {item_id: [e.reason for e in store.history_of(item_id) if type(e).__name__ == "SubsetAssigned"]
               for item_id in item_ids}
    assert all(reasons[item_id] == ["imported with the dataset"] for item_id in imported)
    assert all(reasons[item_id] == [f"split for training job {job_id}"]
               for item_id in item_ids if item_id not in imported)
