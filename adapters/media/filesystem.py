"""MediaStore on the local filesystem: content-addressed, sharded, written atomically."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from application.ports.media import MediaNotFoundError, MediaRef, MediaStore, check_sha256

_TEMP_PREFIX, _TEMP_SUFFIX = ".put-", ".tmp"
_HEX = frozenset("0123456789abcdef")


class FilesystemMediaStore(MediaStore):
    """Stores each blob once at root/ab/cd/<sha256>; directories are created on first write."""

    def __init__(self, root: Path, *, clock: Callable[[], float] = time.time) -> None:
        self._root = Path(root)
        self._clock = clock

    def put(self, data: bytes) -> MediaRef:
        """Store the bytes under their hash via temp file, fsync and rename; idempotent."""
        ref = MediaRef(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
        target = self.path(ref.sha256)
        if not _touch_if_intact(target, ref.size):
            target.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(target, data)
        return ref

    def get(self, sha256: str) -> bytes:
        """Return the stored bytes or raise MediaNotFoundError."""
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise MediaNotFoundError(f"No media with hash {sha256} is stored.") from None

    def path(self, sha256: str) -> Path:
        """Return the sharded path of a blob; the hash is validated, so no traversal."""
        check_sha256(sha256)
        return self._root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        """Tell whether the blob is stored."""
        return self.path(sha256).is_file()

    def delete(self, sha256: str) -> None:
        """Remove the blob if it is stored."""
        self.path(sha256).unlink(missing_ok=True)

    def sweep(self, is_referenced: Callable[[str], bool], older_than_s: float) -> list[str]:
        """Remove unreferenced blobs and leftover temp files older than the grace period."""
        cutoff = self._clock() - older_than_s
        removed = []
        for file in self._shard_files():
            if not _modified_before(file, cutoff):
                continue
            if _is_temp(file.name):
                file.unlink(missing_ok=True)
            elif _is_hash(file.name) and not is_referenced(file.name):
                file.unlink(missing_ok=True)
                removed.append(file.name)
        return removed

    def _shard_files(self) -> Iterator[Path]:
        """Yield the regular files in the two levels of shard directories."""
        for first in _shard_dirs(self._root):
            for second in _shard_dirs(first):
                yield from (entry for entry in second.iterdir() if entry.is_file())


def _touch_if_intact(target: Path, size: int) -> bool:
    """Tell whether the blob is already stored with this size, refreshing its mtime if so."""
    # The caller is about to reference the blob: restart its sweep grace period.
    try:
        if target.stat().st_size != size:
            return False
        os.utime(target)
    except FileNotFoundError:
        return False
    return True


def _write_atomically(target: Path, data: bytes) -> None:
    """Write to a temp file beside the target, fsync it, rename it over, fsync the directory."""
    fd, temp_name = tempfile.mkstemp(prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _shard_dirs(parent: Path) -> Iterator[Path]:
    """Yield the two-hex-digit shard directories of parent, if it exists."""
    if not parent.is_dir():
        return
    for entry in parent.iterdir():
        if len(entry.name) == 2 and set(entry.name) <= _HEX and entry.is_dir():
            yield entry


def _modified_before(file: Path, cutoff: float) -> bool:
    """Tell whether the file was last modified before cutoff (False if it vanished)."""
    try:
        return file.stat().st_mtime < cutoff
    except FileNotFoundError:
        return False


def _is_temp(name: str) -> bool:
    """Tell whether a file name is one of put's temp files."""
    return name.startswith(_TEMP_PREFIX) and name.endswith(_TEMP_SUFFIX)


def _is_hash(name: str) -> bool:
    """Tell whether a file name is a blob's hash."""
    return len(name) == 64 and set(name) <= _HEX
