"""Zip archives of datasets: checked before anything is written, unpacked inside one folder only.

The central directory is checked first (names, links, encryption, sizes, ratios, counts); then
entries stream out in chunks while a running count holds each one to its declared size, because
headers can lie. Extraction goes into a fresh sibling folder that is renamed into place at the
end, so a refused archive leaves nothing behind.
"""

from __future__ import annotations

import lzma
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import IO

from application.ports.dataset_formats import (
    ArchiveLimits,
    ArchiveReport,
    Archives,
    InvalidArchiveError,
    UnsafeArchiveError,
)

CHUNK = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
_SUPPORTED = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_STORED_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".zip", ".gz", ".mp4"})
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


class ZipArchives(Archives):
    """The Archives port over zip files."""

    def inspect(self, path: Path, limits: ArchiveLimits) -> ArchiveReport:
        return inspect_zip(path, limits)

    def extract(self, path: Path, destination: Path, limits: ArchiveLimits) -> ArchiveReport:
        return safe_extract(path, destination, limits)

    def pack(self, source_dir: Path, archive_path: Path) -> None:
        make_zip(source_dir, archive_path)


def inspect_zip(path: Path, limits: ArchiveLimits) -> ArchiveReport:
    """Check the archive's directory against the limits without writing anything."""
    with _open(path) as archive:
        return _check(archive, limits)


def safe_extract(path: Path, destination: Path, limits: ArchiveLimits) -> ArchiveReport:
    """Check, then unpack into `destination` (absent or empty); on any error nothing is left."""
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise FileExistsError(f"{destination} exists and is not an empty folder")
    destination.parent.mkdir(parents=True, exist_ok=True)
    with _open(path) as archive:
        report = _check(archive, limits)
        staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
        try:
            _extract_all(archive, staging.resolve(), limits)
            staging.chmod(0o755)
            if destination.exists():
                destination.rmdir()
            staging.rename(destination)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return report


def make_zip(source_dir: Path, zip_path: Path) -> None:
    """Pack every regular file under source_dir, sorted by path, with fixed times and modes."""
    files = sorted((p.relative_to(source_dir).as_posix(), p) for p in source_dir.rglob("*")
                   if p.is_file() and not p.is_symlink())
    partial = zip_path.with_name(f"{zip_path.name}.partial")
    try:
        with zipfile.ZipFile(partial, "w") as archive:
            for name, file in files:
                info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
                info.create_system, info.external_attr = 3, (stat.S_IFREG | 0o644) << 16
                info.compress_type = zipfile.ZIP_STORED if file.suffix.lower() in _STORED_SUFFIXES else zipfile.ZIP_DEFLATED
                info.file_size = file.stat().st_size
                with file.open("rb") as source, archive.open(info, "w") as target:
                    shutil.copyfileobj(source, target, CHUNK)
        os.replace(partial, zip_path)
    finally:
        partial.unlink(missing_ok=True)


def _open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise InvalidArchiveError(f"The file is not a readable zip archive ({error}).") from None


def normalized_name(name: str, limits: ArchiveLimits) -> str:
    """The entry's path with '.' and empty parts dropped; UnsafeArchiveError if it could escape."""
    if "\\" in name:
        raise UnsafeArchiveError(f"The entry {name!r} has a backslash in its path, which is not accepted.")
    if name.startswith("/") or _DRIVE.match(name):
        raise UnsafeArchiveError(f"The entry {name!r} has an absolute path.")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(f"The entry {name!r} climbs out of the archive's folder with '..'.")
    if len(name) > limits.max_name_length or any(len(p.encode()) > 255 for p in parts):
        raise UnsafeArchiveError(f"The entry {name[:80]!r}... has a name too long to unpack.")
    return "/".join(parts)


def _check_entry(info: zipfile.ZipInfo, limits: ArchiveLimits) -> None:
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if stat.S_ISLNK(mode):
        raise UnsafeArchiveError(f"The entry {info.filename!r} is a symbolic link; links are not accepted.")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise UnsafeArchiveError(f"The entry {info.filename!r} is a special file (device, pipe or socket).")
    if info.flag_bits & 0x1:
        raise UnsafeArchiveError(f"The entry {info.filename!r} is encrypted; encrypted archives are not accepted.")
    if info.compress_type not in _SUPPORTED:
        raise InvalidArchiveError(f"The entry {info.filename!r} uses an unsupported compression method {info.compress_type}.")
    if info.file_size > limits.max_entry_size:
        raise UnsafeArchiveError(f"The entry {info.filename!r} expands to {info.file_size} bytes; "
                                 f"at most {limits.max_entry_size} are allowed per file.")
    ratio_applies = info.file_size >= limits.ratio_applies_above
    if ratio_applies and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        raise UnsafeArchiveError(f"The entry {info.filename!r} expands {info.file_size / max(info.compress_size, 1):.0f} "
                                 f"times (at most {limits.max_ratio:g}); it looks like a zip bomb.")


def _check(archive: zipfile.ZipFile, limits: ArchiveLimits) -> ArchiveReport:
    infos = archive.infolist()
    if len(infos) > limits.max_files:
        raise UnsafeArchiveError(f"The archive holds {len(infos)} entries; at most {limits.max_files} are allowed.")
    names: dict[str, bool] = {}  # normalized name → is a directory
    offsets: set[int] = set()
    total = compressed = 0
    for info in infos:
        name = normalized_name(info.filename, limits)
        _check_entry(info, limits)
        if name in names:
            raise UnsafeArchiveError(f"The archive holds the entry {name!r} twice.")
        if info.header_offset in offsets:
            raise UnsafeArchiveError(f"The entry {name!r} shares its data with another entry (an overlapping zip bomb).")
        names[name], total, compressed = info.is_dir(), total + info.file_size, compressed + info.compress_size
        offsets.add(info.header_offset)
        if total > limits.max_total_size:
            raise UnsafeArchiveError(f"The archive expands to more than {limits.max_total_size} bytes, the limit.")
    names.pop("", None)
    _check_tree(names)
    files = [n for n, is_dir in names.items() if not is_dir]
    return ArchiveReport(file_count=len(files), directory_count=len(names) - len(files), total_size=total,
                         compressed_size=compressed, names=tuple(files))


def _check_tree(names: dict[str, bool]) -> None:
    """Refuse a file that is also a folder of another entry ('a' and 'a/b.jpg')."""
    for name in names:
        parts = name.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if names.get(parent) is False:
                raise UnsafeArchiveError(f"The entry {parent!r} is a file and also the folder of {name!r}.")


def _extract_all(archive: zipfile.ZipFile, base: Path, limits: ArchiveLimits) -> None:
    total = 0
    for info in archive.infolist():
        name = normalized_name(info.filename, limits)
        target = (base / name).resolve()
        if not target.is_relative_to(base):
            raise UnsafeArchiveError(f"The entry {info.filename!r} would be written outside its folder.")
        if info.is_dir() or not name:
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        total = _extract_one(archive, info, target, total, limits)


def _extract_one(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, total: int,
                 limits: ArchiveLimits) -> int:
    """Stream one entry, holding it to its declared size; return the running total."""
    written = 0
    with _open_entry(archive, info) as source, target.open("xb") as output:
        while chunk := _read(source, info):
            written, total = written + len(chunk), total + len(chunk)
            if written > info.file_size or total > limits.max_total_size:
                raise UnsafeArchiveError(f"The entry {info.filename!r} expands beyond the size its header declares.")
            output.write(chunk)
    if written != info.file_size:
        raise UnsafeArchiveError(f"The entry {info.filename!r} holds {written} bytes, "
                                 f"but its header declares {info.file_size}.")
    return total


def _open_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> IO[bytes]:
    try:
        return archive.open(info)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError) as error:
        raise UnsafeArchiveError(f"The entry {info.filename!r} cannot be read ({error}).") from None


def _read(source: IO[bytes], info: zipfile.ZipInfo) -> bytes:
    """The next chunk; a broken stream or checksum means the entry does not match its header."""
    try:
        return source.read(CHUNK)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, lzma.LZMAError) as error:
        raise UnsafeArchiveError(f"The entry {info.filename!r} does not match its header ({error}).") from None
