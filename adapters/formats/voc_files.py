"""The files of a Pascal VOC dataset: annotation XML (1-based corners) and ImageSets lists."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.formats.common import LabelSet, check_size, is_subset_dir, read_text, rel
from adapters.formats.shapes import number, rectangle
from application.ports.dataset_formats import ExchangeAnnotation, InvalidDatasetError

MAX_XML_BYTES = 16 * 1024**2
_CORNERS = ("xmin", "ymin", "xmax", "ymax")


@dataclass
class Lists:
    """What ImageSets/Main says: each id's subset folder and its image-level labels."""

    subsets: dict[str, str] = field(default_factory=dict)
    positives: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    judged: set[str] = field(default_factory=set)


def image_set_lists(root: Path, labels: LabelSet, strict: bool) -> Lists:
    """Read `<subset>.txt` (ids) and `<label>_<subset>.txt` (`<id> 1|0|-1`); ignore other lists."""
    lists, main = Lists(), root / "ImageSets/Main"
    for file in sorted(main.glob("*.txt")) if main.is_dir() else []:
        label, sep, subset_dir = file.stem.rpartition("_")
        lines = [line.split() for line in read_text(root, file).splitlines() if line.strip()]
        if is_subset_dir(file.stem):
            for tokens in lines:
                lists.subsets.setdefault(tokens[0], file.stem)
        elif sep and label and is_subset_dir(subset_dir):
            _check_label(label, labels, strict, rel(root, file))
            for number_, tokens in enumerate(lines, start=1):
                if len(tokens) != 2 or tokens[1] not in ("1", "0", "-1"):
                    raise InvalidDatasetError(f"{rel(root, file)}: line {number_} should be '<id> 1', '<id> 0' or '<id> -1'.")
                lists.judged.add(tokens[0])
                lists.subsets.setdefault(tokens[0], subset_dir)
                if tokens[1] == "1":
                    lists.positives[tokens[0]].add(label)
    return lists


def _check_label(name: str, labels: LabelSet, strict: bool, where: str) -> None:
    if strict and name not in labels:
        raise InvalidDatasetError(f"{where}: the label {name!r} is not in labelmap.txt.")
    labels.add(name, where)


def parse_xml(root: Path, path: Path) -> ET.Element:
    """An annotation XML, refusing DOCTYPEs and entities (no entity expansion, no external files)."""
    where = rel(root, path)
    if path.stat().st_size > MAX_XML_BYTES:
        raise InvalidDatasetError(f"{where} is larger than {MAX_XML_BYTES // 1024**2} MB.")
    text = read_text(root, path)
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise InvalidDatasetError(f"{where} declares a DOCTYPE or entities, which are not accepted.")
    try:
        document = ET.fromstring(text)
    except ET.ParseError as error:
        raise InvalidDatasetError(f"{where} is not valid XML: {error}.") from None
    if document.tag != "annotation":
        raise InvalidDatasetError(f"{where}: the root element should be <annotation>, not <{document.tag}>.")
    return document


def object_annotations(where: str, document: ET.Element, size: tuple[int, int],
                       labels: LabelSet, strict: bool) -> list[ExchangeAnnotation]:
    """The <object> boxes of one annotation XML, converted from 1-based inclusive corners."""
    declared = (_int(document.findtext("size/width")), _int(document.findtext("size/height")))
    check_size(where, size, declared)
    annotations = []
    for index, element in enumerate(document.findall("object")):
        at = f"{where}: object {index}"
        name = (element.findtext("name") or "").strip()
        _check_label(name, labels, strict, at)
        texts = [element.findtext(f"bndbox/{corner}") or "" for corner in _CORNERS]
        if not all(texts):
            raise InvalidDatasetError(f"{at}: <bndbox> needs xmin, ymin, xmax and ymax.")
        try:
            xmin, ymin, xmax, ymax = (float(text) for text in texts)
        except ValueError:
            raise InvalidDatasetError(f"{at}: the corners {texts} are not numbers.") from None
        shape = rectangle(xmin - 1, ymin - 1, xmax - xmin + 1, ymax - ymin + 1, size, at)
        annotations.append(ExchangeAnnotation([name], shape))
    return annotations


def _int(text: str | None) -> int:
    try:
        return int(float(text or 0))
    except ValueError:
        return 0


def xml_document(file_name: str, size: tuple[int, int], boxes: list[tuple[str, dict[str, Any]]]) -> bytes:
    """An annotation XML with 1-based inclusive corners: xmin = x + 1, xmax = x + width."""
    annotation = ET.Element("annotation")
    _add(annotation, "folder", "JPEGImages")
    _add(annotation, "filename", file_name)
    size_element = _add(annotation, "size")
    for tag, dimension in (("width", size[0]), ("height", size[1]), ("depth", 3)):
        _add(size_element, tag, str(dimension))
    _add(annotation, "segmented", "0")
    for label, shape in boxes:
        element = _add(annotation, "object")
        for tag, value in (("name", label), ("pose", "Unspecified"), ("truncated", "0"), ("difficult", "0")):
            _add(element, tag, value)
        box = _add(element, "bndbox")
        corners = (shape["x"] + 1, shape["y"] + 1, shape["x"] + shape["width"], shape["y"] + shape["height"])
        for tag, value in zip(_CORNERS, corners, strict=True):
            _add(box, tag, str(number(value)))
    ET.indent(annotation)
    return ET.tostring(annotation, encoding="unicode").encode() + b"\n"


def _add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element
