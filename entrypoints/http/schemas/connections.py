"""Schemas of sources and sinks: a type discriminator plus one schema per type."""

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from domain.sink import OUTPUT_FORMATS, SINK_TYPES
from domain.source import SOURCE_TYPES
from entrypoints.http.schemas.fields import Name, check_url

MQTT_TOPIC = r"^[^#+\x00]{1,256}$"
ROS_TOPIC = r"^/?[A-Za-z][A-Za-z0-9_/]{0,255}$"
FOURCC = r"^[A-Za-z0-9 ]{4}$"


class ConnectionSchema(Schema):
    """Fields every source and sink has."""

    class Meta:
        unknown = RAISE

    id = fields.UUID(load_only=True)
    name = Name(required=True)


class UsbCameraSchema(ConnectionSchema):
    device_id = fields.Integer(load_default=0, validate=validate.Range(min=0, max=255))
    codec = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(FOURCC))


class IpCameraSchema(ConnectionSchema):
    stream_url = fields.String(required=True, validate=check_url(("rtsp", "rtsps", "http", "https")))
    auth_required = fields.Boolean(load_default=False)


class VideoFileSchema(ConnectionSchema):
    video_path = fields.String(required=True, validate=validate.Length(min=1, max=4096))
    loop = fields.Boolean(load_default=False)


class ImagesFolderSchema(ConnectionSchema):
    images_folder_path = fields.String(required=True, validate=validate.Length(min=1, max=4096))
    ignore_existing_images = fields.Boolean(load_default=False)


class SinkSchema(ConnectionSchema):
    output_formats = fields.List(fields.String(validate=validate.OneOf(OUTPUT_FORMATS)),
                                 load_default=lambda: ["predictions"], validate=validate.Length(min=1, max=3))
    rate_limit = fields.Float(load_default=None, allow_none=True,
                              validate=validate.Range(min=0, min_inclusive=False, max=1000))

    @validates_schema
    def check_formats(self, data: dict[str, Any], **kwargs: Any) -> None:
        formats = data.get("output_formats") or []
        if len(set(formats)) != len(formats):
            raise ValidationError("Each output format may appear once.", "output_formats")


class FolderSinkSchema(SinkSchema):
    folder_path = fields.String(required=True, validate=validate.Length(min=1, max=4096))


class MqttSinkSchema(SinkSchema):
    broker_host = fields.String(required=True, validate=validate.Length(min=1, max=253))
    broker_port = fields.Integer(load_default=1883, validate=validate.Range(min=1, max=65535))
    topic = fields.String(required=True, validate=validate.Regexp(MQTT_TOPIC, error="Not a publishable MQTT topic."))
    auth_required = fields.Boolean(load_default=False)


class WebhookSinkSchema(SinkSchema):
    webhook_url = fields.String(required=True, validate=check_url(("http", "https")))
    http_method = fields.String(load_default="POST", validate=validate.OneOf(("POST", "PUT", "PATCH")))
    headers = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^[A-Za-z0-9-]{1,100}$")),
                          values=fields.String(validate=validate.Length(max=4096)), load_default=dict)
    timeout = fields.Float(load_default=10.0, validate=validate.Range(min=0, min_inclusive=False, max=300))


class RosSinkSchema(SinkSchema):
    topic = fields.String(required=True, validate=validate.Regexp(ROS_TOPIC, error="Not a valid ROS topic name."))


SOURCE_SCHEMAS: dict[str, type[ConnectionSchema]] = {
    "usb_camera": UsbCameraSchema, "ip_camera": IpCameraSchema,
    "video_file": VideoFileSchema, "images_folder": ImagesFolderSchema,
}
SINK_SCHEMAS: dict[str, type[ConnectionSchema]] = {
    "folder": FolderSinkSchema, "mqtt": MqttSinkSchema, "webhook": WebhookSinkSchema, "ros": RosSinkSchema,
}
assert set(SOURCE_SCHEMAS) == set(SOURCE_TYPES) and set(SINK_SCHEMAS) == set(SINK_TYPES)
