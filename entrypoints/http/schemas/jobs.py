"""Schemas of job submissions: one parameter schema per job type."""

from marshmallow import RAISE, Schema, fields, validate

from entrypoints.http.schemas.fields import Name

FORMATS = ("coco", "yolo", "voc", "datumaro", "viewfinder")
TASK_TYPES = ("classification", "detection", "instance_segmentation")


class Strict(Schema):
    class Meta:
        unknown = RAISE


class JobSubmitSchema(Strict):
    id = fields.UUID()
    job_type = fields.String(required=True)
    project_id = fields.UUID(allow_none=True, load_default=None)
    parameters = fields.Dict(load_default=dict)


class TrainParameters(Strict):
    model_architecture_id = fields.String()
    dataset_view_id = fields.UUID()
    dataset_revision_id = fields.UUID()


class PrepareParameters(Strict):
    staged_dataset_id = fields.UUID(required=True)


class ImportAsNewParameters(Strict):
    staged_dataset_id = fields.UUID(required=True)
    name = Name(required=True)
    task_type = fields.String(validate=validate.OneOf(TASK_TYPES))
    include_unannotated = fields.Boolean(load_default=True)


class ImportToExistingParameters(Strict):
    staged_dataset_id = fields.UUID(required=True)
    project_id = fields.UUID()
    labels_mapping = fields.Dict(keys=fields.String(), values=fields.UUID(allow_none=True), load_default=dict)
    include_unannotated = fields.Boolean(load_default=True)


class ExportParameters(Strict):
    project_id = fields.UUID()
    format = fields.String(required=True, validate=validate.OneOf(FORMATS))
    view_id = fields.UUID()
    revision_id = fields.UUID()


class StageParameters(Strict):
    project_id = fields.UUID()
    view_id = fields.UUID()


class DiagnosticSleepParameters(Strict):
    seconds = fields.Float(load_default=1.0, validate=validate.Range(min=0, max=3600))
    steps = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100000))
    cooperative = fields.Boolean(load_default=True)


PARAMETER_SCHEMAS: dict[str, type[Schema]] = {
    "train": TrainParameters,
    "prepare_dataset_for_import": PrepareParameters,
    "import_dataset_as_new_project": ImportAsNewParameters,
    "import_dataset_to_existing_project": ImportToExistingParameters,
    "export_dataset": ExportParameters,
    "stage_dataset": StageParameters,
    "diagnostic_sleep": DiagnosticSleepParameters,
}
