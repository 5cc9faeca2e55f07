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
