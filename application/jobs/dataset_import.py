"""Import a staged dataset as a new project, or into an existing one."""

from typing import Any
from uuid import UUID

from domain.project import NewLabel, Project

from application.errors import InvalidInputError
from application.jobs.datasets import ItemImporter, PrepareDataset, StagedDatasetHandler, _staged_id
from application.jobs.handler import JobContext


class ImportAsNewProject(StagedDatasetHandler):
    """A new project with the dataset's labels, then every image through the upload command."""

    job_type = "import_dataset_as_new_project"

    def run(self, context: JobContext) -> dict[str, Any]:
        staged_id = _staged_id(context.parameters)
        context.progress(2, "Reading the staged dataset")
        dataset, dataset_format = self.transfer.open(staged_id)
        task_type = context.parameters.get("task_type") or dataset.task_type
        if task_type is None:
            raise InvalidInputError("The dataset has no annotations to tell its task type; give parameters.task_type.")
        labels = [NewLabel(label.name, label.color, label.hotkey) for label in dataset.labels]
        exclusive = bool(dataset.exclusive_labels) if dataset.exclusive_labels is not None else (
            task_type == "classification" and len(labels) >= 2
            and all(len(a.labels) <= 1 for i in dataset.items for a in i.annotations))
        project_id = self.transfer.projects.create(context.parameters["name"], task_type, exclusive, labels,
                                                   context.user).id
        context.log(f"Created project {project_id} ({task_type}, {len(labels)} labels) from {dataset_format.name}.")
        project = self.transfer.store.load(Project, project_id, "project")
        importer = ItemImporter(self.transfer, context, project_id, {l.name.casefold(): l.id for l in project.labels},
                                bool(context.parameters.get("include_unannotated", True)))
        counts = importer.run(list(dataset.items))
        for name, item_names in dataset.views.items():
            view_id = self.transfer.views.create(project_id, name, context.user).id
            ids = [importer.names[n] for n in item_names if n in importer.names]
            if ids:
                self.transfer.views.add_items(project_id, view_id, ids, context.user)
        return {"project_id": str(project_id), "format": dataset_format.name, **counts}


class ImportToExistingProject(StagedDatasetHandler):
    """Images into an existing project; dataset labels mapped by `labels_mapping`, else by name."""

    job_type = "import_dataset_to_existing_project"

    def check(self, project_id: UUID | None, parameters: dict[str, Any]) -> None:
        super().check(project_id, parameters)
        project = self.transfer.check_project(project_id)
        known = {str(label.id) for label in project.labels}
        for name, label_id in parameters.get("labels_mapping", {}).items():
            if label_id is not None and str(label_id) not in known:
                raise InvalidInputError(f"labels_mapping maps '{name}' to {label_id}, which is not a label of the "
                                        "project.", {"parameters": {"labels_mapping": [f"Unknown label {label_id}."]}})

    def run(self, context: JobContext) -> dict[str, Any]:
        project = self.transfer.check_project(context.project_id)
        dataset, dataset_format = self.transfer.open(_staged_id(context.parameters))
        by_name = {label.name.casefold(): label.id for label in project.labels}
        mapping = {name.casefold(): (UUID(str(v)) if v else None)
                   for name, v in context.parameters.get("labels_mapping", {}).items()}
        label_ids = {label.name.casefold(): mapping.get(label.name.casefold(), by_name.get(label.name.casefold()))
                     for label in dataset.labels}
        for name, label_id in label_ids.items():
            if label_id is None:
                context.log(f"Dataset label '{name}' maps to no project label; its annotations are dropped.")
        importer = ItemImporter(self.transfer, context, project.id, label_ids,
                                bool(context.parameters.get("include_unannotated", True)))
        counts = importer.run(list(dataset.items))
        return {"project_id": str(project.id), "format": dataset_format.name, **counts}


HANDLERS = (PrepareDataset, ImportAsNewProject, ImportToExistingProject)
