"""CenterNet-style targets on the stride-8 cell grid, the focal loss, and box decoding."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from adapters.training.images import label_ids

ALPHA, BETA = 2.0, 4.0


@dataclass
class CellTargets:
    """Targets of one image: heat [C,h,w], box regression [4,h,w] and where it applies."""

    heat: np.ndarray
    regression: np.ndarray
    has_box: np.ndarray


def annotation_boxes(annotations: list[dict], label_index: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Return x1y1x2y2 boxes [N,4] in pixels and class indices [N] of rectangles and polygons."""
    boxes, classes = [], []
    for annotation in annotations:
        ids = [label_index[i] for i in label_ids(annotation) if i in label_index]
        shape = annotation.get("shape", {})
        if not ids or shape.get("type") not in ("rectangle", "polygon"):
            continue
        if shape["type"] == "rectangle":
            x, y = float(shape["x"]), float(shape["y"])
            box = [x, y, x + float(shape["width"]), y + float(shape["height"])]
        else:
            xs = [float(p["x"]) for p in shape["points"]]
            ys = [float(p["y"]) for p in shape["points"]]
            box = [min(xs), min(ys), max(xs), max(ys)]
        boxes.append(box)
        classes.append(ids[0])
    return np.array(boxes, np.float32).reshape(-1, 4), np.array(classes, np.int64)


def cell_targets(boxes: np.ndarray, classes: np.ndarray, h: int, w: int,
                 n_classes: int) -> CellTargets:
    """Gaussian heat peaks at box centres; regression in a 3x3 cell patch around each centre."""
    heat = np.zeros((n_classes, h, w), np.float32)
    regression = np.zeros((4, h, w), np.float32)
    has_box = np.zeros((h, w), bool)
    owner = np.zeros((h, w), np.float32)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
    for (x1, y1, x2, y2), c in zip(boxes, classes):
        bw, bh = max(x2 - x1, 0.5), max(y2 - y1, 0.5)
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        j, i = min(int(cx), w - 1), min(int(cy), h - 1)
        sigma = max(0.5, float(np.sqrt(bw * bh)) / 6)
        g = np.exp(-((xs - j - 0.5) ** 2 + (ys - i - 0.5) ** 2) / (2 * sigma * sigma))
        heat[c] = np.maximum(heat[c], g)
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                ii, jj = i + di, j + dj
                if 0 <= ii < h and 0 <= jj < w and g[ii, jj] > owner[ii, jj]:
                    owner[ii, jj] = g[ii, jj]
                    regression[:, ii, jj] = [cx - jj - 0.5, cy - ii - 0.5, np.log(bw), np.log(bh)]
                    has_box[ii, jj] = True
    return CellTargets(heat, regression, has_box)


def focal_loss(logits: np.ndarray, target: np.ndarray, weight: np.ndarray,
               positives: int) -> tuple[float, np.ndarray]:
    """Penalty-reduced focal loss (CenterNet) and its gradient; `weight` reweights sampled cells."""
    p = np.clip(1.0 / (1.0 + np.exp(-logits)), 1e-6, 1 - 1e-6)
    pos = target >= 1.0 - 1e-6
    neg_w = (1 - target) ** BETA * weight
    loss = np.where(pos, -((1 - p) ** ALPHA) * np.log(p), -neg_w * p**ALPHA * np.log(1 - p))
    grad = np.where(
        pos,
        (1 - p) ** ALPHA * (ALPHA * p * np.log(p) - (1 - p)),
        neg_w * p**ALPHA * (p - ALPHA * (1 - p) * np.log(1 - p)),
    )
    n = max(positives, 1)
    return float(loss.sum() / n), (grad / n).astype(np.float32)


def smooth_l1(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean smooth-L1 loss over rows and its gradient."""
    d = pred - target
    n = max(len(d), 1)
    loss = np.where(np.abs(d) < 1, 0.5 * d * d, np.abs(d) - 0.5).sum() / n
    return float(loss), (np.clip(d, -1, 1) / n).astype(np.float32)


def peaks(heat: np.ndarray) -> np.ndarray:
    """Keep only 3x3 local maxima of [C,h,w] heat (others set to 0), like the graph's max_pool."""
    padded = np.pad(heat, ((0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    h, w = heat.shape[1:]
    windows = [padded[:, dy : dy + h, dx : dx + w] for dy in range(3) for dx in range(3)]
    return heat * (heat >= np.max(windows, axis=0))


def decode_boxes(regression: np.ndarray, scale: np.ndarray, stride: int, height: int,
                 width: int) -> np.ndarray:
    """Turn [4,h,w] regression into [h*w, 4] x1y1x2y2 boxes in original image pixels, clipped."""
    _, h, w = regression.shape
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32) + np.float32(0.5)
    ky, kx = np.float32(stride) / scale.astype(np.float32)
    cx, cy = (gx + regression[0]) * kx, (gy + regression[1]) * ky
    bw, bh = np.exp(regression[2]) * kx, np.exp(regression[3]) * ky
    boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2]).reshape(4, -1).T
    limits = np.array([width, height, width, height], np.float32)
    return np.clip(boxes, 0, limits)


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float, iou: float,
        keep: int) -> list[tuple[int, int, float]]:
    """Per-class greedy NMS on scores [C, N]; return (class, box index, score) sorted by score."""
    kept = []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    for c in range(scores.shape[0]):
        order = [i for i in np.argsort(-scores[c], kind="stable") if scores[c, i] > threshold]
        chosen: list[int] = []
        for i in order:
            x1 = np.maximum(boxes[i, 0], boxes[chosen, 0])
            y1 = np.maximum(boxes[i, 1], boxes[chosen, 1])
            x2 = np.minimum(boxes[i, 2], boxes[chosen, 2])
            y2 = np.minimum(boxes[i, 3], boxes[chosen, 3])
            inter = np.maximum(x2 - x1, 0) * np.maximum(y2 - y1, 0)
            if not chosen or (inter / (area[i] + area[chosen] - inter + 1e-9)).max() <= iou:
                chosen.append(i)
        kept += [(c, i, float(scores[c, i])) for i in chosen]
    return sorted(kept, key=lambda k: -k[2])[:keep]
