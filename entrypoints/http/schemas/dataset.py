"""Schemas of annotations, tags and views."""

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from entrypoints.http.schemas.fields import Name

SUBSETS = ("unassigned", "training", "validation", "testing")
TAG = fields.String(validate=validate.Length(min=1, max=50))


class Strict(Schema):
    class Meta:
        unknown = RAISE


class AnnotationLabelSchema(Strict):
    id = fields.UUID(required=True)
    confidence = fields.Float(allow_none=True, validate=validate.Range(min=0, max=1))

    @post_load
    def drop_empty(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {k: v for k, v in data.items() if v is not None}


class PointSchema(Strict):
    x = fields.Float(required=True, allow_nan=False)
    y = fields.Float(required=True, allow_nan=False)


class RectangleSchema(Strict):
    type = fields.String(required=True, validate=validate.Equal("rectangle"))
    x = fields.Float(required=True, allow_nan=False)
    y = fields.Float(required=True, allow_nan=False)
    width = fields.Float(required=True, allow_nan=False)
    height = fields.Float(required=True, allow_nan=False)


class PolygonSchema(Strict):
    type = fields.String(required=True, validate=validate.Equal("polygon"))
    points = fields.List(fields.Nested(PointSchema), required=True)


class FullImageSchema(Strict):
    type = fields.String(required=True, validate=validate.Equal("full_image"))


class ShapeField(fields.Field):
    """A shape, validated by the schema of its `type`."""

    schemas = {"rectangle": RectangleSchema, "polygon": PolygonSchema, "full_image": FullImageSchema}
    default_error_messages = {"invalid": "Must be an object whose type is rectangle, polygon or full_image."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, Any]:
        if not isinstance(value, dict) or value.get("type") not in self.schemas:
            raise self.make_error("invalid")
        return self.schemas[value["type"]]().load(value)


class AnnotationSchema(Strict):
    labels = fields.List(fields.Nested(AnnotationLabelSchema), required=True)
    shape = ShapeField(required=True)


class AnnotationsSchema(Strict):
    annotations = fields.List(fields.Nested(AnnotationSchema), required=True)


class TagsChangeSchema(Strict):
    items = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=1000))
    add = fields.List(TAG, load_default=list)
    remove = fields.List(TAG, load_default=list)


class ItemFilterSchema(Strict):
    annotated = fields.Boolean()
    labels = fields.List(fields.UUID())
    tags = fields.List(TAG)
    subset = fields.String(validate=validate.OneOf(SUBSETS))
    created_after = fields.AwareDateTime()
    created_before = fields.AwareDateTime()


class ViewItemsSchema(Strict):
    items = fields.List(fields.UUID(), validate=validate.Length(min=1, max=10000))
    filter = fields.Nested(ItemFilterSchema)

    @validates_schema
    def one_of(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("items" in data) == ("filter" in data):
            raise ValidationError("Give either 'items' (a list of ids) or 'filter', not both or neither.")


class ViewCreateSchema(Strict):
    id = fields.UUID()
    name = Name(required=True)
