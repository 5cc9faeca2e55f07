"""The trained cell detector: a NumPy reference and its export as one OpenVINO IR."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adapters.training import graph
from adapters.training.detection_features import (
    STRIDE,
    DetectionFeatures,
    head_kernel,
    neighbourhoods,
)
from adapters.training.detection_targets import decode_boxes, nms, peaks
from adapters.training.mlp import Mlp, sigmoid

HEAT_PRIOR = -2.19  # sigmoid(-2.19) = 0.1, CenterNet's initial heat


@dataclass
class CellDetector:
    """Features + MLP head (standardisation folded in) + decoding; `predict` is the reference."""

    features: DetectionFeatures
    head: Mlp
    classes: int
    score_threshold: float = 0.05
    iou_threshold: float = 0.5
    max_detections: int = 100

    def head_maps(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return heat [C,h,w] (sigmoid), regression [4,h,w] and the working scale."""
        image, scale = self.features.resized(image_bgr)
        return (*self.maps_of_cells(self.features.cells(image)), scale)

    def maps_of_cells(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return heat [C,h,w] (sigmoid) and regression [4,h,w] from [C,h,w] cell maps."""
        vectors = neighbourhoods(self.features.pyramid(cells))
        h, w, d = vectors.shape
        out = self.head.forward(vectors.reshape(-1, d))[0].T.reshape(-1, h, w)
        return sigmoid(out[: self.classes]), out[self.classes :]

    def predict(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return boxes [N,4] (x1y1x2y2 image pixels), scores [N], labels [N]."""
        image, scale = self.features.resized(image_bgr)
        return self.predict_cells(self.features.cells(image), scale, *image_bgr.shape[:2])

    def predict_cells(self, cells: np.ndarray, scale: np.ndarray, height: int,
                      width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Like predict, from cell maps of an image of height x width resized by scale."""
        heat, regression = self.maps_of_cells(cells)
        boxes = decode_boxes(regression, scale, STRIDE, height, width)
        scores = peaks(heat).reshape(self.classes, -1)
        kept = nms(boxes, scores, self.score_threshold, self.iou_threshold, self.max_detections)
        return (
            np.array([boxes[i] for _, i, _ in kept], np.float32).reshape(-1, 4),
            np.array([s for _, _, s in kept], np.float32),
            np.array([c for c, _, _ in kept], np.int64),
        )

    def export(self, path: Path, info: dict[str, Any]) -> tuple[Path, Path]:
        """Write uint8 BGR in -> `boxes`, `scores`, `labels` (after NMS) out, as one IR."""
        op = graph.ops()
        image, nchw = graph.image_input()
        pyramid, scale = self.features.graph(image, nchw)
        w, b = self.head.weights, self.head.biases
        x = graph.conv(pyramid, head_kernel(w[0], pyramid_channels(self.features)), 2, reflect=2)
        x = op.add(x, graph.const(b[0][None, :, None, None]))
        for wi, bi in zip(w[1:], b[1:]):
            x = op.add(graph.conv(op.relu(x), wi.T[:, :, None, None].copy()),
                       graph.const(bi[None, :, None, None]))
        heat, regression = op.variadic_split(x, graph.const(1, np.int64),
                                             graph.const([self.classes, 4], np.int64)).outputs()
        outputs = self._decode(op.sigmoid(heat), regression, scale, nchw)
        return graph.save_ir(outputs, image, path, info)

    def _decode(self, heat: graph.Node, regression: graph.Node, scale: graph.Node,
                nchw: graph.Node) -> list[graph.Node]:
        op, c = graph.ops(), graph.const
        peak = op.max_pool(heat, [1, 1], [1, 1], [1, 1], [1, 1], [3, 3]).output(0)
        kept = op.multiply(heat, op.convert(op.greater_equal(heat, peak), "f32"))
        shape = op.shape_of(heat)
        h = op.gather(shape, c(2, np.int64), c(0, np.int64))
        w = op.gather(shape, c(3, np.int64), c(0, np.int64))
        gy = op.reshape(op.range(c(0.5), op.convert(h, "f32"), c(1.0), "f32"),
                        c([1, 1, -1, 1], np.int64), False)
        gx = op.reshape(op.range(c(0.5), op.convert(w, "f32"), c(1.0), "f32"),
                        c([1, 1, 1, -1], np.int64), False)
        dx, dy, lw, lh = op.split(regression, c(1, np.int64), 4).outputs()
        k = op.multiply(op.power(scale, c(-1.0)), c(float(STRIDE)))
        ky, kx = (op.gather(k, c(i, np.int64), c(0, np.int64)) for i in (0, 1))
        cx, cy = op.multiply(op.add(gx, dx), kx), op.multiply(op.add(gy, dy), ky)
        bw2 = op.multiply(op.exp(lw), op.multiply(kx, c(0.5)))
        bh2 = op.multiply(op.exp(lh), op.multiply(ky, c(0.5)))
        hw = op.convert(op.gather(op.shape_of(nchw), c([3, 2], np.int64), c(0, np.int64)), "f32")
        limits = op.reshape(op.concat([hw, hw], 0), c([1, 4, 1, 1], np.int64), False)
        corners = op.concat([op.subtract(cx, bw2), op.subtract(cy, bh2), op.add(cx, bw2), op.add(cy, bh2)], 1)
        corners = op.minimum(op.maximum(corners, c(0.0)), limits)
        boxes = op.transpose(op.reshape(corners, c([1, 4, -1], np.int64), False), c([0, 2, 1], np.int64))
        scores = op.reshape(kept, c([1, self.classes, -1], np.int64), False)
        selected = op.multiclass_nms(
            boxes, scores, sort_result_type="score", sort_result_across_batch=True, output_type="i64",
            iou_threshold=self.iou_threshold, score_threshold=self.score_threshold,
            nms_top_k=-1, keep_top_k=self.max_detections, normalized=True,
        ).output(0)
        column = op.gather(selected, c(0, np.int64), c(1, np.int64))
        return [
            graph.name_output(op.gather(selected, c([2, 3, 4, 5], np.int64), c(1, np.int64)), "boxes"),
            graph.name_output(op.gather(selected, c(1, np.int64), c(1, np.int64)), "scores"),
            graph.name_output(op.convert(column, "i64"), "labels"),
        ]


def pyramid_channels(features: DetectionFeatures) -> int:
    """Channels of the pyramid the head's first layer reads."""
    return features.dim // 9
