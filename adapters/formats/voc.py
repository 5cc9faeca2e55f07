"""Pascal VOC: `Annotations/<id>.xml`, `JPEGImages/`, `ImageSets/Main/<subset>.txt`, `labelmap.txt`.

Coordinates: VOC corners are 1-based pixel indices, both inclusive (the devkit's convention), so
a box over the whole of a 640-wide image runs from xmin=1 to xmax=640. Viewfinder's continuous
coordinates put that box at x=0, width=640: x = xmin - 1, width = xmax - xmin + 1, and back.
Files written by 0-based tools come out one pixel off at most and are clamped to the image.
Image-level labels (classification) use `ImageSets/Main/<label>_<subset>.txt` (`<id> 1|-1`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

from adapters.formats.common import (
    SUBSET_DIRS,
    FileNamer,
    LabelSet,
    UniqueNames,
    dataset_of,
    image_files,
    loader,
    probe_image,
    read_text,
    rel,
    size_of,
    subset_of,
    write_file,
)
from adapters.formats.shapes import full_image, merge
from adapters.formats.voc_files import (
    image_set_lists,
    object_annotations,
    parse_xml,
    xml_document,
)
from application.ports.dataset_formats import (
    DatasetFormat,
    ExchangeAnnotation,
    ExchangeDataset,
    ExchangeItem,
    InvalidDatasetError,
    UnsupportedContentError,
)


class VocFormat(DatasetFormat):
    """Boxes per image in XML, image subsets and image-level labels in lists."""

    name = "voc"
    shapes = frozenset({"rectangle", "full_image"})
    looks_for = "JPEGImages/ with Annotations/*.xml or ImageSets/Main/*.txt"

    def detect(self, root: Path) -> bool:
        return (root / "JPEGImages").is_dir() and ((root / "Annotations").is_dir() or (root / "ImageSets/Main").is_dir())

    def read(self, root: Path) -> ExchangeDataset:
        reader = _Reader(root)
        return dataset_of(reader.labels, [reader.item(item_id) for item_id in reader.ids()], [])

    def write(self, dataset: ExchangeDataset, root: Path) -> None:
        namer, labels = FileNamer(), LabelSet(dataset.labels)
        members: dict[str, list[str]] = defaultdict(list)
        judged: dict[str, dict[str, set[str]]] = defaultdict(dict)  # subset → id → positive labels
        for item in dataset.items:
            data = item.load_bytes()
            file_name, subset_dir = namer.claim(item.name, data), SUBSET_DIRS.get(item.subset, "default")
            item_id = Path(file_name).stem
            write_file(root / "JPEGImages" / file_name, data)
            members[subset_dir].append(item_id)
            if item.annotated or item.annotations:
                boxes, positives = _split(item, labels)
                write_file(root / "Annotations" / f"{item_id}.xml", xml_document(file_name, size_of(item, data), boxes))
                judged[subset_dir][item_id] = positives
        for subset_dir, ids in members.items():
            write_file(root / "ImageSets/Main" / f"{subset_dir}.txt", "".join(f"{i}\n" for i in ids).encode())
        if any(p for ids in judged.values() for p in ids.values()):
            _write_classification(root, labels.names(), judged)
        _write_labelmap(root, labels)


def _split(item: ExchangeItem, labels: LabelSet) -> tuple[list[tuple[str, dict]], set[str]]:
    boxes, positives = [], set()
    for annotation in item.annotations:
        kind = annotation.shape["type"]
        if kind not in VocFormat.shapes:
            raise UnsupportedContentError(f"The item {item.name!r} has a {kind} annotation, which VOC cannot hold.")
        for label in annotation.labels:
            labels.index(label)
            if kind == "full_image":
                positives.add(label)
            else:
                boxes.append((label, annotation.shape))
    return boxes, positives


class _Reader:
    """Reads the items of one VOC folder: XML boxes, list subsets and image-level labels."""

    def __init__(self, root: Path) -> None:
        self.root, self.names = root, UniqueNames()
        self.labels, self.strict = _labelmap(root)
        self.lists = image_set_lists(root, self.labels, self.strict)
        images_dir, xml_dir = root / "JPEGImages", root / "Annotations"
        self.images = {p.relative_to(images_dir).with_suffix("").as_posix(): p for p in image_files(images_dir)}
        self.xmls = {p.relative_to(xml_dir).with_suffix("").as_posix(): p
                     for p in sorted(xml_dir.rglob("*.xml"))} if xml_dir.is_dir() else {}

    def ids(self) -> list[str]:
        return list(dict.fromkeys([*self.xmls, *self.lists.subsets, *self.lists.positives, *self.images]))

    def item(self, item_id: str) -> ExchangeItem:
        xml = self.xmls.get(item_id)
        document = parse_xml(self.root, xml) if xml is not None else None
        path = self._image(item_id, document, rel(self.root, xml) if xml is not None else "ImageSets/Main")
        size = probe_image(self.root, path)
        annotations: list[ExchangeAnnotation] = []
        if xml is not None and document is not None:
            annotations = object_annotations(rel(self.root, xml), document, size, self.labels, self.strict)
        positives = self.lists.positives.get(item_id)
        if positives:
            order = self.labels.names()
            annotations.append(ExchangeAnnotation(sorted(positives, key=order.index), full_image()))
        subset_dir = self.lists.subsets.get(item_id)
        name = self.names.claim(path.relative_to(self.root / "JPEGImages").as_posix(), subset_dir)
        return ExchangeItem(name=name, load_bytes=loader(path), width=size[0], height=size[1],
                            subset=subset_of(subset_dir) if subset_dir else None, annotations=merge(annotations),
                            annotated=document is not None or item_id in self.lists.judged)

    def _image(self, item_id: str, document: ET.Element | None, where: str) -> Path:
        """The XML's <filename> in JPEGImages, else the image whose name is the id."""
        file_name = (document.findtext("filename") or "").strip() if document is not None else ""
        path = self.root / "JPEGImages" / file_name if file_name and "/" not in file_name else None
        if path is None or not path.is_file():
            path = self.images.get(item_id)
        if path is None:
            raise InvalidDatasetError(f"{where}: the image {item_id!r} is missing from JPEGImages.")
        return path


def _labelmap(root: Path) -> tuple[LabelSet, bool]:
    """Labels from labelmap.txt (`name:r,g,b:parts:actions`); without it, labels as found."""
    labels, file = LabelSet(), root / "labelmap.txt"
    if not file.is_file():
        return labels, False
    for number, line in enumerate(read_text(root, file).splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, rest = line.partition(":")
        if name.strip() == "background" and not labels.names():
            continue  # VOC's implicit class 0, not a label
        color = _color(rest.partition(":")[0], f"labelmap.txt: line {number}")
        labels.add(name.strip(), f"labelmap.txt: line {number}", color)
    return labels, True


def _color(text: str, where: str) -> str | None:
    if not text.strip():
        return None
    try:
        red, green, blue = (int(v) for v in text.split(","))
    except ValueError:
        raise InvalidDatasetError(f"{where}: the colour {text!r} should be r,g,b.") from None
    if not all(0 <= v <= 255 for v in (red, green, blue)):
        raise InvalidDatasetError(f"{where}: the colour {text!r} has a value outside 0..255.")
    return f"#{red:02x}{green:02x}{blue:02x}"


def _write_classification(root: Path, names: list[str], judged: dict[str, dict[str, set[str]]]) -> None:
    for name in names:
        if any(c in name for c in "/\\\x00") or name.startswith("."):
            raise UnsupportedContentError(f"The label {name!r} cannot name a VOC ImageSets file.")
        for subset_dir, ids in judged.items():
            lines = "".join(f"{i} {1 if name in positives else -1}\n" for i, positives in ids.items())
            write_file(root / "ImageSets/Main" / f"{name}_{subset_dir}.txt", lines.encode())


def _write_labelmap(root: Path, labels: LabelSet) -> None:
    lines = ["# label:color_rgb:parts:actions"]
    for label in labels.labels():
        if ":" in label.name or "\n" in label.name:
            raise UnsupportedContentError(f"The label {label.name!r} cannot be written to VOC's labelmap.txt.")
        color = label.color or ""
        rgb = ",".join(str(int(color[i:i + 2], 16)) for i in (1, 3, 5)) if color else ""
        lines.append(f"{label.name}:{rgb}::")
    write_file(root / "labelmap.txt", "".join(f"{line}\n" for line in lines).encode())
