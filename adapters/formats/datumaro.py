"""Datumaro's JSON format: `annotations/<subset>.json` + `images/<subset>/...`.

Each file holds `categories.label.labels` ([{"name", "parent", "attributes"}]) and `items`
([{"id", "image": {"path", "size": [h, w]}, "annotations": [...]}]); annotations of type
`bbox` ([x, y, w, h]), `polygon` ([x1, y1, ...]) and `label` (the whole image) refer to labels by
index. Label colours travel in `categories.mask.colormap`. Other annotation types are skipped
with a warning.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from adapters.formats.common import (
    SUBSET_DIRS,
    FileNamer,
    LabelSet,
    UniqueNames,
    check_size,
    dataset_of,
    expect,
    hex_color,
    inside,
    loader,
    probe_image,
    read_json,
    rel,
    rgb_color,
    size_of,
    subset_of,
    write_file,
    write_json,
)
from adapters.formats.shapes import (
    bounds,
    flat_points,
    full_image,
    merge,
    per_label,
    polygon,
    rectangle,
)
from application.ports.dataset_formats import (
    DatasetFormat,
    ExchangeAnnotation,
    ExchangeDataset,
    ExchangeItem,
    InvalidDatasetError,
)

IMAGE_MEDIA_TYPE = 2  # datumaro.components.media.MediaType.IMAGE
_COCO_PREFIXES = ("instances_", "person_keypoints_", "captions_", "panoptic_", "image_info_")
_TYPES = {"rectangle": "bbox", "polygon": "polygon", "full_image": "label"}


class DatumaroFormat(DatasetFormat):
    """Boxes, polygons and image-level labels per subset file."""

    name = "datumaro"
    shapes = frozenset({"rectangle", "polygon", "full_image"})
    looks_for = "annotations/<subset>.json holding 'categories' and 'items'"

    def detect(self, root: Path) -> bool:
        return bool(_annotation_files(root))

    def read(self, root: Path) -> ExchangeDataset:
        labels, names, items, warnings = LabelSet(), UniqueNames(), [], list[str]()
        for file in _annotation_files(root):
            doc = expect(read_json(root, file), dict, rel(root, file))
            index = _categories(doc, labels, rel(root, file))
            for i, raw in enumerate(expect(doc.get("items", []), list, f"{rel(root, file)}: items")):
                where = f"{rel(root, file)}: item {i}"
                items.append(_item(root, file.stem, expect(raw, dict, where), index, names, warnings, where))
        return dataset_of(labels, items, warnings)

    def write(self, dataset: ExchangeDataset, root: Path) -> None:
        namer, labels = FileNamer(), LabelSet(dataset.labels)
        subsets: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for item in dataset.items:
            data = item.load_bytes()
            file_name, subset_dir = namer.claim(item.name, data), SUBSET_DIRS.get(item.subset, "default")
            write_file(root / "images" / subset_dir / file_name, data)
            width, height = size_of(item, data)
            annotations = [_annotation_json(n, labels.index(label), shape)
                           for n, (label, shape) in enumerate(per_label(item.annotations))]
            subsets[subset_dir].append({"id": Path(file_name).stem, "annotations": annotations,
                                        "image": {"path": file_name, "size": [height, width]}})
        categories = _categories_json(labels)
        for subset_dir, items in (subsets or {"default": []}).items():
            write_json(root / "annotations" / f"{subset_dir}.json",
                       {"dm_format_version": "1.0", "media_type": IMAGE_MEDIA_TYPE, "infos": {},
                        "categories": categories, "items": items})


def _annotation_files(root: Path) -> list[Path]:
    """annotations/*.json whose document has Datumaro's top-level keys (COCO's has 'images')."""
    folder = root / "annotations"
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    return [f for f in files if not f.name.startswith(_COCO_PREFIXES) and _looks_like_datumaro(f)]


def _looks_like_datumaro(file: Path) -> bool:
    with file.open("rb") as handle:
        head = handle.read(4096)
    if b'"dm_format_version"' in head:
        return True
    try:
        doc = read_json(file.parent, file)
    except InvalidDatasetError:
        return False
    return isinstance(doc, dict) and isinstance(doc.get("categories"), dict) and isinstance(doc.get("items"), list)


def _categories(doc: dict[str, Any], labels: LabelSet, where: str) -> list[str]:
    """The file's label names by index, added to the dataset's labels (with mask colours)."""
    categories = expect(doc.get("categories", {}), dict, f"{where}: categories")
    label_list = expect(expect(categories.get("label", {}), dict, f"{where}: categories.label").get("labels", []),
                        list, f"{where}: categories.label.labels")
    colors = {}
    for entry in expect(categories.get("mask", {}), dict, f"{where}: categories.mask").get("colormap", []):
        entry = expect(entry, dict, f"{where}: categories.mask.colormap")
        colors[entry.get("label_id")] = hex_color((entry.get("r", 0), entry.get("g", 0), entry.get("b", 0)))
    return [labels.add(expect(label, dict, f"{where}: label {i}").get("name"), f"{where}: label {i}", colors.get(i))
            for i, label in enumerate(label_list)]


def _categories_json(labels: LabelSet) -> dict[str, Any]:
    categories: dict[str, Any] = {"label": {"labels": [{"name": n, "parent": "", "attributes": []}
                                                       for n in labels.names()],
                                            "label_groups": [], "attributes": []}}
    colormap = [{"label_id": i, **dict(zip("rgb", rgb_color(label.color), strict=True))}
                for i, label in enumerate(labels.labels()) if label.color]
    if colormap:
        categories["mask"] = {"colormap": colormap}
    return categories


def _annotation_json(number: int, label: int, shape: dict[str, Any]) -> dict[str, Any]:
    annotation = {"id": number, "type": _TYPES[shape["type"]], "attributes": {}, "group": 0, "label_id": label}
    if shape["type"] == "rectangle":
        annotation.update(bbox=list(bounds(shape)), z_order=0)
    elif shape["type"] == "polygon":
        annotation.update(points=flat_points(shape), z_order=0)
    return annotation


def _item(root: Path, subset_dir: str, raw: dict[str, Any], index: list[str], names: UniqueNames,
          warnings: list[str], where: str) -> ExchangeItem:
    item_id = expect(raw.get("id"), str, f"{where}: id")
    image = expect(raw.get("image", {}), dict, f"{where}: image")
    file_name = expect(image.get("path") or f"{item_id}.jpg", str, f"{where}: image.path")
    path = inside(root, f"images/{subset_dir}/{file_name}", where)
    if not path.is_file() and inside(root, f"images/{file_name}", where).is_file():
        path = root / "images" / file_name
    size = probe_image(root, path)
    declared = image.get("size") or [0, 0]
    check_size(f"{where} ({item_id})", size, (declared[1], declared[0]) if len(declared) == 2 else (0, 0))
    annotations = []
    for n, annotation in enumerate(expect(raw.get("annotations", []), list, f"{where}: annotations")):
        converted = _annotation(expect(annotation, dict, f"{where}: annotation {n}"), index, size,
                                f"{where} ({item_id}): annotation {n}", warnings)
        annotations.extend(converted)
    subset = subset_of(subset_dir)
    return ExchangeItem(name=names.claim(file_name, subset_dir), load_bytes=loader(path), width=size[0],
                        height=size[1], subset=subset, annotations=merge(annotations), annotated=bool(annotations))


def _annotation(raw: dict[str, Any], index: list[str], size: tuple[int, int], where: str,
                warnings: list[str]) -> list[ExchangeAnnotation]:
    kind = raw.get("type")
    if kind not in ("bbox", "polygon", "label"):
        warnings.append(f"{where}: a {kind!r} annotation was skipped (only bbox, polygon and label are read).")
        return []
    label_id = raw.get("label_id")
    if not isinstance(label_id, int) or isinstance(label_id, bool) or not 0 <= label_id < len(index):
        raise InvalidDatasetError(f"{where}: label_id {label_id!r} is not one of the {len(index)} labels.")
    labels = [index[label_id]]
    if kind == "label":
        return [ExchangeAnnotation(labels, full_image())]
    if kind == "polygon":
        return [ExchangeAnnotation(labels, polygon(expect(raw.get("points"), list, f"{where}: points"), size, where))]
    bbox = raw.get("bbox")
    if not isinstance(bbox, list) or len(bbox) != 4:
        raise InvalidDatasetError(f"{where}: bbox should be [x, y, width, height], not {bbox!r}.")
    return [ExchangeAnnotation(labels, rectangle(bbox[0], bbox[1], bbox[2], bbox[3], size, where))]
