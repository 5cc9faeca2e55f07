"""The filesystem media store on a real temporary directory."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from adapters.media.filesystem import FilesystemMediaStore
from application.errors import BadRequestError, NotFoundError
from application.ports.media import InvalidMediaHashError, MediaNotFoundError, MediaRef

DATA = b"some image bytes"
SHA = hashlib.sha256(DATA).hexdigest()
HOUR = 3600.0


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A store root that does not exist yet."""
    return tmp_path / "media"


@pytest.fixture
def store(root: Path) -> FilesystemMediaStore:
    """A store on the temporary root."""
    return FilesystemMediaStore(root)


def age(path: Path, seconds: float) -> None:
    """Make a file look last modified `seconds` ago."""
    then = time.time() - seconds
    os.utime(path, (then, then))


def files_under(root: Path) -> list[Path]:
    """Every regular file below root."""
    return sorted(path for path in root.rglob("*") if path.is_file())


def leave_temp_file(store: FilesystemMediaStore, name: str = ".put-crashed.tmp") -> Path:
    """Simulate a put that crashed after creating its temp file."""
    temp = store.path(SHA).parent / name
    temp.parent.mkdir(parents=True, exist_ok=True)
    temp.write_bytes(b"half a write")
    return temp


def test_creating_a_store_touches_nothing_on_disk(root: Path) -> None:
    """Directories are made lazily, on the first put."""
    FilesystemMediaStore(root)
    assert not root.exists()


def test_put_stores_the_bytes_under_their_sha256_in_sharded_directories(
    store: FilesystemMediaStore, root: Path
) -> None:
    """The blob lands at root/ab/cd/<hash> and the ref names its hash and size."""
    ref = store.put(DATA)
    assert ref == MediaRef(sha256=SHA, size=len(DATA))
    assert store.path(SHA) == root / SHA[:2] / SHA[2:4] / SHA
    assert store.path(SHA).read_bytes() == DATA


def test_put_leaves_no_temp_file_behind(store: FilesystemMediaStore, root: Path) -> None:
    """The temp file is renamed over the target, so only the blob remains."""
    store.put(DATA)
    assert files_under(root) == [store.path(SHA)]


def test_putting_the_same_bytes_twice_is_harmless(store: FilesystemMediaStore, root: Path) -> None:
    """The second put returns the same ref and stores nothing new."""
    assert store.put(DATA) == store.put(DATA)
    assert files_under(root) == [store.path(SHA)]


def test_put_repairs_a_blob_left_with_the_wrong_size(store: FilesystemMediaStore) -> None:
    """A damaged copy is replaced rather than trusted."""
    store.put(DATA)
    store.path(SHA).write_bytes(b"dam")
    store.put(DATA)
    assert store.get(SHA) == DATA


def test_empty_bytes_are_a_valid_blob(store: FilesystemMediaStore) -> None:
    """Storing nothing is still content-addressed."""
    ref = store.put(b"")
    assert store.get(ref.sha256) == b"" and ref.size == 0


def test_get_returns_what_put_stored(store: FilesystemMediaStore) -> None:
    """Bytes round-trip unchanged."""
    store.put(DATA)
    assert store.get(SHA) == DATA


def test_getting_a_missing_blob_raises_media_not_found(store: FilesystemMediaStore) -> None:
    """A well-formed but unknown hash is a 404-class error."""
    with pytest.raises(MediaNotFoundError) as raised:
        store.get(SHA)
    assert isinstance(raised.value, NotFoundError)


def test_exists_tells_whether_a_blob_is_stored(store: FilesystemMediaStore) -> None:
    """Exists is false before put and true after."""
    assert not store.exists(SHA)
    store.put(DATA)
    assert store.exists(SHA)


def test_delete_removes_a_blob(store: FilesystemMediaStore) -> None:
    """A deleted blob is gone."""
    store.put(DATA)
    store.delete(SHA)
    assert not store.exists(SHA)


def test_deleting_a_missing_blob_is_harmless(store: FilesystemMediaStore) -> None:
    """Delete is idempotent."""
    store.delete(SHA)
    assert not store.exists(SHA)


@pytest.mark.parametrize(
    "bad_hash",
    [
        SHA.upper(),
        SHA[:-1],
        SHA + "0",
        SHA + "\n",
        "../" * 20 + "etc/passwd",
        "../../" + SHA[6:],
        "g" * 64,
        "",
    ],
)
@pytest.mark.parametrize("operation", ["get", "path", "exists", "delete"])
def test_a_malformed_hash_is_rejected_before_touching_the_disk(
    store: FilesystemMediaStore, bad_hash: str, operation: str
) -> None:
    """Only 64 lowercase hex digits are accepted, so no path can escape the root."""
    with pytest.raises(InvalidMediaHashError) as raised:
        getattr(store, operation)(bad_hash)
    assert isinstance(raised.value, BadRequestError)


def test_sweep_removes_old_unreferenced_blobs(store: FilesystemMediaStore) -> None:
    """A blob nobody references, older than the grace period, is removed and reported."""
    store.put(DATA)
    age(store.path(SHA), 2 * HOUR)
    assert store.sweep(lambda sha: False, older_than_s=HOUR) == [SHA]
    assert not store.exists(SHA)


def test_sweep_keeps_referenced_blobs(store: FilesystemMediaStore) -> None:
    """An old blob that is referenced stays."""
    store.put(DATA)
    age(store.path(SHA), 2 * HOUR)
    assert store.sweep(lambda sha: sha == SHA, older_than_s=HOUR) == []
    assert store.exists(SHA)


def test_sweep_keeps_new_unreferenced_blobs(store: FilesystemMediaStore) -> None:
    """A blob within its grace period may be about to be referenced, so it stays."""
    store.put(DATA)
    assert store.sweep(lambda sha: False, older_than_s=HOUR) == []
    assert store.exists(SHA)


def test_sweep_sorts_a_mixed_store(store: FilesystemMediaStore) -> None:
    """Only the old, unreferenced blob goes among old/new and referenced/unreferenced ones."""
    old_kept, old_gone, new = (store.put(f"blob {n}".encode()).sha256 for n in range(3))
    age(store.path(old_kept), 2 * HOUR)
    age(store.path(old_gone), 2 * HOUR)
    assert store.sweep(lambda sha: sha == old_kept, older_than_s=HOUR) == [old_gone]
    assert store.exists(old_kept) and store.exists(new) and not store.exists(old_gone)


def test_putting_an_old_blob_again_restarts_its_grace_period(store: FilesystemMediaStore) -> None:
    """Re-uploading content that was about to be swept protects it until it is referenced."""
    store.put(DATA)
    age(store.path(SHA), 2 * HOUR)
    store.put(DATA)
    assert store.sweep(lambda sha: False, older_than_s=HOUR) == []


def test_sweep_removes_stale_temp_files(store: FilesystemMediaStore) -> None:
    """A temp file left by a crashed put is cleaned up once it is old, and not reported."""
    temp = leave_temp_file(store)
    age(temp, 2 * HOUR)
    assert store.sweep(lambda sha: False, older_than_s=HOUR) == []
    assert not temp.exists()


def test_sweep_keeps_temp_files_of_puts_in_progress(store: FilesystemMediaStore) -> None:
    """A fresh temp file may belong to a put that is still writing."""
    temp = leave_temp_file(store)
    store.sweep(lambda sha: False, older_than_s=HOUR)
    assert temp.exists()


def test_sweep_leaves_files_it_does_not_own_alone(store: FilesystemMediaStore) -> None:
    """Files that are neither blobs nor temp files are never deleted."""
    stranger = leave_temp_file(store, name="README")
    age(stranger, 2 * HOUR)
    store.sweep(lambda sha: False, older_than_s=HOUR)
    assert stranger.exists()


def test_sweep_asks_only_about_old_blobs(store: FilesystemMediaStore) -> None:
    """The reference check (a read-model query) is skipped for blobs still in grace."""
    asked: list[str] = []

    def is_referenced(sha: str) -> bool:
        asked.append(sha)
        return False

    store.put(DATA)
    store.sweep(is_referenced, older_than_s=HOUR)
    assert asked == []


def test_sweep_uses_the_injected_clock(root: Path) -> None:
    """With a clock two hours ahead, a fresh blob counts as old."""
    store = FilesystemMediaStore(root, clock=lambda: time.time() + 2 * HOUR)
    store.put(DATA)
    assert store.sweep(lambda sha: False, older_than_s=HOUR) == [SHA]


def test_sweeping_an_empty_store_removes_nothing(store: FilesystemMediaStore) -> None:
    """A root that was never written to is fine."""
    assert store.sweep(lambda sha: False, older_than_s=0) == []
