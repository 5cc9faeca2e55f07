"""The staging area: where dataset archives wait to be imported or downloaded."""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from uuid import UUID, uuid4

from domain.staged_dataset import StagedDataset

from application.commands import Written, retrying
from application.errors import PayloadTooLargeError
from application.event_store import EventStore
from application.ports.dataset_formats import ArchiveLimits, Archives, InvalidArchiveError

CHUNK = 1024 * 1024


class StagingArea:
    """Folders under the data directory: `<id>/archive.zip` and `<id>/unpacked/`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, staged_id: UUID) -> Path:
        return self.root / str(staged_id)

    def archive(self, staged_id: UUID) -> Path:
        return self.folder(staged_id) / "archive.zip"

    def unpacked(self, staged_id: UUID) -> Path:
        return self.folder(staged_id) / "unpacked"

    def scratch(self, job_id: UUID) -> Path:
        """An empty folder for a job's temporary files."""
        path = self.root / f"scratch-{job_id}"
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def receive(self, staged_id: UUID, chunks: Iterator[bytes], limit: int) -> int:
        """Write an upload to its archive path, refusing more than `limit` bytes; return the size."""
        target = self.archive(staged_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        size = 0
        with target.open("wb") as handle:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    handle.close()
                    self.remove(staged_id)
                    raise PayloadTooLargeError(f"A staged dataset may have at most {limit} bytes.")
                handle.write(chunk)
        return size

    def remove(self, staged_id: UUID) -> None:
        shutil.rmtree(self.folder(staged_id), ignore_errors=True)


def read_chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk


class StagingCommands:
    """Stage an uploaded or exported archive; delete one."""

    def __init__(self, store: EventStore, area: StagingArea, archives: Archives, limits: ArchiveLimits,
                 max_bytes: int) -> None:
        self.store = store
        self.area = area
        self.archives = archives
        self.limits = limits
        self.max_bytes = max_bytes

    def upload(self, stream: BinaryIO, user: str) -> Written:
        """Receive a zip; check it before anything is unpacked (unsafe → staged as invalid)."""
        staged_id = uuid4()
        size = self.area.receive(staged_id, read_chunks(stream), self.max_bytes)
        staged = StagedDataset(id=staged_id, size=size, origin="upload", project_id=None, user=user)
        try:
            self.archives.inspect(self.area.archive(staged_id), self.limits)
        except InvalidArchiveError as error:
            staged.invalidate(error.detail, user)
            self.area.archive(staged_id).unlink(missing_ok=True)
        return Written(staged_id, self.store.commit(staged))

    def stage_file(self, archive: Path, origin: str, project_id: UUID | None, format: str, metadata: dict,
                   user: str) -> Written:
        """Record an archive that a job wrote (export or stage) as a ready staged dataset."""
        staged_id = uuid4()
        target = self.area.archive(staged_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        archive.replace(target)
        staged = StagedDataset(id=staged_id, size=target.stat().st_size, origin=origin, project_id=project_id,
                               user=user)
        staged.mark_ready(format, metadata, user)
        return Written(staged_id, self.store.commit(staged))

    @retrying
    def mark_ready(self, staged_id: UUID, format: str, metadata: dict, user: str) -> None:
        staged = self.store.load(StagedDataset, staged_id, "staged dataset")
        staged.mark_ready(format, metadata, user)
        self.store.commit(staged)

    @retrying
    def invalidate(self, staged_id: UUID, error: str, user: str) -> None:
        staged = self.store.load(StagedDataset, staged_id, "staged dataset")
        staged.invalidate(error, user)
        self.store.commit(staged)

    @retrying
    def delete(self, staged_id: UUID, user: str) -> Written:
        staged = self.store.load(StagedDataset, staged_id, "staged dataset")
        staged.delete(user)
        written = Written(staged_id, self.store.commit(staged))
        self.area.remove(staged_id)
        return written
