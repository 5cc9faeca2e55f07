"""Schemas of response bodies, used to document them in the OpenAPI document."""

from marshmallow import Schema, fields


class ErrorSchema(Schema):
    detail = fields.String(required=True, metadata={"description": "One readable sentence."})
    errors = fields.Dict(metadata={"description": "Field path → messages, for validation errors."})


class LabelSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    color = fields.String()
    hotkey = fields.String(allow_none=True)


class LabelsSchema(Schema):
    task_type = fields.String()
    exclusive_labels = fields.Boolean()
    labels = fields.List(fields.Nested(LabelSchema))


class ProjectSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    task = fields.Nested(LabelsSchema)
    active_pipeline = fields.Boolean()
    created_at = fields.DateTime()


class ParameterSchema(Schema):
    type = fields.String(metadata={"enum": ["parameter", "parameter_group"]})
    key = fields.String()
    name = fields.String()
    description = fields.String()
    value_type = fields.String(metadata={"enum": ["bool", "int", "float", "str", "enum"]})
    value = fields.Raw()
    default_value = fields.Raw()
    min_value = fields.Float(allow_none=True)
    max_value = fields.Float(allow_none=True)
    allowed_values = fields.List(fields.String(), allow_none=True)
    parameters = fields.List(fields.Dict(), metadata={"description": "Children of a parameter_group."})


class TrainingConfigurationSchema(Schema):
    parameters = fields.List(fields.Nested(ParameterSchema))


class PipelineSchema(Schema):
    project_id = fields.UUID()
    status = fields.String(metadata={"enum": ["idle", "running", "error"]})
    enabled = fields.Boolean(metadata={"description": "Whether the pipeline was enabled (status says how it runs)."})
    source = fields.Dict(allow_none=True)
    sink = fields.Dict(allow_none=True)
    model = fields.Dict(allow_none=True)
    data_collection = fields.Dict()
    error = fields.String(allow_none=True)


class HealthSchema(Schema):
    status = fields.String(metadata={"enum": ["ok", "degraded"]})
    event_store = fields.Dict()
    read_models = fields.Dict()
    broker = fields.Dict()


class DatasetItemSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    format = fields.String(metadata={"enum": ["jpg", "png", "bmp", "tiff", "webp"]})
    width = fields.Integer()
    height = fields.Integer()
    size = fields.Integer()
    subset = fields.String(metadata={"enum": ["unassigned", "training", "validation", "testing"]})
    tags = fields.List(fields.String())
    annotated = fields.Boolean()
    created_at = fields.DateTime()
    source = fields.String(metadata={"enum": ["upload", "capture", "import"]})
    annotations = fields.List(fields.Dict(), metadata={"description": "With ?with_annotations=true."})


class PaginationSchema(Schema):
    offset = fields.Integer()
    limit = fields.Integer()
    count = fields.Integer()
    total = fields.Integer()


class DatasetItemsSchema(Schema):
    items = fields.List(fields.Nested(DatasetItemSchema))
    pagination = fields.Nested(PaginationSchema)


class AnnotationStateSchema(Schema):
    annotations = fields.List(fields.Dict())
    annotated = fields.Boolean()
    user_reviewed = fields.Boolean()
    updated_at = fields.DateTime()
    version = fields.Integer()


class TagCountSchema(Schema):
    tag = fields.String()
    count = fields.Integer()


class ViewSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    created_at = fields.DateTime()
    item_count = fields.Integer()


class HistoryEntrySchema(Schema):
    position = fields.Integer()
    timestamp = fields.DateTime()
    user = fields.String()
    kind = fields.String()
    aggregate_id = fields.UUID()
    version = fields.Integer()
    summary = fields.String()
    data = fields.Dict()


class JobSchema(Schema):
    id = fields.UUID()
    job_type = fields.String()
    project_id = fields.UUID(allow_none=True)
    status = fields.String(metadata={"enum": ["scheduled", "running", "cancelling", "done", "failed", "cancelled"]})
    progress = fields.Float()
    message = fields.String()
    error = fields.String(allow_none=True)
    parameters = fields.Dict()
    result = fields.Dict(allow_none=True)
    attempt = fields.Integer()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


class StagedDatasetSchema(Schema):
    id = fields.UUID()
    status = fields.String(metadata={"enum": ["uploaded", "ready", "invalid"]})
    format = fields.String(allow_none=True)
    size = fields.Integer()
    metadata = fields.Dict()
    error = fields.String(allow_none=True)
    origin = fields.String(metadata={"enum": ["upload", "export", "stage"]})
    project_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()


class ArchitectureSchema(Schema):
    id = fields.String()
    task_type = fields.String()
    name = fields.String()
    description = fields.String()
    default = fields.Boolean()
    parameters = fields.List(fields.Dict())


class ModelSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    architecture = fields.String()
    task_type = fields.String()
    status = fields.String(metadata={"enum": ["training", "trained", "failed"]})
    created_at = fields.DateTime()
    dataset_revision_id = fields.UUID()
    labels = fields.List(fields.Nested(LabelSchema))
    training = fields.Dict()
    variants = fields.List(fields.Dict())
    metrics = fields.List(fields.Dict())


class RevisionSchema(Schema):
    id = fields.UUID()
    created_at = fields.DateTime()
    item_counts = fields.Dict()
    files_deleted = fields.Boolean()
    size = fields.Integer()
