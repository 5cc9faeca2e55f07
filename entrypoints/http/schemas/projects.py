"""Schemas of projects, labels, training configuration and pipeline configuration."""

from marshmallow import RAISE, Schema, fields, validate

from domain.labels import MAX_LABEL_NAME
from domain.project import TASK_TYPES
from entrypoints.http.schemas.fields import Name, TrimmedString

COLOR = validate.Regexp(r"^#[0-9A-Fa-f]{6}$", error="Must be a colour of the form #RRGGBB.")
HOTKEY = validate.Length(min=1, max=20)


class Strict(Schema):
    class Meta:
        unknown = RAISE


class NewLabelSchema(Strict):
    name = TrimmedString(required=True, validate=validate.Length(min=1, max=MAX_LABEL_NAME))
    color = fields.String(load_default=None, allow_none=True, validate=COLOR)
    hotkey = fields.String(load_default=None, allow_none=True, validate=HOTKEY)


class TaskSchema(Strict):
    task_type = fields.String(required=True, validate=validate.OneOf(TASK_TYPES))
    exclusive_labels = fields.Boolean(load_default=False)
    labels = fields.List(fields.Nested(NewLabelSchema), required=True, validate=validate.Length(min=1, max=1000))


class ProjectCreateSchema(Strict):
    id = fields.UUID()
    name = Name(required=True)
    task = fields.Nested(TaskSchema, required=True)


class ProjectRenameSchema(Strict):
    name = Name(required=True)


class LabelEditSchema(Strict):
    id = fields.UUID(required=True)
    new_name = TrimmedString(validate=validate.Length(min=1, max=MAX_LABEL_NAME))
    new_color = fields.String(validate=COLOR)
    new_hotkey = fields.String(allow_none=True, validate=validate.Length(max=20))


class LabelRefSchema(Strict):
    id = fields.UUID(required=True)


class LabelsChangeSchema(Strict):
    labels_to_add = fields.List(fields.Nested(NewLabelSchema), load_default=list)
    labels_to_edit = fields.List(fields.Nested(LabelEditSchema), load_default=list)
    labels_to_remove = fields.List(fields.Nested(LabelRefSchema), load_default=list)


class FixedRatePolicySchema(Strict):
    type = fields.String(required=True, validate=validate.Equal("fixed_rate"))
    enabled = fields.Boolean(load_default=True)
    rate = fields.Float(required=True, validate=validate.Range(min=0, min_inclusive=False, max=100))


class ConfidencePolicySchema(Strict):
    type = fields.String(required=True, validate=validate.Equal("confidence_threshold"))
    enabled = fields.Boolean(load_default=True)
    confidence_threshold = fields.Float(required=True, validate=validate.Range(min=0, max=1))
    min_sampling_interval = fields.Float(load_default=1.0, validate=validate.Range(min=0, min_inclusive=False,
                                                                                  max=86400))


class PolicyField(fields.Field):
    """A collection policy, validated by the schema of its `type`."""

    schemas = {"fixed_rate": FixedRatePolicySchema, "confidence_threshold": ConfidencePolicySchema}

    def _deserialize(self, value, attr, data, **kwargs):  # type: ignore[no-untyped-def]
        if not isinstance(value, dict) or value.get("type") not in self.schemas:
            raise self.make_error("invalid")
        return self.schemas[value["type"]]().load(value)

    default_error_messages = {"invalid": "Must be an object whose type is fixed_rate or confidence_threshold."}


class DataCollectionSchema(Strict):
    max_dataset_size = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))
    policies = fields.List(PolicyField(), load_default=list, validate=validate.Length(max=10))


class PipelinePatchSchema(Strict):
    source_id = fields.UUID(allow_none=True)
    sink_id = fields.UUID(allow_none=True)
    model_id = fields.UUID(allow_none=True)
    data_collection = fields.Nested(DataCollectionSchema)
