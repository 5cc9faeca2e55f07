"""Generated images and hand-built datasets for the format stories."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import cv2
import numpy as np

from application.ports.dataset_formats import (
    ExchangeAnnotation,
    ExchangeDataset,
    ExchangeItem,
    ExchangeLabel,
)


def encode(width: int, height: int, ext: str = ".png", seed: int = 0) -> bytes:
    """A small noisy image, so that every file's bytes differ."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    ok, buffer = cv2.imencode(ext, pixels)
    assert ok
    return buffer.tobytes()


def item(name: str, data: bytes, subset: str | None = None, annotations: list[ExchangeAnnotation] | None = None,
         annotated: bool | None = None, tags: list[str] | None = None) -> ExchangeItem:
    annotations = annotations or []
    return ExchangeItem(name=name, load_bytes=lambda: data, subset=subset, tags=tags or [],
                        annotations=annotations, annotated=bool(annotations) if annotated is None else annotated)


def rect(labels: list[str], x: float, y: float, width: float, height: float) -> ExchangeAnnotation:
    return ExchangeAnnotation(labels, {"type": "rectangle", "x": x, "y": y, "width": width, "height": height})


def poly(labels: list[str], *points: tuple[float, float]) -> ExchangeAnnotation:
    return ExchangeAnnotation(labels, {"type": "polygon", "points": [{"x": x, "y": y} for x, y in points]})


def whole(labels: list[str]) -> ExchangeAnnotation:
    return ExchangeAnnotation(labels, {"type": "full_image"})


LABELS = [ExchangeLabel("cat", "#ff8000", "c"), ExchangeLabel("dog", "#0080ff", "d"), ExchangeLabel("bird", "#00ff00")]


def detection_dataset() -> ExchangeDataset:
    items = [
        item("street.jpg", encode(64, 48, ".jpg", 1), "training",
             [rect(["cat"], 0, 0, 64, 48), rect(["dog"], 10.25, 5.5, 20.75, 12), rect(["cat", "dog"], 30, 20, 8, 8)]),
        item("yard.png", encode(80, 60, ".png", 2), "validation", [rect(["bird"], 1, 2, 3, 4)]),
        item("empty-road.png", encode(32, 32, ".png", 3), "testing", annotated=True),
        item("unseen.jpg", encode(40, 30, ".jpg", 4)),
    ]
    return ExchangeDataset(task_type="detection", labels=list(LABELS), items=items)


def segmentation_dataset() -> ExchangeDataset:
    items = [
        item("leaf.png", encode(64, 48, ".png", 5), "training",
             [poly(["cat"], (0, 0), (64, 0), (64, 48)), poly(["dog"], (10.5, 10.25), (20, 12), (15, 30.75), (8, 22))]),
        item("stone.jpg", encode(50, 50, ".jpg", 6), "testing", [poly(["bird", "cat"], (1, 1), (9, 1), (5, 9))]),
        item("nothing.png", encode(20, 20, ".png", 7)),
    ]
    return ExchangeDataset(task_type="instance_segmentation", labels=list(LABELS), items=items)


def classification_dataset() -> ExchangeDataset:
    items = [
        item("one.jpg", encode(30, 20, ".jpg", 8), "training", [whole(["cat"])]),
        item("two.png", encode(20, 30, ".png", 9), "validation", [whole(["dog", "bird"])]),
        item("three.jpg", encode(16, 16, ".jpg", 10), "training", [whole(["dog"])]),
        item("four.png", encode(24, 24, ".png", 11)),
    ]
    return ExchangeDataset(task_type="classification", labels=list(LABELS), items=items)


def shapes_of(annotations: list[ExchangeAnnotation]) -> Counter[str]:
    """Annotations as comparable keys: sorted label names and the shape."""
    return Counter(json.dumps([sorted(a.labels), a.shape], sort_keys=True) for a in annotations)


def by_name(dataset: ExchangeDataset) -> dict[str, ExchangeItem]:
    return {it.name: it for it in dataset.items}


def summary(item: ExchangeItem) -> dict[str, Any]:
    return {"subset": item.subset, "shapes": shapes_of(item.annotations)}


def put(root: Any, relative: str, content: bytes | str | Any) -> None:
    """Write a file of a hand-made dataset: bytes, text, or a JSON document."""
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        path.write_text(json.dumps(content))
