"""The webhook sink against a real local HTTP server, including its failures."""

from __future__ import annotations

import json

import pytest
from sink_peers import WebhookServer, sample_frame, sample_prediction

from adapters.sinks import WebhookSink, build_sink
from application.ports.sinks import SinkUnavailableError

NO_WAIT = (0.01, 0.05)


def test_predictions_are_sent_as_json_with_the_configured_method_and_headers() -> None:
    frame = sample_frame()
    with WebhookServer() as server:
        sink = WebhookSink(server.url, "put", {"X-Api-Key": "k1"}, 2, ["predictions"])
        sink.send(frame, None, sample_prediction(frame))
        sink.close()
    method, headers, body = server.requests[0]
    assert (method, headers["X-Api-Key"], headers["Content-Type"]) == (
        "PUT", "k1", "application/json",
    )  # fmt: skip
    message = json.loads(body)
    assert message["frame"]["sequence"] == 7
    assert message["predictions"][0]["labels"][0]["name"] == "bolt"
    assert "image_original" not in message and sink.stats.dispatched == 1


def test_server_errors_are_retried_with_growing_backoff_until_it_answers() -> None:
    pauses: list[float] = []
    frame = sample_frame()
    with WebhookServer([500, 503]) as server:
        sink = WebhookSink(server.url, attempts=3, backoff=(0.01, 1), sleep=pauses.append)
        sink.send(frame, None, sample_prediction(frame))
    assert len(server.requests) == 3 and pauses == [0.01, 0.02]


def test_a_server_that_keeps_failing_makes_the_sink_unavailable_after_its_attempts() -> None:
    frame = sample_frame()
    with WebhookServer([500, 500, 500]) as server:
        sink = WebhookSink(server.url + "?token=secret", attempts=3, backoff=NO_WAIT)
        with pytest.raises(SinkUnavailableError, match="failed after 3 attempts: HTTP 500") as e:
            sink.send(frame, None, sample_prediction(frame))
    assert "secret" not in str(e.value) and sink.stats.failed == 1


def test_a_server_that_does_not_answer_in_time_is_retried() -> None:
    frame = sample_frame()
    with WebhookServer(["slow"], slow_s=0.6) as server:
        sink = WebhookSink(server.url, timeout=0.2, attempts=2, backoff=NO_WAIT)
        sink.send(frame, None, sample_prediction(frame))
    assert len(server.requests) == 2 and sink.stats.dispatched == 1


def test_a_rejected_request_is_not_retried() -> None:
    frame = sample_frame()
    with WebhookServer([404]) as server:
        sink = WebhookSink(server.url, attempts=3, backoff=NO_WAIT)
        with pytest.raises(SinkUnavailableError, match="rejected the message with HTTP 404"):
            sink.send(frame, None, sample_prediction(frame))
    assert len(server.requests) == 1


def test_an_endpoint_nobody_listens_on_is_unavailable() -> None:
    frame = sample_frame()
    sink = WebhookSink("http://127.0.0.1:9/hook", attempts=2, backoff=NO_WAIT)
    with pytest.raises(SinkUnavailableError, match="cannot connect"):
        sink.send(frame, None, sample_prediction(frame))


def test_a_configured_webhook_sends_images_as_base64_jpegs_at_the_rate_limit() -> None:
    formats = ["image_original", "image_with_predictions", "predictions"]
    with WebhookServer() as server:
        config = {"sink_type": "webhook", "webhook_url": server.url, "http_method": "POST",
                  "headers": {}, "timeout": 2, "output_formats": formats,
                  "rate_limit": 0.5}  # fmt: skip
        sink = build_sink(config)
        for sequence in range(5):
            frame = sample_frame(sequence)
            sink.send(frame, None, sample_prediction(frame))
        assert sink.flush(5)
        sink.close()
    assert len(server.requests) == 1 and sink.stats.rate_limited == 4
    message = json.loads(server.requests[0][2])
    assert message["image_original"].startswith("/9j/")  # base64 of a JPEG's FF D8 FF
    assert message["image_with_predictions"].startswith("/9j/")
