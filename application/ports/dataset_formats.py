"""Port for dataset exchange: a format-neutral dataset, the formats that read and write it, archives.

Readers return items whose image bytes load lazily; writers take any iterable of items and walk
it once, so a caller can report progress or stop by wrapping the iterable. Shapes use the API's
pixel coordinates: (0, 0) is the top-left corner of the image, (width, height) its bottom-right.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from application.errors import InvalidInputError

SUBSETS = ("training", "validation", "testing")
FORMAT_PRECEDENCE = ("viewfinder", "datumaro", "coco", "voc", "yolo")
"""The order in which `detect_format` tries formats: the most specific layout first."""


class InvalidDatasetError(InvalidInputError):
    """Raised when a folder is not a valid dataset of its format; names the file and the problem."""


class UnknownDatasetFormatError(InvalidDatasetError):
    """Raised when no known dataset format matches a folder."""


class UnsupportedContentError(InvalidInputError):
    """Raised when a format cannot hold what a dataset contains (e.g. classification in YOLO)."""


class InvalidArchiveError(InvalidInputError):
    """Raised when an uploaded file is not a readable zip archive."""


class UnsafeArchiveError(InvalidArchiveError):
    """Raised when an archive could write outside its folder, hide links, or expand too far."""


@dataclass(frozen=True)
class ExchangeLabel:
    """A label as datasets carry it: a name, and a colour (#rrggbb) and hotkey when known."""

    name: str
    color: str | None = None
    hotkey: str | None = None


@dataclass(frozen=True)
class ExchangeAnnotation:
    """One shape in the API form, with the names of its labels."""

    labels: list[str]
    shape: dict[str, Any]


@dataclass(frozen=True)
class ExchangeItem:
    """One image: a unique relative file name, its original bytes (loaded on demand), its labels."""

    name: str
    load_bytes: Callable[[], bytes]
    width: int | None = None
    height: int | None = None
    subset: str | None = None  # 'training' | 'validation' | 'testing' | None (unassigned)
    tags: list[str] = field(default_factory=list)
    annotations: list[ExchangeAnnotation] = field(default_factory=list)
    annotated: bool = False


@dataclass
class ExchangeDataset:
    """A dataset between Viewfinder and a file format; `warnings` lists what a reader skipped."""

    task_type: str | None
    labels: list[ExchangeLabel]
    items: Iterable[ExchangeItem]
    views: dict[str, list[str]] = field(default_factory=dict)
    exclusive_labels: bool | None = None
    warnings: list[str] = field(default_factory=list)

    def metadata(self) -> dict[str, Any]:
        """Counts and label names, as a staged dataset's `metadata` (items must be re-iterable)."""
        items = list(self.items)
        return {
            "num_images": len(items),
            "num_annotations": sum(len(item.annotations) for item in items),
            "labels": [label.name for label in self.labels],
        }


def guess_task_type(items: Iterable[ExchangeItem]) -> str | None:
    """instance_segmentation with polygons, detection with rectangles, classification otherwise."""
    kinds = {a.shape.get("type") for item in items for a in item.annotations}
    if "polygon" in kinds:
        return "instance_segmentation"
    if "rectangle" in kinds:
        return "detection"
    return "classification" if "full_image" in kinds else None


class DatasetFormat(ABC):
    """Reads and writes one on-disk dataset layout."""

    name: ClassVar[str]  # 'coco' | 'yolo' | 'voc' | 'datumaro' | 'viewfinder'
    shapes: ClassVar[frozenset[str]]  # shape types `write` can hold
    looks_for: ClassVar[str]  # what `detect` looks for, for error messages

    @abstractmethod
    def detect(self, root: Path) -> bool:
        """Return True when the folder has this format's layout (cheap; no full validation)."""

    @abstractmethod
    def read(self, root: Path) -> ExchangeDataset:
        """Read and validate the dataset; raise InvalidDatasetError naming the file and problem."""

    @abstractmethod
    def write(self, dataset: ExchangeDataset, root: Path) -> None:
        """Write the dataset into an empty folder; raise UnsupportedContentError for foreign shapes."""

    def check_can_write(self, task_type: str | None) -> None:
        """Raise UnsupportedContentError when this format cannot hold the task's shapes."""
        shape = {"classification": "full_image", "detection": "rectangle",
                 "instance_segmentation": "polygon"}.get(task_type or "")
        if shape is not None and shape not in self.shapes:
            detail = f"The {self.name} format cannot hold {task_type} annotations ({shape} shapes)."
            raise UnsupportedContentError(detail)


def detect_format(root: Path, formats: Sequence[DatasetFormat]) -> DatasetFormat:
    """The first format in FORMAT_PRECEDENCE whose layout the folder has; readable error if none."""
    rank = {name: index for index, name in enumerate(FORMAT_PRECEDENCE)}
    ordered = sorted(formats, key=lambda f: rank.get(f.name, len(rank)))
    for dataset_format in ordered:
        if dataset_format.detect(root):
            return dataset_format
    looked_for = "; ".join(f"{f.name}: {f.looks_for}" for f in ordered)
    raise UnknownDatasetFormatError(f"The archive holds no dataset of a known format (looked for {looked_for}).")


_JUNK = frozenset({"__MACOSX", ".DS_Store", "Thumbs.db"})


def find_dataset_root(root: Path, max_depth: int = 3) -> Path:
    """The folder to read: descends while a folder holds one sub-folder and nothing else."""
    for _ in range(max_depth):
        entries = [e for e in root.iterdir() if e.name not in _JUNK and not e.name.startswith(".")]
        if len(entries) != 1 or not entries[0].is_dir() or entries[0].is_symlink():
            return root
        root = entries[0]
    return root


@dataclass(frozen=True)
class ArchiveLimits:
    """How far an uploaded archive may expand before it is refused."""

    max_files: int = 100_000
    max_entry_size: int = 2 * 1024**3
    max_total_size: int = 20 * 1024**3
    max_ratio: float = 200.0
    ratio_applies_above: int = 1024**2  # tiny entries may compress far (e.g. blank JSON)
    max_name_length: int = 1024


@dataclass(frozen=True)
class ArchiveReport:
    """What an archive holds, as its central directory declares it (checked against the limits)."""

    file_count: int
    directory_count: int
    total_size: int  # declared uncompressed bytes
    compressed_size: int
    names: tuple[str, ...]


class Archives(ABC):
    """Checks, unpacks and packs dataset archives."""

    @abstractmethod
    def inspect(self, path: Path, limits: ArchiveLimits) -> ArchiveReport:
        """Check the archive without writing anything; raise UnsafeArchiveError or InvalidArchiveError."""

    @abstractmethod
    def extract(self, path: Path, destination: Path, limits: ArchiveLimits) -> ArchiveReport:
        """Check, then unpack into `destination` (created; must not exist) or leave nothing behind."""

    @abstractmethod
    def pack(self, source_dir: Path, archive_path: Path) -> None:
        """Pack a folder's files into an archive, in a deterministic order."""
