"""Stories: a dataset written in a format is detected as that format and reads back the same."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from format_samples import (
    LABELS,
    by_name,
    classification_dataset,
    detection_dataset,
    segmentation_dataset,
    summary,
)

from adapters.formats import all_formats, format_named
from application.ports.dataset_formats import (
    ExchangeDataset,
    UnsupportedContentError,
    detect_format,
)

DATASETS: dict[str, Callable[[], ExchangeDataset]] = {
    "detection": detection_dataset,
    "instance_segmentation": segmentation_dataset,
    "classification": classification_dataset,
}
HOLDS = {
    "viewfinder": ("detection", "instance_segmentation", "classification"),
    "coco": ("detection", "instance_segmentation", "classification"),
    "datumaro": ("detection", "instance_segmentation", "classification"),
    "yolo": ("detection", "instance_segmentation"),
    "voc": ("detection", "classification"),
}
KEEPS_ANNOTATED_WITHOUT_SHAPES = {"viewfinder", "yolo", "voc"}
CASES = [(name, task) for name, tasks in HOLDS.items() for task in tasks]


def write_and_read(format_name: str, dataset: ExchangeDataset, root: Path) -> ExchangeDataset:
    format_named(format_name).write(dataset, root)
    detected = detect_format(root, all_formats())
    assert detected.name == format_name
    return detected.read(root)


@pytest.mark.parametrize(("format_name", "task"), CASES)
def test_a_dataset_written_in_a_format_reads_back_with_the_same_images_labels_and_shapes(
        format_name: str, task: str, tmp_path: Path) -> None:
    original = DATASETS[task]()
    back = write_and_read(format_name, original, tmp_path / "out")

    assert [label.name for label in back.labels] == [label.name for label in LABELS]
    assert back.task_type == task
    expected, actual = by_name(original), by_name(back)
    assert sorted(actual) == sorted(expected)
    for name, item in expected.items():
        assert actual[name].load_bytes() == item.load_bytes(), name
        assert summary(actual[name]) == summary(item), name
        keeps = format_name in KEEPS_ANNOTATED_WITHOUT_SHAPES
        assert actual[name].annotated == (item.annotated if keeps else bool(item.annotations)), name


@pytest.mark.parametrize("task", sorted(DATASETS))
def test_the_own_format_also_keeps_tags_views_colours_hotkeys_and_the_task(task: str, tmp_path: Path) -> None:
    original = DATASETS[task]()
    first, *_ = original.items  # type: ignore[misc]
    first.tags.extend(["night", "rain"])
    original.views = {"hard cases": [first.name], "empty": []}
    original.exclusive_labels = task == "classification"

    back = write_and_read("viewfinder", original, tmp_path / "out")

    assert back.labels == LABELS
    assert back.views == original.views
    assert (back.task_type, back.exclusive_labels) == (task, original.exclusive_labels)
    actual = by_name(back)
    for item in original.items:
        assert (actual[item.name].tags, actual[item.name].annotated) == (item.tags, item.annotated)
        assert [a.labels for a in actual[item.name].annotations] == [a.labels for a in item.annotations]


def test_voc_writes_one_based_inclusive_corners(tmp_path: Path) -> None:
    format_named("voc").write(detection_dataset(), tmp_path)
    xml = (tmp_path / "Annotations" / "street.xml").read_text()
    assert "<xmin>1</xmin>" in xml and "<xmax>64</xmax>" in xml and "<ymax>48</ymax>" in xml
    assert "<xmin>11.25</xmin>" in xml and "<xmax>31</xmax>" in xml


def test_exports_keep_original_bytes_and_give_clashing_names_unique_stems(tmp_path: Path) -> None:
    dataset = detection_dataset()
    street = by_name(dataset)["street.jpg"]
    twin = street.__class__(name="street.png", load_bytes=by_name(dataset)["yard.png"].load_bytes,
                            subset="training")
    sub_folder = street.__class__(name="../up/street.jpg", load_bytes=street.load_bytes)
    dataset.items = [street, twin, sub_folder]
    format_named("yolo").write(dataset, tmp_path)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "images").rglob("*.*"))
    assert written == ["images/default/up_street.jpg", "images/train/street.jpg", "images/train/street_1.png"]
    assert (tmp_path / "images/default/up_street.jpg").read_bytes() == street.load_bytes()


@pytest.mark.parametrize(("format_name", "task"), [("yolo", "classification"), ("voc", "instance_segmentation")])
def test_a_format_refuses_shapes_it_cannot_hold(format_name: str, task: str, tmp_path: Path) -> None:
    dataset_format = format_named(format_name)
    with pytest.raises(UnsupportedContentError, match=format_name.upper() if format_name == "voc" else "YOLO"):
        dataset_format.write(DATASETS[task](), tmp_path)
    with pytest.raises(UnsupportedContentError, match=f"{format_name} format cannot hold {task}"):
        dataset_format.check_can_write(task)


@pytest.mark.parametrize("format_name", sorted(HOLDS))
def test_writers_take_a_one_shot_iterator_so_callers_can_stream_and_report_progress(
        format_name: str, tmp_path: Path) -> None:
    dataset = detection_dataset()
    dataset.items = iter(list(dataset.items))
    format_named(format_name).write(dataset, tmp_path)
    assert len(list(tmp_path.rglob("street.jpg"))) == 1
    assert len(format_named(format_name).read(tmp_path).items) == 4  # type: ignore[arg-type]
