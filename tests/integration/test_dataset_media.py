"""Dataset media on the real stores (SQLite and PostgreSQL, filesystem, OpenCV): no orphans, no holes.

Bytes are written before the event that references them, so a crash in between can leave an
unreferenced file but never an item without its bytes; the sweep removes such files.
"""

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from application.commands.dataset import DatasetCommands
from application.errors import (
    InvalidInputError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)
from application.event_store import EventStore
from application.media_sweep import sweep_media
from domain.dataset_item import DatasetItem
from domain.project import NewLabel
from entrypoints.bootstrap import Container, bootstrap, event_store_env
from entrypoints.config import Config
from tests import images

USER = "tester"


class CrashingStore(EventStore):
    """The event store of a process that dies just before saving: it reads, but never saves."""

    name = EventStore.name  # the same tables as the real store

    def commit(self, *aggregates: Any) -> int:
        raise SystemExit("killed between writing the bytes and saving the event")


@pytest.fixture
def container(config: Config) -> Iterator[Container]:
    container = bootstrap(config)
    yield container
    container.close()


@pytest.fixture
def project_id(container: Container) -> UUID:
    return container.projects.create("Conveyor", "detection", False, [NewLabel("nut")], USER).id


def media_files(container: Container) -> set[str]:
    root = container.config.data_dir / "media"
    return {p.name for p in Path(root).rglob("*") if p.is_file()}


def referenced(container: Container) -> set[str]:
    rows = container.read_store.query("SELECT media_sha256, thumbnail_sha256 FROM rm_items")
    return {row[column] for row in rows for column in ("media_sha256", "thumbnail_sha256")}


def upload(container: Container, project_id: UUID, seed: int) -> UUID:
    return container.dataset.upload(project_id, images.jpeg(seed=seed), None, "upload", USER).id


def every_item_has_its_bytes(container: Container) -> bool:
    return all(container.media.exists(sha) for sha in referenced(container))


def test_a_crash_before_the_event_leaves_only_files_that_the_sweep_removes(container: Container,
                                                                           project_id: UUID) -> None:
    kept = [upload(container, project_id, seed) for seed in range(3)]
    container.projector.catch_up()
    files_of_items = media_files(container)
    assert files_of_items == referenced(container) and len(files_of_items) == 6  # originals and thumbnails

    crashing_store = CrashingStore(env=event_store_env(container.config))
    crashing = DatasetCommands(crashing_store, container.media, container.codec)
    with pytest.raises(SystemExit):
        crashing.upload(project_id, images.png(seed=42), "lost.png", "upload", USER)
    crashing_store.close()
    stray = container.media.put(images.encode("bmp", seed=7))
    orphans = media_files(container) - files_of_items
    assert len(orphans) == 3 and stray.sha256 in orphans  # plus the crashed upload's original and thumbnail
    assert container.store.max_position() == container.projector.positions()["dataset_items"]

    assert sweep_media(container.media, container.read_store) == []  # still inside the grace period
    assert sorted(sweep_media(container.media, container.read_store, grace_s=0)) == sorted(orphans)
    assert media_files(container) == files_of_items
    assert sweep_media(container.media, container.read_store, grace_s=0) == []
    assert every_item_has_its_bytes(container)
    for item_id in kept:
        item = container.dataset.item(project_id, item_id)
        assert container.media.get(item.media["sha256"]) == images.jpeg(seed=kept.index(item_id))


def test_deleting_an_item_lets_the_sweep_take_bytes_no_other_item_uses(container: Container,
                                                                      project_id: UUID) -> None:
    first = upload(container, project_id, seed=1)
    twin = upload(container, project_id, seed=1)  # the same bytes, stored once
    other = upload(container, project_id, seed=2)
    container.projector.catch_up()
    assert len(media_files(container)) == 4
    sha_of = {i: container.dataset.item(project_id, i).media["sha256"] for i in (first, twin, other)}
    assert sha_of[first] == sha_of[twin]

    container.dataset.delete(project_id, first, USER)
    container.dataset.delete(project_id, other, USER)
    container.projector.catch_up()
    removed = sweep_media(container.media, container.read_store, grace_s=0)
    assert len(removed) == 2 and sha_of[other] in removed  # the other's original and thumbnail
    assert container.media.exists(sha_of[twin])
    assert every_item_has_its_bytes(container)


def test_a_reupload_of_swept_bytes_stores_them_again(container: Container, project_id: UUID) -> None:
    gone = upload(container, project_id, seed=5)
    container.projector.catch_up()
    sha = container.dataset.item(project_id, gone).media["sha256"]
    container.dataset.delete(project_id, gone, USER)
    container.projector.catch_up()
    assert sha in sweep_media(container.media, container.read_store, grace_s=0)
    again = upload(container, project_id, seed=5)
    container.projector.catch_up()
    assert container.dataset.item(project_id, again).media["sha256"] == sha
    assert container.media.get(sha) == images.jpeg(seed=5)
    assert every_item_has_its_bytes(container)


def test_refused_uploads_leave_no_file_behind(container: Container, project_id: UUID) -> None:
    for data in (images.truncated(images.jpeg()), images.gif(), images.png_declaring(40_000, 40_000),
                 images.corrupt_png(images.png())):
        with pytest.raises((UnsupportedMediaTypeError, InvalidInputError, PayloadTooLargeError)):
            container.dataset.upload(project_id, data, None, "upload", USER)
    assert media_files(container) == set()
    assert container.read_store.query("SELECT id FROM rm_items") == []


def test_a_sweep_while_the_read_models_lag_never_takes_the_bytes_of_a_saved_item(container: Container,
                                                                                 project_id: UUID) -> None:
    container.projector.catch_up()
    item_id = upload(container, project_id, seed=3)  # saved, but not yet projected
    sha256 = container.store.load(DatasetItem, item_id).media["sha256"]
    two_hours_ago = time.time() - 7200
    for name in media_files(container):  # the outage lasted two hours
        os.utime(container.media.path(name), (two_hours_ago, two_hours_ago))
    sweep_media(container.media, container.read_store,
                lag=lambda: max(container.projector.lag().values()))
    assert container.media.exists(sha256), "an item lost its bytes"
