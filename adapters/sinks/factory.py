"""Builds a sink from a sink config dict in the API shape."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from adapters.sinks.decoupled import DecoupledSink
from adapters.sinks.folder import FolderSink
from adapters.sinks.mqtt import MqttSink
from adapters.sinks.payload import parse_output_formats
from adapters.sinks.rate_limit import RateLimiter
from adapters.sinks.ros import RosSink
from adapters.sinks.webhook import WebhookSink
from application.errors import InvalidInputError
from application.ports.sinks import FrameSink


def _required(config: Mapping[str, Any], key: str) -> Any:
    value = config.get(key)
    if value is None or value == "":
        raise InvalidInputError(
            f"A {config.get('sink_type')} sink needs '{key}'.", {key: ["Missing."]}
        )
    return value


def build_sink_adapter(
    config: Mapping[str, Any], env: Mapping[str, str] | None = None
) -> FrameSink:
    """The bare sink for `config`, delivering in the caller's thread, without rate limiting."""
    env = os.environ if env is None else env
    sink_type, formats = config.get("sink_type"), config.get("output_formats")
    if sink_type == "folder":
        return FolderSink(str(_required(config, "folder_path")), formats)
    if sink_type == "mqtt":
        return MqttSink(
            str(_required(config, "broker_host")), int(config.get("broker_port") or 1883),
            str(_required(config, "topic")), formats, bool(config.get("auth_required")), env,
        )  # fmt: skip
    if sink_type == "webhook":
        return WebhookSink(
            str(_required(config, "webhook_url")), str(config.get("http_method") or "POST"),
            config.get("headers") or {}, float(config.get("timeout") or 10), formats,
        )  # fmt: skip
    if sink_type == "ros":
        host = config.get("rosbridge_host") or env.get("VIEWFINDER_ROSBRIDGE_HOST", "127.0.0.1")
        port = config.get("rosbridge_port") or env.get("VIEWFINDER_ROSBRIDGE_PORT") or 9090
        return RosSink(str(_required(config, "topic")), formats, str(host), int(port))
    raise InvalidInputError(
        f"Unknown sink type '{sink_type}'.",
        {"sink_type": ["Must be folder, mqtt, webhook or ros."]},
    )


def build_sink(config: Mapping[str, Any], env: Mapping[str, str] | None = None) -> DecoupledSink:
    """The sink for `config`, rate-limited and decoupled from the caller by a bounded queue."""
    parse_output_formats(config.get("output_formats"))
    rate = config.get("rate_limit")
    if rate is not None and (not isinstance(rate, int | float) or rate <= 0):
        raise InvalidInputError(
            "A rate limit is a number of frames per second above zero, or null.",
            {"rate_limit": ["Must be > 0 or null."]},
        )
    limiter = RateLimiter(None if rate is None else float(rate))
    return DecoupledSink(build_sink_adapter(config, env), limiter)
