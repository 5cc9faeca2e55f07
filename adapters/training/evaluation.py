"""Scoring exported models on the testing subset: classification metrics and COCO mAP."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

Metric = dict[str, Any]


def metric(name: str, value: float, subset: str = "testing") -> Metric:
    """One metric in the API shape."""
    return {"name": name, "value": round(float(value), 6), "subset": subset}


def classification_metrics(targets: np.ndarray, probs: np.ndarray, exclusive: bool,
                           subset: str = "testing") -> list[Metric]:
    """Accuracy and macro precision/recall/F1; `targets` are multi-hot [N, C]."""
    if exclusive:
        predicted = np.eye(probs.shape[1], dtype=bool)[probs.argmax(axis=1)]
    else:
        predicted = probs >= 0.5
    truth = targets.astype(bool)
    accuracy = float((predicted == truth).all(axis=1).mean())
    tp = (predicted & truth).sum(axis=0)
    precision = np.where(predicted.sum(0) > 0, tp / np.maximum(predicted.sum(0), 1), 0.0)
    recall = np.where(truth.sum(0) > 0, tp / np.maximum(truth.sum(0), 1), 0.0)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    present = truth.sum(0) > 0
    return [
        metric("accuracy", accuracy, subset),
        metric("precision", precision[present].mean(), subset),
        metric("recall", recall[present].mean(), subset),
        metric("f1", f1[present].mean(), subset),
    ]


def coco_map(
    image_sizes: Sequence[tuple[int, int]],
    truths: Sequence[Sequence[tuple[int, list[float]]]],
    detections: Sequence[Sequence[tuple[int, float, list[float]]]],
    classes: int,
) -> tuple[float, float]:
    """COCO mAP@0.5 and mAP@0.5:0.95 (pycocotools) for xywh boxes per image.

    truths[i] = [(class, [x, y, w, h])]; detections[i] = [(class, score, [x, y, w, h])].
    """
    images = [{"id": i, "height": h, "width": w} for i, (h, w) in enumerate(image_sizes)]
    pairs = [(i, c, box) for i, items in enumerate(truths) for c, box in items]
    annotations = [
        {"id": n + 1, "image_id": i, "category_id": c, "bbox": box, "area": box[2] * box[3],
         "iscrowd": 0}
        for n, (i, c, box) in enumerate(pairs)
    ]
    if not annotations:
        return 0.0, 0.0
    results = [
        {"image_id": i, "category_id": c, "score": s, "bbox": box}
        for i, items in enumerate(detections) for c, s, box in items
    ]
    if not results:
        return 0.0, 0.0
    return _coco_map(images, annotations, results, classes, "bbox")


def coco_mask_map(
    image_sizes: Sequence[tuple[int, int]],
    truths: Sequence[Sequence[tuple[int, list[list[float]]]]],
    detections: Sequence[Sequence[tuple[int, float, list[list[float]]]]],
    classes: int,
) -> tuple[float, float]:
    """COCO segm mAP@0.5 and mAP@0.5:0.95 (pycocotools, iouType 'segm') for polygon masks.

    truths[i] = [(class, [[x1, y1, x2, y2, ...], ...])]; detections[i] = [(class, score, polygons)];
    polygons are in continuous pixel coordinates (COCO's convention).
    """
    from pycocotools import mask as mask_utils

    def rle(polygons: list[list[float]], h: int, w: int) -> dict[str, Any]:
        return mask_utils.merge(mask_utils.frPyObjects([p for p in polygons if len(p) >= 6], h, w))

    images = [{"id": i, "height": h, "width": w} for i, (h, w) in enumerate(image_sizes)]
    annotations = []
    for i, items in enumerate(truths):
        h, w = image_sizes[i]
        for c, polygons in items:
            encoded = rle(polygons, h, w)
            annotations.append({"id": len(annotations) + 1, "image_id": i, "category_id": c,
                                "segmentation": encoded, "area": float(mask_utils.area(encoded)),
                                "bbox": [float(v) for v in mask_utils.toBbox(encoded)], "iscrowd": 0})
    results = []
    for i, items in enumerate(detections):
        h, w = image_sizes[i]
        for c, s, polygons in items:
            if any(len(p) >= 6 for p in polygons):
                results.append({"image_id": i, "category_id": c, "score": s,
                                "segmentation": rle(polygons, h, w)})
    if not annotations or not results:
        return 0.0, 0.0
    return _coco_map(images, annotations, results, classes, "segm")


def _coco_map(images: list[dict], annotations: list[dict], results: list[dict], classes: int,
              iou_type: str) -> tuple[float, float]:
    """(mAP@0.5, mAP@0.5:0.95) by pycocotools for `bbox` or `segm` results (its printing silenced)."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        truth = COCO()
        truth.dataset = {"images": images, "annotations": annotations,
                         "categories": [{"id": c} for c in range(classes)]}
        truth.createIndex()
        evaluation = COCOeval(truth, truth.loadRes(results), iou_type)
        evaluation.params.maxDets = [1, 10, 100]
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return float(max(evaluation.stats[1], 0.0)), float(max(evaluation.stats[0], 0.0))
