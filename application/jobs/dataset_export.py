"""Export a project's dataset (or a view of it) as a staged archive; stage it in Viewfinder's format."""

import shutil
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from application.errors import InvalidInputError
from application.jobs.datasets import Transfer
from application.jobs.handler import JobContext, JobHandler
from application.ports.dataset_formats import ExchangeAnnotation, ExchangeDataset, ExchangeItem, ExchangeLabel
from application.projections import from_json
from application.queries.dataset import get_view


class ExportDataset(JobHandler):
    """Write the dataset in one of the five formats and stage the archive for download."""

    job_type = "export_dataset"
    rerun_on_interrupt = True
    origin = "export"

    def __init__(self, transfer: Transfer) -> None:
        self.transfer = transfer

    def format_name(self, parameters: dict[str, Any]) -> str:
        return str(parameters["format"])

    def check(self, project_id: UUID | None, parameters: dict[str, Any]) -> None:
        project = self.transfer.check_project(project_id)
        if parameters.get("revision_id"):
            raise InvalidInputError("Dataset revisions come with training; revision_id is not supported yet.",
                                    {"parameters": {"revision_id": ["Not supported yet."]}})
        if parameters.get("view_id"):
            get_view(self.transfer.read, project.id, UUID(str(parameters["view_id"])))
        self.transfer.format(self.format_name(parameters)).check_can_write(project.task_type)

    def run(self, context: JobContext) -> dict[str, Any]:
        self.check(context.project_id, context.parameters)
        dataset_format = self.transfer.format(self.format_name(context.parameters))
        view_id = context.parameters.get("view_id")
        tally = {"images": 0, "annotations": 0}  # per run: handlers are shared by concurrent jobs
        dataset = self._dataset(context, UUID(str(view_id)) if view_id else None, tally)
        scratch = self.transfer.area.scratch(context.job_id)
        try:
            dataset_format.write(dataset, scratch / "dataset")
            context.progress(95, "Packing the archive")
            self.transfer.archives.pack(scratch / "dataset", scratch / "archive.zip")
            metadata = {"num_images": tally["images"], "num_annotations": tally["annotations"],
                        "labels": [label.name for label in dataset.labels], "task_type": dataset.task_type}
            staged_id = self.transfer.staging.stage_file(scratch / "archive.zip", self.origin, context.project_id,
                                                         dataset_format.name, metadata, context.user).id
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        context.log(f"Exported {tally['images']} images in {dataset_format.name} format as staged dataset "
                    f"{staged_id}.")
        return {"staged_dataset_id": str(staged_id), "format": dataset_format.name, "items": tally["images"]}

    def _dataset(self, context: JobContext, view_id: UUID | None, tally: dict[str, int]) -> ExchangeDataset:
        read, project_id = self.transfer.read, context.project_id
        project = read.query_one("SELECT * FROM rm_projects WHERE id = ?", (str(project_id),))
        labels = from_json(project["labels"])
        where, params = "project_id = ?", [str(project_id)]
        if view_id is not None:
            where += " AND id IN (SELECT item_id FROM rm_view_items WHERE view_id = ?)"
            params.append(str(view_id))
        rows = read.query(f"SELECT * FROM rm_items WHERE {where} ORDER BY created_at, id", params)
        names = _unique_names(rows)
        views = {} if view_id is not None else {
            view["name"]: [names[r["item_id"]] for r in read.query(
                "SELECT item_id FROM rm_view_items WHERE view_id = ?", (view["id"],)) if r["item_id"] in names]
            for view in read.query("SELECT * FROM rm_views WHERE project_id = ?", (str(project_id),))}
        return ExchangeDataset(task_type=project["task_type"], exclusive_labels=bool(project["exclusive_labels"]),
                               labels=[ExchangeLabel(l["name"], l["color"], l["hotkey"]) for l in labels],
                               items=self._items(context, rows, names, {l["id"]: l["name"] for l in labels}, tally),
                               views=views)

    def _items(self, context: JobContext, rows: list[dict], names: dict[str, str], label_names: dict[str, str],
               tally: dict[str, int]) -> Iterator[ExchangeItem]:
        for index, row in enumerate(rows):
            context.progress(90 * index / max(1, len(rows)), f"Writing image {index + 1} of {len(rows)}")
            annotations = [ExchangeAnnotation([label_names[l["id"]] for l in a["labels"] if l["id"] in label_names],
                                              a["shape"]) for a in from_json(row["annotations"])]
            annotations = [a for a in annotations if a.labels]
            tally["images"] += 1
            tally["annotations"] += len(annotations)
            subset = row["subset"] if row["subset"] != "unassigned" else None
            yield ExchangeItem(name=names[row["id"]], load_bytes=_loader(self.transfer, row["media_sha256"]),
                               width=row["width"], height=row["height"], subset=subset,
                               tags=from_json(row["tags"]), annotations=annotations, annotated=bool(row["annotated"]))


class StageDataset(ExportDataset):
    """Copy a project's dataset (or view) into the staging area in Viewfinder's own format."""

    job_type = "stage_dataset"
    origin = "stage"

    def format_name(self, parameters: dict[str, Any]) -> str:
        return "viewfinder"


def _loader(transfer: Transfer, sha256: str) -> Any:
    return lambda: transfer.media.get(sha256)


def _unique_names(rows: list[dict]) -> dict[str, str]:
    """Item names as file names, made unique (a repeated name gets the item id in front)."""
    seen: dict[str, int] = {}
    for row in rows:
        seen[row["name"].casefold()] = seen.get(row["name"].casefold(), 0) + 1
    return {row["id"]: row["name"] if seen[row["name"].casefold()] == 1 else f"{row['id']}_{row['name']}"
            for row in rows}


HANDLERS = (ExportDataset, StageDataset)
