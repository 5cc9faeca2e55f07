"""Dataset job types: prepare a staged archive, import it (new or existing project), export, stage."""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.dataset_item import SUBSETS
from domain.errors import DomainError
from domain.project import Project
from domain.staged_dataset import StagedDataset

from application.commands.dataset import DatasetCommands
from application.commands.projects import ProjectCommands
from application.commands.views import ViewCommands
from application.errors import InvalidInputError, ViewfinderError
from application.event_store import EventStore
from application.jobs.handler import JobContext, JobHandler
from application.ports.dataset_formats import (
    ArchiveLimits,
    Archives,
    DatasetFormat,
    ExchangeDataset,
    ExchangeItem,
    detect_format,
    find_dataset_root,
)
from application.ports.media import MediaStore
from application.ports.read_store import ReadStore
from application.staging import StagingArea, StagingCommands


@dataclass
class Transfer:
    """What the dataset jobs share: stores, the staging area and the formats."""

    store: EventStore
    read: ReadStore
    media: MediaStore
    staging: StagingCommands
    area: StagingArea
    archives: Archives
    limits: ArchiveLimits
    formats: list[DatasetFormat]
    dataset: DatasetCommands
    projects: ProjectCommands
    views: ViewCommands

    def staged(self, staged_id: UUID) -> StagedDataset:
        staged = self.store.load(StagedDataset, staged_id, "staged dataset")
        staged.check_usable()
        return staged

    def open(self, staged_id: UUID) -> tuple[ExchangeDataset, DatasetFormat]:
        """Unpack (once, safely), detect the format and read the dataset; invalid → staged as invalid."""
        self.staged(staged_id)
        try:
            unpacked = self.area.unpacked(staged_id)
            if not unpacked.exists():
                try:
                    self.archives.extract(self.area.archive(staged_id), unpacked, self.limits)
                except OSError:  # another job unpacked it at the same moment (the final rename is atomic)
                    if not unpacked.exists():
                        raise
            root = find_dataset_root(unpacked)
            dataset_format = detect_format(root, self.formats)
            dataset = dataset_format.read(root)
            dataset.items = list(dataset.items)
        except InvalidInputError as error:
            self.staging.invalidate(staged_id, error.detail, "worker")
            raise
        return dataset, dataset_format

    def format(self, name: str) -> DatasetFormat:
        return next(f for f in self.formats if f.name == name)

    def check_project(self, project_id: UUID | None) -> Project:
        if project_id is None:
            raise InvalidInputError("This job needs a project_id.", {"project_id": ["Missing data for required field."]})
        return self.store.load(Project, project_id, "project")


def _staged_id(parameters: dict[str, Any]) -> UUID:
    return UUID(str(parameters["staged_dataset_id"]))


class StagedDatasetHandler(JobHandler):
    """A job that reads a staged dataset (`parameters.staged_dataset_id`)."""

    def __init__(self, transfer: Transfer) -> None:
        self.transfer = transfer

    def check(self, project_id: UUID | None, parameters: dict[str, Any]) -> None:
        self.transfer.staged(_staged_id(parameters))


class PrepareDataset(StagedDatasetHandler):
    """Detect the format of a staged archive, validate it, unpack it, fill its metadata."""

    job_type = "prepare_dataset_for_import"
    rerun_on_interrupt = True

    def run(self, context: JobContext) -> dict[str, Any]:
        staged_id = _staged_id(context.parameters)
        context.progress(5, "Unpacking and reading the archive")
        dataset, dataset_format = self.transfer.open(staged_id)
        metadata = {**dataset.metadata(), "task_type": dataset.task_type, "warnings": dataset.warnings[:50]}
        self.transfer.staging.mark_ready(staged_id, dataset_format.name, metadata, context.user)
        context.log(f"Detected {dataset_format.name}: {metadata['num_images']} images, "
                    f"{metadata['num_annotations']} annotations, labels {', '.join(metadata['labels'])}.")
        return {"staged_dataset_id": str(staged_id), "format": dataset_format.name, "metadata": metadata}


class ItemImporter:
    """Creates items through the same commands as HTTP uploads, with annotations, tags and subsets."""

    def __init__(self, transfer: Transfer, context: JobContext, project_id: UUID, label_ids: dict[str, UUID | None],
                 include_unannotated: bool) -> None:
        self.transfer, self.context, self.project_id = transfer, context, project_id
        self.label_ids = label_ids  # casefolded dataset label name → project label id (None: drop)
        self.include_unannotated = include_unannotated
        self.names: dict[str, UUID] = {}
        self.counts = {"items": 0, "annotations": 0, "skipped_items": 0, "skipped_annotations": 0}

    def run(self, items: list[ExchangeItem]) -> dict[str, int]:
        for index, item in enumerate(items):
            self.context.progress(5 + 90 * index / max(1, len(items)), f"Importing image {index + 1} of {len(items)}")
            if not item.annotated and not self.include_unannotated:
                continue
            try:
                self._one(item)
            except (ViewfinderError, DomainError) as error:
                self.counts["skipped_items"] += 1
                self.context.log(f"{item.name}: skipped ({error.detail})")
        return self.counts

    def _one(self, item: ExchangeItem) -> None:
        user, dataset = self.context.user, self.transfer.dataset
        item_id = dataset.upload(self.project_id, item.load_bytes(), item.name, "import", user).id
        self.names[item.name] = item_id
        self.counts["items"] += 1
        if item.annotated:
            annotations = self._annotations(item)
            try:
                dataset.annotate(self.project_id, item_id, annotations, user)
                self.counts["annotations"] += len(annotations)
            except (ViewfinderError, DomainError) as error:
                self.counts["skipped_annotations"] += len(item.annotations)
                self.context.log(f"{item.name}: annotations skipped ({error.detail})")
        if item.tags:
            dataset.change_tags(self.project_id, [item_id], item.tags, [], user)
        if item.subset in SUBSETS and item.subset != "unassigned":
            dataset.assign_subset(self.project_id, item_id, item.subset, "imported", user)

    def _annotations(self, item: ExchangeItem) -> list[dict[str, Any]]:
        converted = []
        for annotation in item.annotations:
            labels = [{"id": self.label_ids[name.casefold()]} for name in annotation.labels
                      if self.label_ids.get(name.casefold()) is not None]
            if labels:
                converted.append({"labels": labels, "shape": annotation.shape})
            else:
                self.counts["skipped_annotations"] += 1
        return converted
