"""COCO: `annotations/instances_<subset>.json` (or one `annotations.json`) + `images/<subset>/...`.

Boxes are `bbox` [x, y, width, height] in pixels; polygons are `segmentation` [[x1, y1, ...]].
A label on the whole image (classification) is an annotation with neither bbox nor segmentation,
as Datumaro's `coco_labels` writes it. RLE masks are read as their boxes, with a warning.
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
    inside,
    loader,
    probe_image,
    read_json,
    rel,
    size_of,
    subset_of,
    write_file,
    write_json,
)
from adapters.formats.shapes import (
    area,
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

PREFIX = "instances_"


class CocoFormat(DatasetFormat):
    """COCO instances (detection and polygon segmentation), plus image-level labels."""

    name = "coco"
    shapes = frozenset({"rectangle", "polygon", "full_image"})
    looks_for = "annotations/instances_<subset>.json or annotations.json"

    def detect(self, root: Path) -> bool:
        return bool(_annotation_files(root))

    def read(self, root: Path) -> ExchangeDataset:
        labels, names, items, warnings = LabelSet(), UniqueNames(), [], list[str]()
        for file in _annotation_files(root):
            subset_dir = file.stem[len(PREFIX):] if file.stem.startswith(PREFIX) else None
            reader = _FileReader(root, file, subset_dir, labels, warnings)
            items.extend(reader.items(names))
        return dataset_of(labels, items, warnings)

    def write(self, dataset: ExchangeDataset, root: Path) -> None:
        namer, labels = FileNamer(), LabelSet(dataset.labels)
        docs: dict[str, dict[str, list[Any]]] = defaultdict(lambda: {"images": [], "annotations": []})
        next_annotation = 1
        for image_id, item in enumerate(dataset.items, start=1):
            data = item.load_bytes()
            file_name, subset_dir = namer.claim(item.name, data), SUBSET_DIRS.get(item.subset, "default")
            write_file(root / "images" / subset_dir / file_name, data)
            width, height = size_of(item, data)
            doc = docs[subset_dir]
            doc["images"].append({"id": image_id, "file_name": file_name, "width": width, "height": height})
            for label, shape in per_label(item.annotations):
                annotation = {"id": next_annotation, "image_id": image_id, "category_id": labels.index(label) + 1}
                doc["annotations"].append({**annotation, **_geometry(shape)})
                next_annotation += 1
        categories = [{"id": i + 1, "name": name, "supercategory": ""} for i, name in enumerate(labels.names())]
        for subset_dir, doc in (docs or {"default": {"images": [], "annotations": []}}).items():
            write_json(root / "annotations" / f"{PREFIX}{subset_dir}.json",
                       {"info": {"description": "Exported by Viewfinder"}, "licenses": [],
                        "categories": categories, **doc})


def _annotation_files(root: Path) -> list[Path]:
    files = sorted((root / "annotations").glob(f"{PREFIX}*.json")) if (root / "annotations").is_dir() else []
    return files or ([root / "annotations.json"] if (root / "annotations.json").is_file() else [])


def _geometry(shape: dict[str, Any]) -> dict[str, Any]:
    if shape["type"] == "full_image":
        return {}
    segmentation = [flat_points(shape)] if shape["type"] == "polygon" else []
    return {"bbox": list(bounds(shape)), "area": area(shape), "segmentation": segmentation, "iscrowd": 0}


class _FileReader:
    """Reads one COCO annotation file into items of one subset."""

    def __init__(self, root: Path, file: Path, subset_dir: str | None, labels: LabelSet, warnings: list[str]):
        self.root, self.file, self.subset_dir, self.warnings = root, file, subset_dir, warnings
        self.where = rel(root, file)
        self.doc = expect(read_json(root, file), dict, self.where)
        self.categories: dict[Any, str] = {}
        for i, category in enumerate(expect(self.doc.get("categories", []), list, f"{self.where}: categories")):
            category = expect(category, dict, f"{self.where}: category {i}")
            self.categories[category.get("id")] = labels.add(category.get("name"), f"{self.where}: category {i}")

    def items(self, names: UniqueNames) -> list[ExchangeItem]:
        by_image: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for i, annotation in enumerate(expect(self.doc.get("annotations", []), list, f"{self.where}: annotations")):
            by_image[expect(annotation, dict, f"{self.where}: annotation {i}").get("image_id")].append(annotation)
        items, seen = [], set()
        for i, image in enumerate(expect(self.doc.get("images", []), list, f"{self.where}: images")):
            where = f"{self.where}: image {i}"
            image = expect(image, dict, where)
            if image.get("id") in seen:
                raise InvalidDatasetError(f"{where}: the image id {image.get('id')!r} appears twice.")
            seen.add(image.get("id"))
            items.append(self._item(image, by_image.pop(image.get("id"), []), names, where))
        if by_image:
            orphan = next(iter(by_image))
            raise InvalidDatasetError(f"{self.where}: annotations refer to image id {orphan!r}, which is not in 'images'.")
        return items

    def _item(self, image: dict[str, Any], raw: list[dict[str, Any]], names: UniqueNames, where: str) -> ExchangeItem:
        file_name = expect(image.get("file_name"), str, f"{where}: file_name")
        path = self._find(file_name, where)
        size = probe_image(self.root, path)
        check_size(f"{where} ({file_name})", size, (image.get("width"), image.get("height")))
        annotations = merge([a for n, r in enumerate(raw) for a in self._annotations(r, size, f"{where} ({file_name}): annotation {n}")])
        subset = subset_of(self.subset_dir) if self.subset_dir else None
        return ExchangeItem(name=names.claim(file_name.replace("\\", "/"), self.subset_dir), load_bytes=loader(path),
                            width=size[0], height=size[1], subset=subset, annotations=annotations,
                            annotated=bool(annotations))

    def _find(self, file_name: str, where: str) -> Path:
        inside(self.root, file_name, where)  # refuses '..' and absolute names before any lookup
        folders = ["images", "."] if self.subset_dir is None else [f"images/{self.subset_dir}", "images", self.subset_dir, "."]
        candidates = [inside(self.root, f"{folder}/{file_name}", where) for folder in folders]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise InvalidDatasetError(f"{where}: the image {rel(self.root, candidates[0])} is missing.")
        return found

    def _annotations(self, raw: dict[str, Any], size: tuple[int, int], where: str) -> list[ExchangeAnnotation]:
        category = raw.get("category_id")
        if category not in self.categories:
            raise InvalidDatasetError(f"{where}: category_id {category!r} is not one of the file's categories.")
        labels = [self.categories[category]]
        segmentation, bbox = raw.get("segmentation"), raw.get("bbox")
        if isinstance(segmentation, list) and segmentation:
            parts = segmentation if isinstance(segmentation[0], list) else [segmentation]
            return [ExchangeAnnotation(labels, polygon(part, size, where)) for part in parts]
        if isinstance(segmentation, dict):
            self.warnings.append(f"{where}: an RLE mask was read as its bounding box.")
        if bbox is not None:
            if not isinstance(bbox, list) or len(bbox) != 4:
                raise InvalidDatasetError(f"{where}: bbox should be [x, y, width, height], not {bbox!r}.")
            return [ExchangeAnnotation(labels, rectangle(bbox[0], bbox[1], bbox[2], bbox[3], size, where))]
        return [ExchangeAnnotation(labels, full_image())]
