"""Sink: where a pipeline sends its predictions (folder, MQTT, webhook, ROS)."""

from domain.connection import Connection

SINK_TYPES = ("folder", "mqtt", "webhook", "ros")
OUTPUT_FORMATS = ("image_original", "image_with_predictions", "predictions")


class Sink(Connection):
    """A configured prediction sink."""

    kind = "sink"
    types = SINK_TYPES
