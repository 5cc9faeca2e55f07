"""MQTT sink: JSON messages on a topic with QoS 1 through paho-mqtt, reconnecting with backoff."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from adapters.sinks.payload import build_message, parse_output_formats
from application.ports.frames import Frame
from application.ports.sinks import FrameSink, PredictionPayload, SinkStats, SinkUnavailableError

USERNAME_VARIABLE = "VIEWFINDER_MQTT_USERNAME"
PASSWORD_VARIABLE = "VIEWFINDER_MQTT_PASSWORD"


class MqttSink(FrameSink):
    """Publishes one JSON message per frame; paho's network thread reconnects in the background."""

    def __init__(  # noqa: PLR0913 - mirrors the sink config
        self,
        broker_host: str,
        broker_port: int,
        topic: str,
        output_formats: Iterable[str] | None = None,
        auth_required: bool = False,
        env: Mapping[str, str] | None = None,
        connect_wait: float = 2.0,
        max_in_flight: int = 100,
        reconnect_delays: tuple[float, float] = (1.0, 30.0),
    ) -> None:
        self._address = f"{broker_host}:{broker_port}"
        self._host, self._port, self._topic = broker_host, broker_port, topic
        self._formats = parse_output_formats(output_formats)
        self._auth_required, self._env = auth_required, env
        self._connect_wait, self._max_in_flight = connect_wait, max_in_flight
        self._reconnect_delays = reconnect_delays
        self._client: mqtt.Client | None = None
        self._connected = threading.Event()
        self._refusal: str | None = None
        self._in_flight: deque[mqtt.MQTTMessageInfo] = deque()
        self._stats = SinkStats()

    def _start(self) -> mqtt.Client:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, f"viewfinder-{uuid.uuid4().hex[:12]}")
        if self._auth_required:
            env = os.environ if self._env is None else self._env
            username = env.get(USERNAME_VARIABLE)
            if not username:
                raise SinkUnavailableError(
                    f"MQTT broker {self._address} requires {USERNAME_VARIABLE} and "
                    f"{PASSWORD_VARIABLE} in the environment."
                )
            client.username_pw_set(username, env.get(PASSWORD_VARIABLE))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        low, high = self._reconnect_delays
        client.reconnect_delay_set(low, high)  # type: ignore[arg-type]  # paho accepts floats
        client.max_queued_messages_set(self._max_in_flight)
        client.connect_async(self._host, self._port, keepalive=30)
        client.loop_start()
        return client

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, _: Any
    ) -> None:
        if reason.is_failure:
            self._refusal = str(reason)
            return
        self._refusal = None
        self._connected.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, *args: Any) -> None:
        self._connected.clear()

    def send(
        self,
        frame: Frame,
        image_with_predictions_jpeg: bytes | None,
        prediction: PredictionPayload,
    ) -> None:
        """Publish with QoS 1; waits for acknowledgements once too many are in flight."""
        if self._client is None:
            self._client = self._start()
        if not self._connected.wait(self._connect_wait):
            self._stats.failed += 1
            reason = f" ({self._refusal})" if self._refusal else ""
            raise SinkUnavailableError(f"MQTT broker {self._address} is not reachable{reason}.")
        message = build_message(frame, image_with_predictions_jpeg, prediction, self._formats)
        info = self._client.publish(self._topic, json.dumps(message), qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            self._stats.failed += 1
            error = mqtt.error_string(info.rc)
            raise SinkUnavailableError(f"MQTT broker {self._address} refused a message: {error}.")
        self._in_flight.append(info)
        self._await_acknowledgements(self._max_in_flight - 1)
        self._stats.dispatched += 1

    def _await_acknowledgements(self, keep: int, timeout: float | None = None) -> None:
        while self._in_flight and (
            self._in_flight[0].is_published() or len(self._in_flight) > keep
        ):
            oldest = self._in_flight.popleft()
            try:
                oldest.wait_for_publish(timeout or self._connect_wait)
            except (RuntimeError, ValueError):
                pass  # lost with its connection; QoS 1 state died with the session
            if not oldest.is_published():
                self._stats.failed += 1

    def close(self) -> None:
        """Wait briefly for outstanding acknowledgements, then disconnect."""
        if self._client is None:
            return
        if self._connected.is_set():
            self._await_acknowledgements(0, timeout=1.0)
        self._client.disconnect()
        self._client.loop_stop()
        self._client = None

    @property
    def stats(self) -> SinkStats:
        """Published (not yet necessarily acknowledged) and failed messages."""
        return SinkStats(**self._stats.as_dict())
