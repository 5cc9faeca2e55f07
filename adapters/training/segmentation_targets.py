"""Mask targets of the segmenter: polygons rasterised at the working size, sub-cell coverage,
and the loss of the mask head.

Polygon points are continuous pixel coordinates (pixel (i, j) spans [j, j+1] x [i, i+1], as in
COCO); a pixel belongs to a polygon when its centre lies inside it.
"""

from __future__ import annotations

import cv2
import numpy as np

from adapters.training.detection_features import STRIDE
from adapters.training.images import label_ids

SUB = 4
"""Sub-cells per cell side: the coarse mask has a stride of STRIDE // SUB = 2 working pixels."""
FINE = STRIDE // SUB
SHIFT = 8


def annotation_polygons(annotations: list[dict], label_index: dict[str, int]) -> list[tuple[np.ndarray, int]]:
    """(points [K, 2] float, class index) of each polygon or rectangle annotation, in pixels."""
    polygons = []
    for annotation in annotations:
        ids = [label_index[i] for i in label_ids(annotation) if i in label_index]
        shape = annotation.get("shape", {})
        if not ids or shape.get("type") not in ("rectangle", "polygon"):
            continue
        if shape["type"] == "rectangle":
            x, y, w, h = (float(shape[k]) for k in ("x", "y", "width", "height"))
            points = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)
        else:
            points = np.array([[float(p["x"]), float(p["y"])] for p in shape["points"]], np.float64)
        if len(points) >= 3:
            polygons.append((points, ids[0]))
    return polygons


def rasterise(polygons: list[tuple[np.ndarray, int]], scale: np.ndarray, height: int,
              width: int) -> np.ndarray:
    """u8 [height, width] map at the working size: 0 background, class + 1 inside a polygon."""
    canvas = np.zeros((height, width), np.uint8)
    sy, sx = (float(v) for v in scale)
    for points, c in polygons:
        fixed = np.round((points * [sx, sy] - 0.5) * (1 << SHIFT)).astype(np.int32)
        cv2.fillPoly(canvas, [fixed], c + 1, cv2.LINE_8, shift=SHIFT)
    return canvas


def subcell_cover(label_map: np.ndarray, h: int, w: int) -> np.ndarray:
    """u8 [4h, 4w]: foreground pixels (0..4) in each 2x2 block of the stride-2 grid of h x w cells."""
    crop = label_map[: h * STRIDE, : w * STRIDE] > 0
    return crop.reshape(h * SUB, FINE, w * SUB, FINE).sum(axis=(1, 3)).astype(np.uint8)


def dihedral_map(grid: np.ndarray, op: int) -> np.ndarray:
    """Apply the detector's flip/transpose `op` (0..7) to a [h, w] map."""
    out = grid.T if op & 4 else grid
    if op & 1:
        out = out[:, ::-1]
    if op & 2:
        out = out[::-1]
    return np.ascontiguousarray(out)


def per_cell(grid: np.ndarray, h: int, w: int) -> np.ndarray:
    """[h*SUB, w*SUB] sub-cell map -> [h*w, SUB*SUB] rows, sub-cells in (y, x) order."""
    return grid.reshape(h, SUB, w, SUB).transpose(0, 2, 1, 3).reshape(h * w, SUB * SUB)


def binary_cross_entropy(logits: np.ndarray, target: np.ndarray,
                         weight: np.ndarray) -> tuple[float, np.ndarray]:
    """Weighted sigmoid cross-entropy with soft targets: sum over outputs, mean over rows."""
    p = 1.0 / (1.0 + np.exp(-logits))
    loss = weight * (np.logaddexp(0.0, logits) - target * logits)
    n = max(len(logits), 1)
    return float(loss.sum() / n), (weight * (p - target) / n).astype(np.float32)


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two boolean masks (1.0 when both are empty)."""
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0
