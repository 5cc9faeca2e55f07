"""The MQTT sink against the real Mosquitto, read back by a real paho subscriber."""

from __future__ import annotations

import json
import queue
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sink_peers import PrivateBroker, sample_frame, sample_prediction

from adapters.sinks import MqttSink, build_sink
from application.ports.sinks import SinkUnavailableError

pytestmark = pytest.mark.mqtt


class Subscriber:
    """A paho client collecting the messages of one topic."""

    def __init__(self, port: int, topic: str, auth: tuple[str, str] | None = None) -> None:
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        if auth:
            self.client.username_pw_set(*auth)
        self.client.on_message = lambda client, userdata, message: self.messages.put(message)
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()
        time.sleep(0.1)  # let the SUBACK arrive before anything is published

    def take(self, count: int, timeout: float = 5.0) -> list[mqtt.MQTTMessage]:
        return [self.messages.get(timeout=timeout) for _ in range(count)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def topic() -> str:
    return f"viewfinder-test/{uuid.uuid4().hex}/predictions"


@pytest.fixture
def subscriber(topic: str) -> Iterator[Subscriber]:
    listener = Subscriber(1883, topic)
    yield listener
    listener.close()


def send(sink: Any, sequence: int) -> None:
    frame = sample_frame(sequence)
    sink.send(frame, None, sample_prediction(frame))


def test_predictions_arrive_as_json_on_the_topic_with_qos_1(
    topic: str, subscriber: Subscriber
) -> None:
    sink = MqttSink("127.0.0.1", 1883, topic, ["predictions"])
    for sequence in range(3):
        send(sink, sequence)
    sink.close()
    received = subscriber.take(3)
    assert [m.qos for m in received] == [1, 1, 1]
    bodies = [json.loads(m.payload) for m in received]
    assert [b["frame"]["sequence"] for b in bodies] == [0, 1, 2]
    assert bodies[0]["predictions"][0]["labels"][0] == {"id": "a1", "name": "bolt",
                                                        "confidence": 0.91}  # fmt: skip
    assert sink.stats.dispatched == 3 and sink.stats.failed == 0


def test_a_configured_mqtt_sink_sends_images_when_asked_and_does_not_block_the_caller(
    topic: str, subscriber: Subscriber
) -> None:
    config = {"sink_type": "mqtt", "broker_host": "127.0.0.1", "broker_port": 1883,
              "topic": topic, "auth_required": False, "rate_limit": None,
              "output_formats": ["image_original", "image_with_predictions"]}  # fmt: skip
    sink = build_sink(config)
    started = time.perf_counter()
    send(sink, 1)
    assert time.perf_counter() - started < 0.05  # the connection is made off the caller's thread
    (message,) = subscriber.take(1)
    body = json.loads(message.payload)
    assert set(body) == {"model_id", "frame", "image_original", "image_with_predictions"}
    sink.close()


def test_an_unreachable_broker_fails_readably_and_the_sink_recovers_when_it_returns(
    tmp_path: Path, topic: str
) -> None:
    broker = PrivateBroker(tmp_path)
    sink = MqttSink("127.0.0.1", broker.port, topic, connect_wait=0.3,
                    reconnect_delays=(0.1, 0.2))  # fmt: skip
    with pytest.raises(SinkUnavailableError, match=rf"MQTT broker 127.0.0.1:{broker.port} is not"):
        send(sink, 1)
    try:
        for sequence in (2, 3):  # first start, then a restart after an outage
            broker.start()
            listener = Subscriber(broker.port, topic)
            send_until_accepted(sink, sequence)
            assert json.loads(listener.take(1)[0].payload)["frame"]["sequence"] == sequence
            listener.close()
            broker.stop()
            time.sleep(0.1)
            with pytest.raises(SinkUnavailableError, match="is not reachable"):
                send(sink, 99)
        sink.close()
    finally:
        broker.stop()


def send_until_accepted(sink: MqttSink, sequence: int) -> None:
    deadline = time.monotonic() + 5
    while True:
        try:
            send(sink, sequence)
            return
        except SinkUnavailableError:
            assert time.monotonic() < deadline, "the sink never reconnected"


def test_credentials_come_from_the_environment_when_the_broker_requires_them(
    tmp_path: Path, topic: str
) -> None:
    broker = PrivateBroker(tmp_path, users={"camera-7": "pa ss"})
    broker.start()
    try:
        listener = Subscriber(broker.port, topic, auth=("camera-7", "pa ss"))
        env = {"VIEWFINDER_MQTT_USERNAME": "camera-7", "VIEWFINDER_MQTT_PASSWORD": "pa ss"}
        sink = MqttSink("127.0.0.1", broker.port, topic, auth_required=True, env=env)
        send(sink, 5)
        assert json.loads(listener.take(1)[0].payload)["frame"]["sequence"] == 5
        sink.close()
        wrong = {"VIEWFINDER_MQTT_USERNAME": "camera-7", "VIEWFINDER_MQTT_PASSWORD": "nope"}
        refused = MqttSink("127.0.0.1", broker.port, topic, auth_required=True, env=wrong,
                           connect_wait=0.5)  # fmt: skip
        with pytest.raises(SinkUnavailableError, match="not reachable \\(Not authorized\\)"):
            send(refused, 6)
        refused.close()
        with pytest.raises(SinkUnavailableError, match="VIEWFINDER_MQTT_USERNAME"):
            send(MqttSink("127.0.0.1", broker.port, topic, auth_required=True, env={}), 7)
        listener.close()
    finally:
        broker.stop()
