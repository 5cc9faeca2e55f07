"""YOLO (Darknet / Ultralytics): class names + `images/<subset>/x.jpg` + `labels/<subset>/x.txt`.

A label line is `class cx cy w h` (a box) or `class x1 y1 x2 y2 ...` (a YOLO-seg polygon), all
normalised to 0..1 by the image size. Names come from `data.yaml` (`names` as a list or a
mapping), else `obj.names` or `classes.txt`, one per line. Reading also accepts Roboflow's
`<subset>/images` + `<subset>/labels` and Darknet's `obj_<subset>_data/` with labels beside the
images. An image with a label file (even empty) is annotated; one without is not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from adapters.formats.common import (
    SUBSET_DIRS,
    FileNamer,
    LabelSet,
    UniqueNames,
    dataset_of,
    image_files,
    is_subset_dir,
    loader,
    probe_image,
    read_text,
    rel,
    size_of,
    subset_of,
    write_file,
)
from adapters.formats.shapes import merge, per_label, polygon, rectangle
from application.ports.dataset_formats import (
    DatasetFormat,
    ExchangeAnnotation,
    ExchangeDataset,
    ExchangeItem,
    InvalidDatasetError,
    UnsupportedContentError,
)

NAME_FILES = ("data.yaml", "data.yml", "obj.names", "classes.txt")
MAX_YAML_NODES = 100_000


class YoloFormat(DatasetFormat):
    """Boxes and polygons, normalised; no image-level labels."""

    name = "yolo"
    shapes = frozenset({"rectangle", "polygon"})
    looks_for = "data.yaml or obj.names with images/<subset>/ and labels/<subset>/"

    def detect(self, root: Path) -> bool:
        return any((root / f).is_file() for f in NAME_FILES) and next(image_files(root), None) is not None

    def read(self, root: Path) -> ExchangeDataset:
        labels, names, items, warnings = LabelSet(), UniqueNames(), [], list[str]()
        class_names = [labels.add(_text(n), _names_file(root)) for n in _class_names(root)]
        used_labels: set[Path] = set()
        for path in image_files(root):
            if "labels" in path.relative_to(root).parts[:-1]:
                continue
            label_file = _label_file(path, root)
            name, subset_dir = _name_and_subset(path.relative_to(root))
            size = probe_image(root, path)
            annotations = []
            if label_file is not None:
                annotations = _read_labels(root, label_file, class_names, size)
                used_labels.add(label_file)
            items.append(ExchangeItem(name=names.claim(name, subset_dir), load_bytes=loader(path), width=size[0],
                                      height=size[1], subset=subset_of(subset_dir) if subset_dir else None,
                                      annotations=merge(annotations), annotated=label_file is not None))
        orphans = [p for p in sorted(root.rglob("*.txt")) if "labels" in p.relative_to(root).parts and p not in used_labels]
        warnings.extend(f"{rel(root, p)} has no image and was skipped." for p in orphans)
        return dataset_of(labels, items, warnings)

    def write(self, dataset: ExchangeDataset, root: Path) -> None:
        namer, labels, subsets = FileNamer(), LabelSet(dataset.labels), set()
        for item in dataset.items:
            data = item.load_bytes()
            file_name, subset_dir = namer.claim(item.name, data), SUBSET_DIRS.get(item.subset, "default")
            subsets.add(subset_dir)
            write_file(root / "images" / subset_dir / file_name, data)
            if item.annotated or item.annotations:
                lines = [_line(labels.index(label), shape, size_of(item, data), item.name)
                         for label, shape in per_label(item.annotations)]
                text = "".join(f"{line}\n" for line in lines)
                write_file(root / "labels" / subset_dir / f"{Path(file_name).stem}.txt", text.encode())
        names = labels.names()
        config: dict[str, Any] = {"path": ".", **{s: f"images/{s}" for s in sorted(subsets)},
                                  "nc": len(names), "names": dict(enumerate(names))}
        write_file(root / "data.yaml", yaml.safe_dump(config, sort_keys=False, allow_unicode=True).encode())
        write_file(root / "obj.names", "".join(f"{n}\n" for n in names).encode())


def _text(name: Any) -> Any:
    """YAML reads a class named 7 or 1.5 as a number; it is still a name."""
    return str(name) if isinstance(name, int | float) and not isinstance(name, bool) else name


def _fmt(value: float) -> str:
    return f"{value:.8f}".rstrip("0").rstrip(".")


def _line(index: int, shape: dict[str, Any], size: tuple[int, int], item: str) -> str:
    width, height = size
    if shape["type"] == "rectangle":
        x, y, w, h = shape["x"], shape["y"], shape["width"], shape["height"]
        values = [(x + w / 2) / width, (y + h / 2) / height, w / width, h / height]
    elif shape["type"] == "polygon":
        values = [v for p in shape["points"] for v in (p["x"] / width, p["y"] / height)]
    else:
        raise UnsupportedContentError(f"The item {item!r} has a {shape['type']} annotation, which YOLO cannot hold.")
    return " ".join([str(index), *map(_fmt, values)])


def _names_file(root: Path) -> str:
    return next((f for f in NAME_FILES if (root / f).is_file()), NAME_FILES[0])


def _class_names(root: Path) -> list[Any]:
    file = _names_file(root)
    text = read_text(root, root / file)
    if not file.endswith((".yaml", ".yml")):
        return [line.strip() for line in text.splitlines() if line.strip()]
    doc = _load_yaml(text, file)
    names = doc.get("names") if isinstance(doc, dict) else None
    if isinstance(names, dict) and all(isinstance(k, int) for k in names):
        if sorted(names) != list(range(len(names))):
            raise InvalidDatasetError(f"{file}: the class numbers in 'names' should run 0..{len(names) - 1}.")
        return [names[i] for i in range(len(names))]
    if not isinstance(names, list):
        raise InvalidDatasetError(f"{file}: 'names' should be a list of class names or a mapping from 0, 1, ...")
    return names


class _SafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases (alias bombs) and caps the number of nodes."""

    nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent) or getattr(self.peek_event(), "anchor", None):
            raise InvalidDatasetError("YAML anchors and aliases are not allowed.")
        self.nodes += 1
        if self.nodes > MAX_YAML_NODES:
            raise InvalidDatasetError(f"it has more than {MAX_YAML_NODES} YAML nodes.")
        return super().compose_node(parent, index)


def _load_yaml(text: str, file: str) -> Any:
    try:
        return yaml.load(text, Loader=_SafeLoader)
    except InvalidDatasetError as error:
        raise InvalidDatasetError(f"{file}: {error.detail}") from None
    except yaml.YAMLError as error:
        raise InvalidDatasetError(f"{file} is not valid YAML: {getattr(error, 'problem', None) or error}.") from None


def _label_file(image: Path, root: Path) -> Path | None:
    parts = list(image.relative_to(root).parts)
    candidates = [image.with_suffix(".txt")]
    if "images" in parts[:-1]:
        at = len(parts) - 2 - parts[-2::-1].index("images")
        parts[at] = "labels"
        candidates.insert(0, (root / Path(*parts)).with_suffix(".txt"))
    return next((c for c in candidates if c.is_file()), None)


def _name_and_subset(relative: Path) -> tuple[str, str | None]:
    """The item name (below images/ and the subset folder) and the subset folder's name."""
    folders = relative.parts[:-1]
    cut, subset_dir = -1, None
    for index, folder in enumerate(folders):
        if folder == "images" or is_subset_dir(folder):
            cut = index
            subset_dir = folder if is_subset_dir(folder) else subset_dir
    return "/".join(relative.parts[cut + 1:]), subset_dir


def _read_labels(root: Path, file: Path, class_names: list[str], size: tuple[int, int]) -> list[ExchangeAnnotation]:
    annotations = []
    for number, line in enumerate(read_text(root, file).splitlines(), start=1):
        tokens, where = line.split(), f"{rel(root, file)}: line {number}"
        if not tokens:
            continue
        if not tokens[0].isdigit() or int(tokens[0]) >= len(class_names):
            raise InvalidDatasetError(f"{where}: class {tokens[0]!r} is not one of the {len(class_names)} class names.")
        label, values = class_names[int(tokens[0])], _floats(tokens[1:], where)
        annotations.append(ExchangeAnnotation([label], _shape(values, size, where)))
    return annotations


def _floats(tokens: list[str], where: str) -> list[float]:
    try:
        return [float(t) for t in tokens]
    except ValueError:
        raise InvalidDatasetError(f"{where}: {' '.join(tokens)!r} are not numbers.") from None


def _shape(values: list[float], size: tuple[int, int], where: str) -> dict[str, Any]:
    width, height = size
    if len(values) == 4:
        cx, cy, w, h = values
        return rectangle((cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height, size, where)
    if len(values) >= 6 and len(values) % 2 == 0:
        return polygon([v * (width if i % 2 == 0 else height) for i, v in enumerate(values)], size, where)
    raise InvalidDatasetError(f"{where}: expected 'class cx cy w h' or a polygon 'class x1 y1 x2 y2 x3 y3 ...'.")

