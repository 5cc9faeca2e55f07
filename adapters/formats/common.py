"""Files, names, subsets and labels shared by the format readers and writers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from adapters.media.image_headers import (
    ImageHeaderError,
    detect_format,
    read_dimensions,
)
from application.ports.dataset_formats import (
    ExchangeDataset,
    ExchangeItem,
    ExchangeLabel,
    InvalidDatasetError,
    guess_task_type,
)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
MAX_TEXT_BYTES = 256 * 1024**2
_PROBE_BYTES = 256 * 1024
_SUBSET_ALIASES = {
    "train": "training", "training": "training",
    "val": "validation", "valid": "validation", "validation": "validation",
    "test": "testing", "testing": "testing",
}
SUBSET_DIRS: dict[str | None, str] = {"training": "train", "validation": "val", "testing": "test"}
"""The folder or file name each subset gets on export; 'default' holds all other items."""
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def subset_of(name: str) -> str | None:
    """'train', 'train2017', 'obj_train_data', 'valid' … → a Viewfinder subset; others → None."""
    key = re.sub(r"^obj_|_data$|[\d_-]+$", "", name.lower())
    return _SUBSET_ALIASES.get(key)


def is_subset_dir(name: str) -> bool:
    """A folder or list named after a subset, or 'default' (the unassigned items)."""
    return name.lower() == "default" or subset_of(name) is not None


def is_visible(path: Path) -> bool:
    """False for hidden files and the junk archivers add (__MACOSX, .DS_Store)."""
    return not any(part.startswith(".") or part == "__MACOSX" for part in path.parts)


def image_files(folder: Path) -> Iterator[Path]:
    """Image files under a folder, in a stable order, skipping hidden files and links."""
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            visible = is_visible(path.relative_to(folder))
            if path.suffix.lower() in IMAGE_SUFFIXES and visible and path.is_file() and not path.is_symlink():
                yield path


def rel(root: Path, path: Path) -> str:
    """A path as messages show it: relative to the dataset, never the server's folders."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def inside(root: Path, relative: str, where: str) -> Path:
    """root/relative, refusing names that climb out of the dataset (.., absolute, links)."""
    if not relative or "\x00" in relative or relative.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", relative):
        raise InvalidDatasetError(f"{where}: the file name {relative!r} points outside the dataset.")
    path = root / relative.replace("\\", "/")
    if not path.resolve().is_relative_to(root.resolve()):
        raise InvalidDatasetError(f"{where}: the file name {relative!r} points outside the dataset.")
    return path


def read_text(root: Path, path: Path) -> str:
    """A text file's content (UTF-8, BOM allowed), refusing huge or undecodable files."""
    if path.stat().st_size > MAX_TEXT_BYTES:
        raise InvalidDatasetError(f"{rel(root, path)} is larger than {MAX_TEXT_BYTES // 1024**2} MB.")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidDatasetError(f"{rel(root, path)} is not UTF-8 text.") from None


def read_json(root: Path, path: Path) -> Any:
    """A JSON document, or an InvalidDatasetError naming the file, line and column."""
    try:
        return json.loads(read_text(root, path))
    except json.JSONDecodeError as error:
        detail = f"{rel(root, path)} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        raise InvalidDatasetError(detail) from None


def write_json(path: Path, document: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")


def write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def loader(path: Path) -> Callable[[], bytes]:
    """Loads the file's bytes when called, unchanged."""
    return path.read_bytes


def probe_image(root: Path, path: Path) -> tuple[int, int]:
    """(width, height) from the image's header; InvalidDatasetError if missing or not an image."""
    if not path.is_file():
        raise InvalidDatasetError(f"The image {rel(root, path)} is missing.")
    with path.open("rb") as file:
        head = file.read(_PROBE_BYTES)
    fmt = detect_format(head)
    if fmt is None:
        raise InvalidDatasetError(f"{rel(root, path)} is not a JPEG, PNG, BMP, TIFF or WebP image.")
    try:
        try:
            return read_dimensions(fmt, head)
        except ImageHeaderError:  # the size lies beyond the first bytes (e.g. large EXIF)
            return read_dimensions(fmt, path.read_bytes())
    except ImageHeaderError as error:
        raise InvalidDatasetError(f"The image {rel(root, path)} is broken: {error}.") from None


def check_size(where: str, actual: tuple[int, int], declared: tuple[Any, Any]) -> None:
    """Refuse annotations made for another size than the image has (0 or missing: unknown)."""
    if all(declared) and tuple(declared) != actual:
        raise InvalidDatasetError(
            f"{where}: the image is {actual[0]}x{actual[1]} but the annotations declare "
            f"{declared[0]}x{declared[1]}.")


class UniqueNames:
    """Makes item names unique when several subsets hold files of the same name."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def claim(self, name: str, subset_dir: str | None = None) -> str:
        candidate = name if name not in self._taken or not subset_dir else f"{subset_dir}/{name}"
        base, counter = candidate, 1
        while candidate in self._taken:
            stem, dot, suffix = base.rpartition(".")
            candidate = f"{stem}_{counter}.{suffix}" if dot else f"{base}_{counter}"
            counter += 1
        self._taken.add(candidate)
        return candidate


class FileNamer:
    """Gives exported images flat, unique file names (unique stems) with an image suffix."""

    def __init__(self) -> None:
        self._stems: set[str] = set()

    def claim(self, name: str, data: bytes) -> str:
        fmt = detect_format(data)
        if fmt is None:
            raise InvalidDatasetError(f"The item {name!r} is not a JPEG, PNG, BMP, TIFF or WebP image.")
        parts = [part for part in re.split(r"[/\\]", name) if part not in ("", ".", "..")]
        flat = re.sub(r"[\x00-\x1f:]", "_", "_".join(parts)).lstrip(". ") or "image"
        suffix = Path(flat).suffix
        stem = flat[: -len(suffix)] if suffix else flat
        if suffix.lower() not in IMAGE_SUFFIXES:  # no suffix, or a dot inside the name
            stem, suffix = flat, f".{fmt}"
        base, stem, counter = stem[:200], stem[:200], 1
        while stem.casefold() in self._stems:
            stem, counter = f"{base}_{counter}", counter + 1
        self._stems.add(stem.casefold())
        return stem + suffix


class LabelSet:
    """The labels a reader meets, in order; a writer's index of label names."""

    def __init__(self, labels: list[ExchangeLabel] | None = None) -> None:
        self._labels: dict[str, ExchangeLabel] = {}
        for label in labels or []:
            self._labels.setdefault(label.name, label)

    def add(self, name: Any, where: str, color: str | None = None, hotkey: str | None = None) -> str:
        if not isinstance(name, str) or not name.strip():
            raise InvalidDatasetError(f"{where}: a label needs a non-empty name, not {name!r}.")
        if color is not None and not _COLOR.fullmatch(color):
            raise InvalidDatasetError(f"{where}: the colour {color!r} of label {name!r} is not #rrggbb.")
        self._labels.setdefault(name, ExchangeLabel(name, color, hotkey))
        return name

    def index(self, name: str) -> int:
        """The label's position, adding labels that annotations name but the dataset did not."""
        if name not in self._labels:
            self._labels[name] = ExchangeLabel(name)
        return list(self._labels).index(name)

    def __contains__(self, name: object) -> bool:
        return name in self._labels

    def names(self) -> list[str]:
        return list(self._labels)

    def labels(self) -> list[ExchangeLabel]:
        return list(self._labels.values())


def dataset_of(labels: LabelSet, items: list[ExchangeItem], warnings: list[str]) -> ExchangeDataset:
    """The dataset a foreign-format reader found; the task type is guessed from the shapes."""
    return ExchangeDataset(task_type=guess_task_type(items), labels=labels.labels(), items=items,
                           warnings=warnings)


def hex_color(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def rgb_color(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def size_of(item: ExchangeItem, data: bytes) -> tuple[int, int]:
    """An exported item's (width, height): as given, or read from its image header."""
    if item.width and item.height:
        return item.width, item.height
    fmt = detect_format(data)
    try:
        if fmt is None:
            raise ImageHeaderError("not a JPEG, PNG, BMP, TIFF or WebP image")
        return read_dimensions(fmt, data)
    except ImageHeaderError as error:
        raise InvalidDatasetError(f"The item {item.name!r} has a broken image: {error}.") from None


_KIND_NAMES = {dict: "an object", list: "a list", str: "a string", int: "an integer", float: "a number",
               bool: "true or false", type(None): "null"}


def expect(value: Any, kinds: type | tuple[type, ...], where: str) -> Any:
    """The value if it has one of the JSON kinds, else an InvalidDatasetError naming the place."""
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds):
        return value
    wanted = " or ".join(_KIND_NAMES.get(kind, kind.__name__) for kind in kinds)
    raise InvalidDatasetError(f"{where} should be {wanted}, not {json.dumps(value)[:40]}.")
