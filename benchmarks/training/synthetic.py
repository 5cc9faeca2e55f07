"""Generated datasets for training tests and benchmarks: shapes on noisy, textured backgrounds."""

from __future__ import annotations

from functools import partial

import cv2
import numpy as np

from application.ports.training import LabelSpec, Subset, TrainingSample

SHAPES = ["circle", "square", "triangle", "cross", "ring", "diamond", "x", "bars", "star", "moon"]


def labels_for(names: list[str]) -> list[LabelSpec]:
    """One LabelSpec per name, ids 'l0', 'l1', ..."""
    return [
        LabelSpec(f"l{i}", n, f"#{(i * 53) % 256:02x}80{(i * 97) % 256:02x}")
        for i, n in enumerate(names)
    ]


def _colour(rng: np.random.Generator, far_from: np.ndarray | None = None) -> np.ndarray:
    while True:
        c = rng.integers(0, 256, 3).astype(np.float64)
        if far_from is None or np.abs(c - far_from).sum() > 180:
            return c


def _poly(cx: float, cy: float, r: float, n: int, angle: float, inner: float = 1.0) -> np.ndarray:
    k = np.arange(n * (2 if inner != 1.0 else 1))
    radius = np.where(k % 2 == 1, r * inner, r) if inner != 1.0 else np.full(len(k), r)
    a = angle + 2 * np.pi * k / len(k)
    return np.stack([cx + radius * np.cos(a), cy + radius * np.sin(a)], 1).astype(np.int32)


def draw_shape(img: np.ndarray, kind: str, cx: float, cy: float, r: float, colour: np.ndarray,
               angle: float) -> None:
    """Draw one shape of radius r centred at (cx, cy)."""
    c = tuple(float(v) for v in colour) if len(colour) > 1 else float(colour[0])
    t = max(int(r / 4), 2)
    if kind == "circle":
        cv2.circle(img, (int(cx), int(cy)), int(r), c, -1, cv2.LINE_AA)
    elif kind == "square":
        cv2.fillPoly(img, [_poly(cx, cy, r * 1.2, 4, np.pi / 4 + angle * 0.2)], c, cv2.LINE_AA)
    elif kind == "triangle":
        cv2.fillPoly(img, [_poly(cx, cy, r * 1.15, 3, -np.pi / 2 + angle * 0.2)], c, cv2.LINE_AA)
    elif kind == "diamond":
        cv2.fillPoly(img, [_poly(cx, cy, r * 1.1, 4, angle * 0.2)], c, cv2.LINE_AA)
    elif kind == "star":
        cv2.fillPoly(img, [_poly(cx, cy, r * 1.1, 5, angle, inner=0.45)], c, cv2.LINE_AA)
    elif kind == "ring":
        cv2.circle(img, (int(cx), int(cy)), int(r * 0.8), c, t, cv2.LINE_AA)
    elif kind in ("cross", "x"):
        off = 0.0 if kind == "cross" else np.pi / 4
        for a in (off, off + np.pi / 2):
            d = np.array([np.cos(a), np.sin(a)]) * r
            cv2.line(img, (int(cx - d[0]), int(cy - d[1])), (int(cx + d[0]), int(cy + d[1])), c, t)
    elif kind == "bars":
        for k in (-1, 0, 1):
            y = int(cy + k * r * 0.6)
            cv2.line(img, (int(cx - r), y), (int(cx + r), y), c, max(t - 1, 2))
    elif kind == "moon":
        cv2.circle(img, (int(cx), int(cy)), int(r), c, -1, cv2.LINE_AA)
        hole = 0.0 if isinstance(c, float) else (0.0, 0.0, 0.0)
        cv2.circle(img, (int(cx + r * 0.5), int(cy - r * 0.2)), int(r * 0.8), hole, -1)


def textured_background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Blurred colour noise plus faint stripes."""
    noise = rng.normal(0, 1, (h // 8 + 1, w // 8 + 1, 3))
    base = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC) * 30 + rng.integers(60, 190, 3)
    yy, xx = np.mgrid[0:h, 0:w]
    a, period = rng.uniform(0, np.pi), rng.uniform(6, 20)
    stripes = np.sin((xx * np.cos(a) + yy * np.sin(a)) * 2 * np.pi / period)[..., None]
    return base + stripes * rng.uniform(5, 20) + rng.normal(0, 4, (h, w, 3))


def _png(img: np.ndarray) -> bytes:
    return cv2.imencode(".png", np.clip(img, 0, 255).astype(np.uint8))[1].tobytes()


def _subset(i: int, n: int, fractions: tuple[float, float]) -> Subset:
    f = (i % 20) / 20
    return "training" if f < fractions[0] else "validation" if f < sum(fractions) else "testing"


def classification_image(rng: np.random.Generator, kind: str, size: int) -> bytes:
    """One size x size image of a shape on a textured background."""
    img = textured_background(rng, size, size)
    r = rng.uniform(0.25, 0.38) * size
    cx, cy = rng.uniform(r, size - r, 2)
    mask = _mask(img, kind, cx, cy, r, rng.uniform(-1, 1))
    img[mask] = _colour(rng, img[mask].mean(axis=0))
    return _png(img)


def _mask(img: np.ndarray, kind: str, cx: float, cy: float, r: float, angle: float) -> np.ndarray:
    canvas = np.zeros(img.shape[:2], np.uint8)
    draw_shape(canvas, kind, cx, cy, r, np.array([255.0]), angle)
    return canvas > 127


def classification_samples(classes: int, per_class: int, size: int = 64, seed: int = 0,
                           fractions: tuple[float, float] = (0.7, 0.1)) -> list[TrainingSample]:
    """Lazily encoded samples: `per_class` images of each of the first `classes` shapes."""
    samples = []
    for i in range(classes * per_class):
        label = i % classes
        image = classification_image(np.random.default_rng([seed, i]), SHAPES[label], size)
        annotation = {"labels": [{"id": f"l{label}"}], "shape": {"type": "full_image"}}
        samples.append(TrainingSample(f"c{i}", _subset(i // classes, per_class, fractions),
                                      partial(bytes, image), [annotation]))
    return samples


def detection_scene(rng: np.random.Generator, width: int, height: int,
                    kinds: list[str]) -> tuple[bytes, list[dict]]:
    """A scene with 1-5 non-overlapping shapes; returns PNG bytes and rectangle annotations."""
    img, placed, annotations = textured_background(rng, height, width), [], []
    for _ in range(int(rng.integers(1, 6))):
        for _attempt in range(20):
            r = rng.uniform(10, 32)
            cx, cy = rng.uniform(r + 2, width - r - 2), rng.uniform(r + 2, height - r - 2)
            if all(np.hypot(cx - x, cy - y) > r + q + 4 for x, y, q in placed):
                break
        else:
            continue
        label = int(rng.integers(len(kinds)))
        mask = _mask(img, kinds[label], cx, cy, r, rng.uniform(-1, 1))
        ys, xs = np.nonzero(mask)
        fg = _colour(rng, img[mask].mean(axis=0))
        img[mask] = fg
        placed.append((cx, cy, r))
        box = {"type": "rectangle", "x": float(xs.min()), "y": float(ys.min()),
               "width": float(xs.max() - xs.min() + 1), "height": float(ys.max() - ys.min() + 1)}
        annotations.append({"labels": [{"id": f"l{label}"}], "shape": box})
    return _png(img), annotations


def detection_samples(count: int, width: int = 320, height: int = 240, seed: int = 0,
                      kinds: tuple[str, ...] = ("circle", "square", "triangle"),
                      fractions: tuple[float, float] = (0.7, 0.1)) -> list[TrainingSample]:
    """Generated detection scenes with rectangle annotations."""
    samples = []
    for i in range(count):
        image, annotations = detection_scene(np.random.default_rng([seed, i]), width, height, list(kinds))
        samples.append(TrainingSample(f"d{i}", _subset(i, count, fractions), partial(bytes, image),
                                      annotations))
    return samples


def shape_polygon(kind: str, cx: float, cy: float, r: float, angle: float) -> np.ndarray:
    """[K, 2] float polygon (continuous pixel coordinates) of a circle, square, triangle or diamond."""
    if kind == "circle":
        n, radius, start = 48, r, angle
    elif kind == "square":
        n, radius, start = 4, r * 1.2, np.pi / 4 + angle * 0.2
    elif kind == "triangle":
        n, radius, start = 3, r * 1.15, -np.pi / 2 + angle * 0.2
    elif kind == "diamond":
        n, radius, start = 4, r * 1.1, angle * 0.2
    else:
        raise ValueError(f"no polygon for shape '{kind}'")
    a = start + 2 * np.pi * np.arange(n) / n
    return np.stack([cx + radius * np.cos(a), cy + radius * np.sin(a)], 1)


def polygon_mask(polygon: np.ndarray, height: int, width: int) -> np.ndarray:
    """Pixels whose centres lie inside a polygon given in continuous pixel coordinates."""
    canvas = np.zeros((height, width), np.uint8)
    points = np.round((polygon - 0.5) * 256).astype(np.int32)
    cv2.fillPoly(canvas, [points], 1, cv2.LINE_8, shift=8)
    return canvas > 0


def segmentation_scene(rng: np.random.Generator, width: int, height: int,
                       kinds: list[str]) -> tuple[bytes, list[dict]]:
    """A scene with 1-5 non-overlapping filled shapes; returns PNG bytes and polygon annotations.

    Each object is painted exactly where its annotated polygon is (pixel centres inside), so the
    polygons are the true outlines of the painted pixels.
    """
    img, placed, annotations = textured_background(rng, height, width), [], []
    for _ in range(int(rng.integers(1, 6))):
        for _attempt in range(20):
            r = rng.uniform(10, 32)
            cx, cy = rng.uniform(r + 2, width - r - 2), rng.uniform(r + 2, height - r - 2)
            if all(np.hypot(cx - x, cy - y) > 1.2 * (r + q) + 4 for x, y, q in placed):
                break
        else:
            continue
        label = int(rng.integers(len(kinds)))
        polygon = shape_polygon(kinds[label], cx, cy, r, rng.uniform(-1, 1))
        polygon = np.round(np.clip(polygon, 0, [width, height]), 2)
        mask = polygon_mask(polygon, height, width)
        img[mask] = _colour(rng, img[mask].mean(axis=0))
        placed.append((cx, cy, r))
        points = [{"x": float(x), "y": float(y)} for x, y in polygon]
        annotations.append({"labels": [{"id": f"l{label}"}], "shape": {"type": "polygon", "points": points}})
    return _png(img), annotations


def segmentation_samples(count: int, width: int = 320, height: int = 240, seed: int = 0,
                         kinds: tuple[str, ...] = ("circle", "square", "triangle"),
                         fractions: tuple[float, float] = (0.7, 0.1)) -> list[TrainingSample]:
    """Generated instance-segmentation scenes with polygon annotations."""
    samples = []
    for i in range(count):
        image, annotations = segmentation_scene(np.random.default_rng([seed, 1000003, i]), width,
                                                height, list(kinds))
        samples.append(TrainingSample(f"s{i}", _subset(i, count, fractions), partial(bytes, image),
                                      annotations))
    return samples
