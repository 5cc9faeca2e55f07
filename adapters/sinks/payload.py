"""What a sink sends: the configured output formats of one frame and its prediction."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

import cv2

from adapters.sinks.overlay import draw_predictions
from application.errors import InvalidInputError
from application.ports.frames import Frame
from application.ports.sinks import OUTPUT_FORMATS, PredictionPayload


def parse_output_formats(value: Iterable[str] | None) -> frozenset[str]:
    """The configured formats; None means predictions only."""
    formats = frozenset(["predictions"] if value is None else value)
    unknown = sorted(formats - set(OUTPUT_FORMATS))
    if unknown:
        raise InvalidInputError(
            f"Unknown output format '{unknown[0]}'.",
            {"output_formats": [f"Each must be one of {', '.join(OUTPUT_FORMATS)}."]},
        )
    return formats


def encode_jpeg(image: Any, quality: int = 90) -> bytes:
    """JPEG bytes of a BGR array."""
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("OpenCV could not encode the frame as JPEG")
    return buffer.tobytes()


def annotated_jpeg(frame: Frame, given: bytes | None, prediction: PredictionPayload) -> bytes:
    """The caller's annotated JPEG, or one drawn here when the caller had none."""
    return given if given is not None else encode_jpeg(draw_predictions(frame.image, prediction))


def build_message(
    frame: Frame,
    image_with_predictions_jpeg: bytes | None,
    prediction: PredictionPayload,
    formats: frozenset[str],
) -> dict[str, Any]:
    """JSON-ready message: model id and frame always, predictions and base64 JPEGs on demand."""
    message: dict[str, Any] = {
        "model_id": prediction.get("model_id"),
        "frame": prediction.get("frame") or frame.metadata(),
    }
    if "predictions" in formats:
        message["predictions"] = prediction.get("predictions", [])
    if "image_original" in formats:
        message["image_original"] = _base64(encode_jpeg(frame.image))
    if "image_with_predictions" in formats:
        jpeg = annotated_jpeg(frame, image_with_predictions_jpeg, prediction)
        message["image_with_predictions"] = _base64(jpeg)
    return message


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
