"""Viewfinder's own, lossless format: `viewfinder.json` (task, labels, items, views) + `media/<name>`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adapters.formats.common import (
    FileNamer,
    LabelSet,
    expect,
    inside,
    loader,
    probe_image,
    read_json,
    size_of,
    write_file,
    write_json,
)
from adapters.formats.shapes import api_shape
from application.ports.dataset_formats import (
    SUBSETS,
    DatasetFormat,
    ExchangeAnnotation,
    ExchangeDataset,
    ExchangeItem,
    InvalidDatasetError,
)

MANIFEST = "viewfinder.json"
VERSION = 1
TASK_TYPES = (None, "classification", "detection", "instance_segmentation")


class ViewfinderFormat(DatasetFormat):
    """Keeps everything a project's dataset holds: subsets, tags, views, colours, hotkeys."""

    name = "viewfinder"
    shapes = frozenset({"rectangle", "polygon", "full_image"})
    looks_for = MANIFEST

    def detect(self, root: Path) -> bool:
        return (root / MANIFEST).is_file()

    def read(self, root: Path) -> ExchangeDataset:
        doc = expect(read_json(root, root / MANIFEST), dict, MANIFEST)
        version = doc.get("version")
        if not isinstance(version, int) or not 1 <= version <= VERSION:
            raise InvalidDatasetError(f"{MANIFEST}: version {version!r} is not one this server reads (1..{VERSION}).")
        task = expect(doc.get("task", {}), dict, f"{MANIFEST}: task")
        task_type = task.get("task_type")
        if task_type not in TASK_TYPES:
            raise InvalidDatasetError(f"{MANIFEST}: {task_type!r} is not a task type.")
        labels = _labels(task.get("labels", []))
        items = [_item(root, raw, labels, f"{MANIFEST}: item {i}")
                 for i, raw in enumerate(expect(doc.get("items", []), list, f"{MANIFEST}: items"))]
        _check_unique([item.name for item in items], "item names")
        views = _views(doc.get("views", []), {item.name for item in items})
        exclusive = expect(task.get("exclusive_labels"), (bool, type(None)), f"{MANIFEST}: task.exclusive_labels")
        return ExchangeDataset(task_type=task_type, labels=labels.labels(), items=items, views=views,
                               exclusive_labels=exclusive)

    def write(self, dataset: ExchangeDataset, root: Path) -> None:
        namer, labels, items, names = FileNamer(), LabelSet(dataset.labels), [], set()
        for item in dataset.items:
            data = item.load_bytes()
            file_name = namer.claim(item.name, data)
            write_file(root / "media" / file_name, data)
            name = item.name if item.name not in names else file_name  # names must stay unique
            names.add(name)
            items.append(_item_json(item, name, file_name, size_of(item, data), labels))
        views = [{"name": view, "items": [n for n in members if n in names]}
                 for view, members in dataset.views.items()]
        task = {"task_type": dataset.task_type, "exclusive_labels": dataset.exclusive_labels,
                "labels": [{"name": label.name, "color": label.color, "hotkey": label.hotkey}
                           for label in labels.labels()]}
        write_json(root / MANIFEST, {"format": "viewfinder", "version": VERSION, "task": task,
                                     "items": items, "views": views})


def _item_json(item: ExchangeItem, name: str, file_name: str, size: tuple[int, int],
               labels: LabelSet) -> dict[str, Any]:
    for annotation in item.annotations:
        for label in annotation.labels:
            labels.index(label)
    return {"name": name, "file": f"media/{file_name}", "width": size[0], "height": size[1],
            "subset": item.subset or "unassigned", "tags": list(item.tags), "annotated": item.annotated,
            "annotations": [{"labels": [{"name": n} for n in a.labels], "shape": a.shape}
                            for a in item.annotations]}


def _labels(raw: Any) -> LabelSet:
    labels = LabelSet()
    for index, label in enumerate(expect(raw, list, f"{MANIFEST}: task.labels")):
        where = f"{MANIFEST}: label {index}"
        label = expect(label, dict, where)
        if label.get("name") in labels:
            raise InvalidDatasetError(f"{where}: the label name {label['name']!r} appears twice.")
        labels.add(label.get("name"), where, expect(label.get("color"), (str, type(None)), f"{where}: color"),
                   expect(label.get("hotkey"), (str, type(None)), f"{where}: hotkey"))
    return labels


def _item(root: Path, raw: Any, labels: LabelSet, where: str) -> ExchangeItem:
    raw = expect(raw, dict, where)
    name = expect(raw.get("name"), str, f"{where}: name")
    path = inside(root, expect(raw.get("file", f"media/{name}"), str, f"{where}: file"), where)
    size = probe_image(root, path)
    declared = (raw.get("width"), raw.get("height"))
    if all(declared) and declared != size:
        raise InvalidDatasetError(f"{where} ({name}): the image is {size[0]}x{size[1]}, not {declared[0]}x{declared[1]}.")
    subset = raw.get("subset")
    if subset not in (*SUBSETS, "unassigned", None):
        raise InvalidDatasetError(f"{where} ({name}): {subset!r} is not a subset.")
    tags = expect(raw.get("tags", []), list, f"{where}: tags")
    for tag in tags:
        expect(tag, str, f"{where}: tag")
    raw_annotations = expect(raw.get("annotations", []), list, f"{where}: annotations")
    annotations = [_annotation(a, labels, size, f"{where} ({name}): annotation {i}")
                   for i, a in enumerate(raw_annotations)]
    annotated = expect(raw.get("annotated", bool(annotations)), bool, f"{where}: annotated")
    return ExchangeItem(name=name, load_bytes=loader(path), width=size[0], height=size[1],
                        subset=None if subset == "unassigned" else subset, tags=tags,
                        annotations=annotations, annotated=annotated)


def _annotation(raw: Any, labels: LabelSet, size: tuple[int, int], where: str) -> ExchangeAnnotation:
    raw = expect(raw, dict, where)
    names: list[str] = []
    for label in expect(raw.get("labels"), list, f"{where}: labels"):
        name: Any = label.get("name") if isinstance(label, dict) else label
        if name not in labels:
            raise InvalidDatasetError(f"{where}: the label {name!r} is not one of the dataset's labels.")
        if name in names:
            raise InvalidDatasetError(f"{where}: the label {name!r} appears twice.")
        names.append(name)
    if not names:
        raise InvalidDatasetError(f"{where}: an annotation needs at least one label.")
    return ExchangeAnnotation(labels=names, shape=api_shape(raw.get("shape"), size, where))


def _views(raw: Any, item_names: set[str]) -> dict[str, list[str]]:
    views: dict[str, list[str]] = {}
    for index, view in enumerate(expect(raw, list, f"{MANIFEST}: views")):
        where = f"{MANIFEST}: view {index}"
        name = expect(expect(view, dict, where).get("name"), str, f"{where}: name")
        if name in views:
            raise InvalidDatasetError(f"{where}: the view name {name!r} appears twice.")
        members = expect(view.get("items", []), list, f"{where}: items")
        unknown = [m for m in members if m not in item_names]
        if unknown:
            raise InvalidDatasetError(f"{where} ({name}): {unknown[0]!r} is not an item of the dataset.")
        views[name] = list(members)
    return views


def _check_unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidDatasetError(f"{MANIFEST}: the {what} hold {name!r} twice.")
        seen.add(name)
