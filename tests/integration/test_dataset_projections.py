"""The dataset read models on SQLite and PostgreSQL: a rebuild from the log reproduces them exactly."""

import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from domain.project import LabelEdit, NewLabel, Project
from entrypoints.bootstrap import Container, bootstrap
from entrypoints.config import Config
from tests import images

DATASET_TABLES = ("rm_items", "rm_item_labels", "rm_item_tags", "rm_views", "rm_view_items", "rm_history")


@pytest.fixture
def container(config: Config) -> Iterator[Container]:
    container = bootstrap(config)
    yield container
    container.close()


def settle(container: Container) -> None:
    """Run projections and policies until the log is fully processed, as the engine would."""
    while container.projector.catch_up() + container.policies.run_once():
        pass


def box(label_id: UUID, x: float = 0) -> dict[str, Any]:
    return {"labels": [{"id": label_id, "confidence": 0.5}],
            "shape": {"type": "rectangle", "x": x, "y": 0, "width": 8, "height": 8}}


def a_rich_history(container: Container) -> dict[str, Any]:
    """Uploads, annotations, tags, subsets, views, a renamed and a removed label, deletions, two projects."""
    dataset, views, user = container.dataset, container.views, "tester"
    line = container.projects.create("Line", "detection", False, [NewLabel("nut"), NewLabel("bolt"),
                                                                   NewLabel("washer")], user).id
    shelf = container.projects.create("Shelf", "classification", False, [NewLabel("can"), NewLabel("jar")], user).id
    nut, bolt, washer = (label.id for label in container.store.load(Project, line).labels)
    items = [dataset.upload(line, images.encode(fmt, seed=i), f"{i}.{fmt}", "upload", user).id
             for i, fmt in enumerate(images.FORMATS * 2)]
    can = container.store.load(Project, shelf).labels[0].id
    shelf_item = dataset.upload(shelf, images.jpeg(seed=99), None, "capture", user).id
    dataset.annotate(shelf, shelf_item, [{"labels": [{"id": can}], "shape": {"type": "full_image"}}], user)

    for n, item in enumerate(items[:6]):
        dataset.annotate(line, item, [box(nut), box(bolt, x=10)] if n % 2 else [box(bolt)], user)
    dataset.annotate(line, items[6], [box(washer)], user, user_reviewed=False)
    dataset.annotate(line, items[0], [box(nut, x=20), box(washer, x=30)], user)
    dataset.clear_annotations(line, items[5], user)
    dataset.change_tags(line, items[:5], ["dock", "night"], [], user)
    dataset.change_tags(line, items[2:8], ["reviewed"], ["night"], user)
    for item, subset in zip(items[:3], ("training", "validation", "testing"), strict=True):
        loaded = dataset.item(line, item)
        loaded.assign_subset(subset, "split", user)
        container.store.commit(loaded)

    hard = views.create(line, "Hard cases", user).id
    views.add_items(line, hard, items[:7], user)
    views.remove_items(line, hard, items[1:2], user)
    doomed = views.create(line, "Doomed", user).id
    views.add_items(line, doomed, items[3:5], user)
    views.delete(line, doomed, user)
    views.create(shelf, "Hard cases", user)

    settle(container)
    container.projects.change_labels(line, [], [LabelEdit(nut, new_name="hex nut")], [bolt], user)
    settle(container)  # the policy strips 'bolt' from every annotation
    dataset.delete(line, items[3], user)
    dataset.delete(line, items[9], user)
    dataset.change_tags(line, [items[4]], [], ["dock"], user)
    settle(container)
    return {"line": line, "items": items, "bolt": bolt}


def dump(container: Container) -> dict[str, list[dict[str, Any]]]:
    """Every row of the dataset tables, in a canonical order (row order is not part of the model)."""
    def canonical(row: dict[str, Any]) -> str:
        return json.dumps(row, sort_keys=True, default=str)

    return {table: sorted((dict(row) for row in container.read_store.query(f"SELECT * FROM {table}")), key=canonical)
            for table in DATASET_TABLES}


def test_a_rebuild_reproduces_the_dataset_read_models_row_for_row(container: Container) -> None:
    a_rich_history(container)
    before = dump(container)
    assert all(before[table] for table in DATASET_TABLES), {t: len(rows) for t, rows in before.items()}
    assert len(before["rm_items"]) == 8 + 1 and len(before["rm_views"]) == 2

    head = container.store.max_position()
    replayed = container.projector.rebuild()
    assert replayed == head
    assert dump(container) == before
    settle(container)  # policies do not react again to a replay: nothing new is written
    assert container.store.max_position() == head and dump(container) == before


def test_the_read_models_tell_the_story_that_was_written(container: Container) -> None:
    story = a_rich_history(container)
    line, items, bolt = story["line"], story["items"], str(story["bolt"])
    rows = {row["id"]: row for row in container.read_store.query("SELECT * FROM rm_items WHERE project_id = ?",
                                                                 (str(line),))}
    assert set(rows) == {str(i) for n, i in enumerate(items) if n not in (3, 9)}
    assert not any(bolt in row["annotations"] for row in rows.values())
    assert container.read_store.query("SELECT * FROM rm_item_labels WHERE label_id = ?", (bolt,)) == []
    stripped = container.read_store.query("SELECT aggregate_id FROM rm_history WHERE kind = ?",
                                          ("DatasetItem.LabelStripped",))
    assert {row["aggregate_id"] for row in stripped} == {str(i) for i in items[1:5]}  # 0 lost it, 5 was cleared
    view_items = container.read_store.query("SELECT item_id FROM rm_view_items")
    assert str(items[3]) not in {row["item_id"] for row in view_items}  # deleted items leave every view
    assert {row["tag"] for row in container.read_store.query(
        "SELECT tag FROM rm_item_tags WHERE item_id = ?", (str(items[4]),))} == {"reviewed"}
    subsets = [rows[str(i)]["subset"] for i in items[:3]]
    assert subsets == ["training", "validation", "testing"]
    assert (rows[str(items[6])]["annotated"], rows[str(items[6])]["user_reviewed"]) == (1, 0)
    assert (rows[str(items[5])]["annotated"], rows[str(items[5])]["annotations"]) == (0, "[]")
    for only_bolt in (items[2], items[4]):  # stripped of their only label: back to unannotated
        assert (rows[str(only_bolt)]["annotated"], rows[str(only_bolt)]["annotations"]) == (0, "[]")
    assert rows[str(items[1])]["annotated"] == 1 and json.loads(rows[str(items[1])]["annotations"])


def test_an_annotation_saved_while_its_label_is_removed_loses_that_label_too(container: Container) -> None:
    user = "tester"
    project_id = container.projects.create("Line", "detection", False, [NewLabel("nut"), NewLabel("bolt")], user).id
    project = container.store.load(Project, project_id)
    nut, bolt = (label.id for label in project.labels)
    item_id = container.dataset.upload(project_id, images.png(), None, "upload", user).id
    settle(container)

    item = container.dataset.item(project_id, item_id)  # an annotator validated against the old labels...
    context = item.context(project.task_type, project.exclusive_labels, {nut, bolt})
    container.projects.change_labels(project_id, [], [], [bolt], "admin")  # ...while bolt was removed
    item.annotate([box(nut), box(bolt, x=20)], context, True, user)
    container.store.commit(item)  # and the annotation lands after the removal
    settle(container)

    stripped = container.dataset.item(project_id, item_id)
    assert stripped.annotations == [box(nut)]
    row = container.read_store.query("SELECT annotations FROM rm_items WHERE id = ?", (str(item_id),))[0]
    assert bolt not in {UUID(label["id"]) for a in json.loads(row["annotations"]) for label in a["labels"]}
    assert container.read_store.query("SELECT * FROM rm_item_labels WHERE label_id = ?", (str(bolt),)) == []
