"""Shapes in the API form: built from file coordinates, checked against the image, merged.

Every reader rounds pixel coordinates to DECIMALS places, clamps shapes that overshoot the
image by at most TOLERANCE_PX (tools disagree by a pixel at the borders, e.g. VOC's 1-based
corners) and refuses shapes that lie further out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from typing import Any

from application.ports.dataset_formats import ExchangeAnnotation, InvalidDatasetError

DECIMALS = 2
TOLERANCE_PX = 1.0
MAX_POLYGON_POINTS = 10000
Number = int | float


def number(value: Any) -> Number:
    """A coordinate rounded to DECIMALS places; whole numbers become ints."""
    rounded = round(float(value), DECIMALS)
    return int(rounded) if rounded.is_integer() else rounded


def _finite(values: Sequence[Any], where: str) -> list[float]:
    try:
        if any(isinstance(v, bool) for v in values):
            raise TypeError("a boolean is not a coordinate")
        floats = [float(v) for v in values]
    except (TypeError, ValueError):
        raise InvalidDatasetError(f"{where}: the coordinates {list(values)!r} are not numbers.") from None
    if not all(math.isfinite(v) for v in floats):
        raise InvalidDatasetError(f"{where}: the coordinates {list(values)!r} are not finite numbers.")
    return floats


def _clamp(value: float, limit: int, where: str, what: str) -> float:
    if value < -TOLERANCE_PX or value > limit + TOLERANCE_PX:
        raise InvalidDatasetError(f"{where}: the {what} lies outside the image.")
    return min(max(value, 0.0), float(limit))


def rectangle(x: Any, y: Any, width: Any, height: Any, size: tuple[int, int], where: str) -> dict[str, Any]:
    """A rectangle shape from a corner and a size in pixels, clamped to the image."""
    x1, y1, w, h = _finite([x, y, width, height], where)
    what = f"box (x={x1:g}, y={y1:g}, width={w:g}, height={h:g}) of the {size[0]}x{size[1]} image"
    if w <= 0 or h <= 0:
        raise InvalidDatasetError(f"{where}: the {what} is empty.")
    left, top = number(_clamp(x1, size[0], where, what)), number(_clamp(y1, size[1], where, what))
    right, bottom = number(_clamp(x1 + w, size[0], where, what)), number(_clamp(y1 + h, size[1], where, what))
    if right <= left or bottom <= top:
        raise InvalidDatasetError(f"{where}: the {what} is empty once rounded to the image.")
    return {"type": "rectangle", "x": left, "y": top, "width": number(right - left), "height": number(bottom - top)}


def polygon(flat: Sequence[Any], size: tuple[int, int], where: str) -> dict[str, Any]:
    """A polygon shape from [x1, y1, x2, y2, ...] in pixels, clamped to the image."""
    values = _finite(flat, where)
    if len(values) % 2 or not 3 <= len(values) // 2 <= MAX_POLYGON_POINTS:
        raise InvalidDatasetError(f"{where}: a polygon needs 3 to {MAX_POLYGON_POINTS} (x, y) points.")
    what = f"polygon point of the {size[0]}x{size[1]} image"
    points = [{"x": number(_clamp(values[i], size[0], where, what)),
               "y": number(_clamp(values[i + 1], size[1], where, what))} for i in range(0, len(values), 2)]
    return {"type": "polygon", "points": points}


def full_image() -> dict[str, Any]:
    return {"type": "full_image"}


def api_shape(shape: Any, size: tuple[int, int], where: str) -> dict[str, Any]:
    """Check a shape already in the API form (Viewfinder's own format)."""
    kind = shape.get("type") if isinstance(shape, dict) else None
    try:
        if kind == "rectangle":
            return rectangle(shape["x"], shape["y"], shape["width"], shape["height"], size, where)
        if kind == "polygon":
            return polygon([v for p in shape["points"] for v in (p["x"], p["y"])], size, where)
    except (KeyError, TypeError):
        raise InvalidDatasetError(f"{where}: the {kind} shape lacks coordinates.") from None
    if kind == "full_image":
        return full_image()
    raise InvalidDatasetError(f"{where}: {kind!r} is not a shape type (rectangle, polygon or full_image).")


def flat_points(shape: dict[str, Any]) -> list[Number]:
    return [v for p in shape["points"] for v in (p["x"], p["y"])]


def bounds(shape: dict[str, Any]) -> tuple[Number, Number, Number, Number]:
    """(x, y, width, height) of a rectangle, or of the box around a polygon."""
    if shape["type"] == "rectangle":
        return shape["x"], shape["y"], shape["width"], shape["height"]
    xs, ys = [p["x"] for p in shape["points"]], [p["y"] for p in shape["points"]]
    return min(xs), min(ys), number(max(xs) - min(xs)), number(max(ys) - min(ys))


def area(shape: dict[str, Any]) -> float:
    if shape["type"] == "rectangle":
        return float(shape["width"] * shape["height"])
    pts = shape["points"]
    twice = sum(p["x"] * q["y"] - q["x"] * p["y"] for p, q in zip(pts, pts[1:] + pts[:1], strict=True))
    return abs(twice) / 2


def per_label(annotations: Sequence[ExchangeAnnotation]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, shape) pairs: formats with one label per shape repeat the shape for each label."""
    for annotation in annotations:
        for label in annotation.labels:
            yield label, annotation.shape


def merge(annotations: Sequence[ExchangeAnnotation]) -> list[ExchangeAnnotation]:
    """One annotation per distinct shape, carrying every label it had (undoes `per_label`)."""
    merged: dict[str, list[Any]] = {}
    for annotation in annotations:
        key = json.dumps(annotation.shape, sort_keys=True)
        labels = merged.setdefault(key, [annotation.shape, []])[1]
        labels.extend(name for name in annotation.labels if name not in labels)
    return [ExchangeAnnotation(labels=labels, shape=shape) for shape, labels in merged.values()]
