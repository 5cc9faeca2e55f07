"""Predictions drawn on frames; sinks built from their configs."""

from __future__ import annotations

import numpy as np
import pytest

from adapters.sinks import FolderSink, MqttSink, RosSink, WebhookSink, build_sink_adapter
from adapters.sinks.overlay import caption, draw_predictions, label_color
from application.errors import InvalidInputError


def test_a_rectangle_and_a_polygon_are_outlined_and_the_original_is_untouched() -> None:
    image = np.zeros((200, 300, 3), np.uint8)
    prediction = {"predictions": [
        {"labels": [{"id": "1", "name": "bolt", "confidence": 0.9, "color": "#FF0000"}],
         "shape": {"type": "rectangle", "x": 50, "y": 60, "width": 100, "height": 80}},
        {"labels": [{"id": "2", "name": "nut", "confidence": 0.4}],
         "shape": {"type": "polygon", "points": [{"x": 200, "y": 100}, {"x": 280, "y": 150},
                                                 {"x": 220, "y": 190}]}},
    ]}  # fmt: skip
    drawn = draw_predictions(image, prediction)
    assert image.max() == 0
    assert tuple(drawn[100, 50]) == (0, 0, 255)  # left edge of the box, in the label's red
    assert drawn[150, 240].max() == 0  # inside the polygon stays clear
    assert drawn[190:200, 215:225].max() > 0  # a polygon corner is drawn


def test_a_classification_is_captioned_with_names_and_confidences() -> None:
    labels = [{"id": "1", "name": "ok", "confidence": 0.97}, {"id": "2", "name": "dent"}]
    assert caption(labels) == "ok 97%, dent"
    drawn = draw_predictions(np.zeros((100, 100, 3), np.uint8), {"predictions": [
        {"labels": labels, "shape": {"type": "full_image"}}]})  # fmt: skip
    assert drawn[:30].max() > 0 and drawn[60:].max() == 0
    assert label_color({"id": "x"}) == label_color({"id": "x"})


def test_each_sink_type_builds_without_connecting() -> None:
    common = {"output_formats": ["predictions"], "rate_limit": None}
    assert isinstance(build_sink_adapter({"sink_type": "folder", "folder_path": "/o", **common}),
                      FolderSink)  # fmt: skip
    mqtt = {"sink_type": "mqtt", "broker_host": "h", "broker_port": 1883, "topic": "t"}
    assert isinstance(build_sink_adapter({**mqtt, **common}), MqttSink)
    hook = {"sink_type": "webhook", "webhook_url": "http://h/x", "http_method": "PATCH"}
    assert isinstance(build_sink_adapter({**hook, **common}), WebhookSink)
    assert isinstance(build_sink_adapter({"sink_type": "ros", "topic": "/t", **common}), RosSink)


def test_bad_sink_configs_are_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="Unknown sink type"):
        build_sink_adapter({"sink_type": "fax"})
    with pytest.raises(InvalidInputError, match="Unknown output format 'gif'"):
        build_sink_adapter({"sink_type": "folder", "folder_path": "/o", "output_formats": ["gif"]})
    with pytest.raises(InvalidInputError, match="needs 'topic'"):
        build_sink_adapter({"sink_type": "mqtt", "broker_host": "h"})
    with pytest.raises(InvalidInputError, match="Unsupported webhook method 'GET'"):
        WebhookSink("http://h/x", "GET")
