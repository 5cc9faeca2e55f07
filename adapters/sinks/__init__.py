"""Frame sinks: folder, MQTT, webhook and ROS, behind a decoupling queue."""

from adapters.sinks.decoupled import DecoupledSink
from adapters.sinks.factory import build_sink, build_sink_adapter
from adapters.sinks.folder import FolderSink
from adapters.sinks.mqtt import MqttSink
from adapters.sinks.overlay import draw_predictions
from adapters.sinks.rate_limit import RateLimiter
from adapters.sinks.ros import RosSink
from adapters.sinks.webhook import WebhookSink

__all__ = [
    "DecoupledSink",
    "FolderSink",
    "MqttSink",
    "RateLimiter",
    "RosSink",
    "WebhookSink",
    "build_sink",
    "build_sink_adapter",
    "draw_predictions",
]
