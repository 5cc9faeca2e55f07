"""Draws predictions (rectangles, polygons, label names and confidences) on a BGR image."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX


def label_color(label: Mapping[str, Any]) -> tuple[int, int, int]:
    """The label's '#RRGGBB' colour as BGR, or a stable colour derived from its id."""
    color = str(label.get("color") or "")
    if len(color) == 7 and color.startswith("#"):
        red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
        return blue, green, red
    hue = zlib.crc32(str(label.get("id", label.get("name", ""))).encode()) % 180
    pixel = cv2.cvtColor(np.array([[[hue, 200, 230]]], np.uint8), cv2.COLOR_HSV2BGR)[0, 0]
    return int(pixel[0]), int(pixel[1]), int(pixel[2])


def caption(labels: list[Mapping[str, Any]]) -> str:
    """E.g. 'cat 93%, pet 71%'."""
    parts = []
    for label in labels:
        confidence = label.get("confidence")
        name = str(label.get("name") or label.get("id") or "?")
        parts.append(name if confidence is None else f"{name} {float(confidence):.0%}")
    return ", ".join(parts)


def _put_caption(image: Any, text: str, origin: tuple[int, int], color: tuple[int, ...]) -> None:
    scale = max(0.4, min(image.shape[:2]) / 800)
    (width, height), baseline = cv2.getTextSize(text, FONT, scale, 1)
    x = min(max(origin[0], 0), max(image.shape[1] - width, 0))
    y = min(max(origin[1], height + baseline), image.shape[0])
    cv2.rectangle(image, (x, y - height - baseline), (x + width, y), color, cv2.FILLED)
    luminance = 0.114 * color[0] + 0.587 * color[1] + 0.299 * color[2]
    ink = (0, 0, 0) if luminance > 150 else (255, 255, 255)
    cv2.putText(image, text, (x, y - baseline), FONT, scale, ink, 1, cv2.LINE_AA)


def draw_predictions(image: Any, prediction: Mapping[str, Any]) -> Any:
    """A copy of `image` with every shape outlined and captioned in its top label's colour."""
    canvas = image.copy()
    thickness = max(1, min(canvas.shape[:2]) // 240)
    full_image_row = 0
    for item in prediction.get("predictions", []):
        labels = sorted(item.get("labels", []), key=lambda lb: -float(lb.get("confidence") or 0))
        color = label_color(labels[0]) if labels else (0, 255, 0)
        shape = item.get("shape") or {"type": "full_image"}
        if shape.get("type") == "rectangle":
            x, y = int(shape["x"]), int(shape["y"])
            right, bottom = x + int(shape["width"]), y + int(shape["height"])
            cv2.rectangle(canvas, (x, y), (right, bottom), color, thickness)
            origin = (x, y)
        elif shape.get("type") == "polygon":
            points = np.array([[p["x"], p["y"]] for p in shape["points"]], np.int32)
            cv2.polylines(canvas, [points.reshape(-1, 1, 2)], True, color, thickness)
            origin = (int(points[:, 0].min()), int(points[:, 1].min()))
        else:
            full_image_row += 1
            origin = (0, full_image_row * int(24 * max(1.0, min(canvas.shape[:2]) / 800)))
        if labels:
            _put_caption(canvas, caption(labels), origin, color)
    return canvas
