"""The ROS sink (roslibpy) against a small local server speaking the rosbridge protocol."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

import pytest
from sink_peers import RosbridgeServer, sample_frame, sample_prediction

from adapters.sinks import RosSink, build_sink
from application.ports.sinks import SinkUnavailableError

pytest.importorskip("roslibpy")


def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def send(sink: RosSink, sequence: int) -> None:
    frame = sample_frame(sequence)
    sink.send(frame, None, sample_prediction(frame))


def test_predictions_are_published_as_std_msgs_string_json_through_rosbridge() -> None:
    topic = f"/viewfinder/{uuid.uuid4().hex[:8]}"
    with RosbridgeServer() as bridge:
        sink = RosSink(topic, ["predictions"], "127.0.0.1", bridge.port)
        send(sink, 1)
        send(sink, 2)
        assert eventually(lambda: len(bridge.ops("publish")) == 2)
        sink.close()
        assert eventually(lambda: len(bridge.ops("unadvertise")) == 1)
    (advertise,) = bridge.ops("advertise")
    assert (advertise["topic"], advertise["type"]) == (topic, "std_msgs/String")
    published = [json.loads(m["msg"]["data"]) for m in bridge.ops("publish")]
    assert [p["frame"]["sequence"] for p in published] == [1, 2]
    assert published[0]["predictions"][0]["labels"][0]["name"] == "bolt"


def test_an_unreachable_rosbridge_makes_the_sink_unavailable_until_it_comes_back() -> None:
    bridge = RosbridgeServer()
    sink = RosSink("/viewfinder/out", None, "127.0.0.1", bridge.port, connect_timeout=0.3)
    with pytest.raises(SinkUnavailableError, match=f"rosbridge at 127.0.0.1:{bridge.port} is not"):
        send(sink, 1)
    with bridge:
        assert eventually(lambda: try_send(sink, 2), timeout=8)
        assert eventually(lambda: len(bridge.ops("publish")) == 1)
    assert eventually(lambda: not try_send(sink, 3))  # the bridge went away while connected
    with bridge:
        assert eventually(lambda: try_send(sink, 4), timeout=8)
        assert eventually(lambda: len(bridge.ops("publish")) == 2)
        sink.close()
    assert eventually(lambda: len(bridge.ops("unadvertise")) == 1)
    # the topic is advertised again on reconnection, before anything is published on it
    ops = [message["op"] for message in bridge.messages]
    assert ops == ["advertise", "publish", "advertise", "publish", "unadvertise"]


def try_send(sink: RosSink, sequence: int) -> bool:
    try:
        send(sink, sequence)
        return True
    except SinkUnavailableError:
        return False


def test_a_configured_ros_sink_finds_rosbridge_from_its_config() -> None:
    with RosbridgeServer() as bridge:
        config = {"sink_type": "ros", "topic": "/out", "output_formats": ["predictions"],
                  "rate_limit": None, "rosbridge_port": bridge.port}  # fmt: skip
        sink = build_sink(config, env={})
        frame = sample_frame()
        sink.send(frame, None, sample_prediction(frame))
        assert sink.flush(5) and sink.stats.dispatched == 1
        sink.close()
        assert eventually(lambda: len(bridge.ops("publish")) == 1)
