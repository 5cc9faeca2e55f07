"""The train job: split, freeze a dataset revision, train with the architecture's trainer, record the model."""

import time
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from domain.dataset_item import DatasetItem
from domain.dataset_revision import DatasetRevision
from domain.model import Model
from domain.project import Project
from domain.training_configuration import effective_values

from application.commands import retrying
from application.commands.dataset import DatasetCommands
from application.errors import InvalidInputError, NotFoundError
from application.event_store import EventStore
from application.jobs.handler import JobCancelledError, JobContext, JobHandler
from application.jobs.split import split
from application.ports.media import MediaStore
from application.ports.read_store import ReadStore
from application.projections import from_json
from application.ports.training import (
    ArchitectureCatalog,
    LabelSpec,
    Trainer,
    TrainingCancelledError,
    TrainingReporter,
    TrainingRequest,
    TrainingSample,
)
from application.training_parameters import trainer_parameters

SUBSETS = ("training", "validation", "testing")
SPLIT_BATCH = 200


class JobReporter(TrainingReporter):
    """Trainer progress in the 10..95 % band of the job; log lines to the job log."""

    def __init__(self, context: JobContext) -> None:
        self.context = context

    def progress(self, percent: float, message: str) -> None:
        self.context.progress(10 + 0.85 * percent, message)

    def log(self, line: str) -> None:
        self.context.log(line)

    def should_stop(self) -> bool:
        return self.context.cancelled()


class TrainModel(JobHandler):
    """`train`: a model trained on the project's annotated items (or a view, or an earlier revision)."""

    job_type = "train"
    rerun_on_interrupt = True

    def __init__(self, store: EventStore, read: ReadStore, media: MediaStore, dataset: DatasetCommands,
                 catalog: ArchitectureCatalog, models_dir: Path) -> None:
        self.store, self.read, self.media, self.dataset = store, read, media, dataset
        self.catalog, self.models_dir = catalog, models_dir

    def _trainer(self, project: Project, parameters: dict[str, Any]) -> Trainer:
        architecture_id = parameters.get("model_architecture_id")
        try:
            trainer = (self.catalog.trainer(architecture_id) if architecture_id
                       else self.catalog.default_trainer(project.task_type))  # type: ignore[arg-type]
        except NotFoundError as error:
            raise InvalidInputError(error.detail, {"parameters": {"model_architecture_id": [error.detail]}}) from None
        if trainer.architecture.task_type != project.task_type:
            raise InvalidInputError(f"Architecture {trainer.architecture.id} trains {trainer.architecture.task_type}, "
                                    f"not {project.task_type}.", {"parameters": {"model_architecture_id": ["Wrong task."]}})
        return trainer

    def check(self, project_id: UUID | None, parameters: dict[str, Any]) -> None:
        if project_id is None:
            raise InvalidInputError("A train job needs a project_id.", {"project_id": ["Missing data for required field."]})
        if parameters.get("dataset_view_id") and parameters.get("dataset_revision_id"):
            raise InvalidInputError("Give dataset_view_id or dataset_revision_id, not both.",
                                    {"parameters": {"dataset_revision_id": ["Excludes dataset_view_id."]}})
        project = self.store.load(Project, project_id, "project")
        trainer = self._trainer(project, parameters)
        trainer_parameters(trainer.architecture, project.training_configuration)
        entries = self._planned_entries(project, parameters)
        check_sufficient(project, entries)

    def _planned_entries(self, project: Project, parameters: dict[str, Any]) -> list[dict[str, Any]]:
        """(id, subset, annotations) of what would be trained on, with the split applied (nothing written)."""
        if parameters.get("dataset_revision_id"):
            revision = self.store.load(DatasetRevision, UUID(str(parameters["dataset_revision_id"])), "dataset revision")
            if revision.project_id != project.id or revision.files_deleted:
                raise NotFoundError(f"No usable dataset revision {revision.id} in this project.")
            return [{"id": e["item_id"], "subset": e["subset"], "annotations": e["annotations"]} for e in revision.entries]
        rows = annotated_rows(self.read, project.id, parameters.get("dataset_view_id"))
        values = effective_values(project.training_configuration)
        percents = tuple(int(values[f"dataset_preparation.subset_split.{s}"]) for s in SUBSETS)
        unassigned = [r for r in rows if r["subset"] not in SUBSETS]
        planned = split(unassigned, percents, int(values["dataset_preparation.seed"]))  # type: ignore[arg-type]
        return [{**r, "subset": planned.get(str(r["id"]), r["subset"])} for r in rows]

    def run(self, context: JobContext) -> dict[str, Any]:
        project = self.store.load(Project, context.project_id, "project")
        trainer = self._trainer(project, context.parameters)
        parameters = trainer_parameters(trainer.architecture, project.training_configuration)
        context.progress(1, "Splitting the dataset")
        revision = self._revision(context, project)
        model = Model(id=uuid4(), project_id=project.id, name=f"{trainer.architecture.name} ({time.strftime('%Y-%m-%d %H:%M')})",
                      architecture=trainer.architecture.id, task_type=project.task_type, job_id=context.job_id,
                      dataset_revision_id=revision.id, labels=revision.labels,
                      user=context.user)
        self.store.commit(model)
        context.log(f"Training {trainer.architecture.id} on revision {revision.id} ({len(revision.entries)} items) "
                    f"as model {model.id}.")
        started = time.monotonic()
        try:
            trained = trainer.train(self._request(project, revision, parameters, model.id), JobReporter(context))
        except TrainingCancelledError:
            self._fail_model(model.id, "cancelled", context.user)
            raise JobCancelledError("Training was cancelled.") from None
        except BaseException as error:
            self._fail_model(model.id, str(error) or type(error).__name__, context.user)
            raise
        variant = {"id": str(uuid4()), "format": "openvino", "precision": trained.precision, "size": trained.size,
                   "files_deleted": False}
        self._finish_model(model.id, variant, trained.metrics, time.monotonic() - started, context.user)
        return {"model_id": str(model.id), "dataset_revision_id": str(revision.id), "metrics": trained.metrics}

    def _request(self, project: Project, revision: DatasetRevision, parameters: dict[str, Any],
                 model_id: UUID) -> TrainingRequest:
        samples = [TrainingSample(item_id=str(e["item_id"]), subset=e["subset"],
                                  load_image=_loader(self.media, e["media"]["sha256"]),
                                  annotations=_with_text_ids(e["annotations"]))
                   for e in revision.entries]
        labels = [LabelSpec(str(label["id"]), label["name"], label["color"]) for label in revision.labels]
        seed = int(effective_values(project.training_configuration)["dataset_preparation.seed"])
        return TrainingRequest(task_type=project.task_type, labels=labels, samples=samples,  # type: ignore[arg-type]
                               output_dir=self.models_dir / str(model_id), exclusive_labels=project.exclusive_labels,
                               parameters=parameters, seed=seed)

    def _revision(self, context: JobContext, project: Project) -> DatasetRevision:
        """Record subsets on unassigned items (as events), then reuse or create the revision."""
        if context.parameters.get("dataset_revision_id"):
            return self.store.load(DatasetRevision, UUID(str(context.parameters["dataset_revision_id"])))
        planned = self._planned_entries(project, context.parameters)
        check_sufficient(project, planned)
        reason = f"split for training job {context.job_id}"
        entries = []
        for start in range(0, len(planned), SPLIT_BATCH):
            context.progress(1 + 8 * start / max(1, len(planned)), "Freezing the dataset revision")
            batch = planned[start:start + SPLIT_BATCH]
            for item in self._assign(project.id, batch, reason, context.user):
                entries.append({"item_id": item.id, "version": item.version, "subset": item.subset,
                                "name": item.name, "media": item.media, "annotations": item.annotations})
        labels = [label.as_dict() for label in project.labels]
        latest = latest_revision(self.read, self.store, project.id)
        if latest is not None and latest.same_as(entries, labels):
            context.log(f"The dataset is unchanged: reusing revision {latest.id}.")
            return latest
        revision = DatasetRevision(id=uuid4(), project_id=project.id, entries=entries, labels=labels,
                                   user=context.user)
        self.store.commit(revision)
        return revision

    @retrying
    def _assign(self, project_id: UUID, rows: list[dict[str, Any]], reason: str, user: str) -> list[DatasetItem]:
        """Record the planned subsets of a batch of items in one commit (retried as a whole on a race)."""
        items = []
        for row in rows:
            item = self.store.load_in_project(DatasetItem, UUID(str(row["id"])), project_id, "dataset item")
            item.assign_subset(row["subset"], reason, user)
            items.append(item)
        self.store.commit(*items)
        return items

    @retrying
    def _fail_model(self, model_id: UUID, error: str, user: str) -> None:
        model = self.store.load(Model, model_id, "model")
        model.failed(error, user)
        self.store.commit(model)

    @retrying
    def _finish_model(self, model_id: UUID, variant: dict[str, Any], metrics: list[dict[str, Any]],
                      duration_s: float, user: str) -> None:
        model = self.store.load(Model, model_id, "model")
        model.trained(variant, metrics, round(duration_s, 2), user)
        self.store.commit(model)


def annotated_rows(read: ReadStore, project_id: UUID, view_id: Any) -> list[dict[str, Any]]:
    """Reviewed, annotated live items (optionally of a view), with their JSON annotations decoded."""
    where, params = "project_id = ? AND annotated = 1 AND user_reviewed = 1", [str(project_id)]
    if view_id:
        where += " AND id IN (SELECT item_id FROM rm_view_items WHERE view_id = ?)"
        params.append(str(view_id))
    rows = read.query(f"SELECT id, subset, annotations FROM rm_items WHERE {where} ORDER BY id", params)
    return [{"id": r["id"], "subset": r["subset"], "annotations": from_json(r["annotations"])} for r in rows]


def check_sufficient(project: Project, entries: list[dict[str, Any]]) -> None:
    """Every label needs an annotated image in the training subset; validation and testing need one item."""
    counts = {subset: 0 for subset in SUBSETS}
    per_label = {str(label.id): 0 for label in project.labels}
    for entry in entries:
        counts[entry["subset"]] = counts.get(entry["subset"], 0) + 1
        if entry["subset"] == "training":
            for label_id in {str(lb["id"]) for a in entry["annotations"] for lb in a["labels"]}:
                if label_id in per_label:
                    per_label[label_id] += 1
    for label in project.labels:
        if per_label[str(label.id)] == 0:
            raise InvalidInputError(f"Label '{label.name}' has no annotated image in the training subset; annotate "
                                    "more images with it.", {"dataset": [f"No training image for '{label.name}'."]})
    for subset in ("validation", "testing"):
        if counts[subset] == 0:
            raise InvalidInputError(f"The {subset} subset would be empty; annotate more images (at least 3 in all).",
                                    {"dataset": [f"Empty {subset} subset."]})


def latest_revision(read: ReadStore, store: EventStore, project_id: UUID) -> DatasetRevision | None:
    row = read.query_one("SELECT id FROM rm_revisions WHERE project_id = ? AND files_deleted = 0 "
                         "ORDER BY created_at DESC LIMIT 1", (str(project_id),))
    return store.load(DatasetRevision, UUID(row["id"]), "dataset revision") if row else None


def _loader(media: MediaStore, sha256: str) -> Any:
    return lambda: media.get(sha256)


def _with_text_ids(annotations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**a, "labels": [{**lb, "id": str(lb["id"])} for lb in a["labels"]]} for a in annotations]
