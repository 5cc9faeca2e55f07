"""The trained cell segmenter: the cell detector plus a mask head and a colour refinement step.

NumPy reference and export as ONE OpenVINO IR. Masks are computed at the working size (the
longest side resized to `input_size`):

1. coarse: a second MLP head on the detector's cell features predicts, per stride-8 cell, the
   foreground logits of its 4x4 sub-cells (depth-to-space: a stride-2 map), for any label;
2. refine (on the stride-2 grid, whose colours are 2x2 pixel means): local foreground and
   background colours (12x12-pixel windows weighted by the coarse mask) give each grid point
   its colour distances to both and a contrast (d_bg - d_fg) / (d_bg + d_fg); a small MLP
   written as 1x1 convolutions turns (coarse logit, contrast, distances) into the refined logit;
3. the stride-2 probabilities are edge-padded to cover the whole working image, upsampled x2
   (a fixed transposed convolution equal to bilinear) to working pixels and resized bilinearly
   to the input size: `masks` [1, H, W] u8 = round(255 * P(foreground)), ONE full-image
   foreground mask (class-agnostic), which the caller cuts out with each detection's box.

A per-class mask (foreground x the class of each cell) was tried: the cell class head disagreed
with the detector's label often enough to empty many masks (segm mAP@0.5 0.35 against 0.81 for
the class-agnostic mask on the same model), so the label comes from the detector alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from adapters.inference.openvino_runtime import openvino
from adapters.training import graph
from adapters.training.detection_features import (
    PYRAMID,
    STRIDE,
    DetectionFeatures,
    head_kernel,
    neighbourhoods,
)
from adapters.training.detection_model import CellDetector
from adapters.training.images import resize_f32
from adapters.training.mlp import Mlp, sigmoid
from adapters.training.segmentation_targets import FINE, SUB
from adapters.training.soft_hog import channel_sum, colour_filter_bank

COLOUR_POOL = 2
"""Colour statistics are pooled over 2x2 cells of the stride-2 grid (4 working pixels), then
blurred over 3x3 of those: local foreground/background colours from 12x12-pixel windows."""
EPS, DELTA = 1e-3, 1e-3
REFINE_FEATURES = 4


def _blur(maps: np.ndarray) -> np.ndarray:
    return np.stack([cv2.blur(m, (3, 3), borderType=cv2.BORDER_REFLECT_101) for m in maps])


def _upsample(maps: np.ndarray, h: int, w: int) -> np.ndarray:
    return np.stack([cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR) for m in maps])


def _double(maps: np.ndarray) -> np.ndarray:
    """Bilinear x2 upsampling of [C, h, w] (cv2 INTER_LINEAR; the IR's `upsample2`)."""
    return _upsample(maps, maps.shape[1] * 2, maps.shape[2] * 2)


def upsample2(node: graph.Node, channels: int) -> graph.Node:
    """Bilinear x2 upsampling (half-pixel, edges clamped) of [1, C, h, w] as one transposed
    convolution: exactly cv2.resize INTER_LINEAR, and far cheaper than Interpolate here."""
    op = graph.ops()
    taps = np.array([0.25, 0.75, 0.75, 0.25], np.float32)
    weights = np.zeros((channels, channels, 4, 4), np.float32)
    weights[np.arange(channels), np.arange(channels)] = np.outer(taps, taps)
    pads = graph.const([0, 0, 1, 1], np.int64)
    return op.convolution_backprop_data(op.pad(node, pads, pads, "edge"), graph.const(weights),
                                        strides=[2, 2], pads_begin=[3, 3], pads_end=[3, 3])


def _pool(maps: np.ndarray, size: int) -> np.ndarray:
    c, h, w = maps.shape
    return maps.reshape(c, h // size, size, w // size, size).mean(axis=(2, 4))


def fine_image(image: np.ndarray) -> np.ndarray:
    """[3, 4h, 4w] colours (0..1) of the stride-2 grid of a float32 HxWx3 working image."""
    h, w = image.shape[0] // STRIDE * STRIDE, image.shape[1] // STRIDE * STRIDE
    return _pool(image[:h, :w].transpose(2, 0, 1) / np.float32(255), FINE)


def refine_features(image: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """[4, h, w] refinement features of a stride-2 image [3, h, w] (0..1) and its coarse logits."""
    p = sigmoid(logits)[None]
    stats = _blur(np.concatenate([
        _pool(image * p, COLOUR_POOL), _pool(p, COLOUR_POOL), _pool(image, COLOUR_POOL),
    ]).astype(np.float32))
    fg_sum, fg_share, all_sum = stats[:3], stats[3:4], stats[4:]
    means = np.concatenate([fg_sum / (fg_share + EPS), (all_sum - fg_sum) / (1 - fg_share + EPS)])
    means = _double(means)
    d_fg = ((image - means[:3]) ** 2).sum(axis=0)
    d_bg = ((image - means[3:]) ** 2).sum(axis=0)
    contrast = (d_bg - d_fg) / (d_bg + d_fg + DELTA)
    return np.stack([logits, contrast, d_fg, d_bg]).astype(np.float32)


@dataclass
class CellSegmenter:
    """Detector (boxes, scores, labels) + mask head + optional refinement MLP (folded weights)."""

    detector: CellDetector
    mask_head: Mlp
    refiner: Mlp | None = None

    @property
    def features(self) -> DetectionFeatures:
        """The fixed cell features shared by both heads."""
        return self.detector.features

    @property
    def classes(self) -> int:
        """Number of labels."""
        return self.detector.classes

    def coarse(self, cells: np.ndarray) -> np.ndarray:
        """Stride-2 foreground logits [4h, 4w] of [C, h, w] cell maps."""
        vectors = neighbourhoods(self.features.pyramid(cells))
        h, w, d = vectors.shape
        out = self.mask_head.forward(vectors.reshape(-1, d))[0]
        return out.reshape(h, w, SUB, SUB).transpose(0, 2, 1, 3).reshape(h * SUB, w * SUB)

    def fine_logits(self, colours: np.ndarray, cells: np.ndarray, refine: bool = True) -> np.ndarray:
        """Stride-2 foreground logits [4h, 4w] from cell maps and stride-2 colours (fine_image)."""
        fine = self.coarse(cells)
        if refine and self.refiner is not None:
            features = refine_features(colours, fine)
            fine = self.refiner.forward(features.reshape(REFINE_FEATURES, -1).T)[0][:, 0].reshape(fine.shape)
        return fine

    def working_mask(self, image: np.ndarray, cells: np.ndarray, refine: bool = True) -> np.ndarray:
        """255 * P(foreground) + 0.5 at the working size: the stride-2 grid, edge-padded past the
        8-aligned part, upsampled x2 and cut to the working image."""
        fine = self.fine_logits(fine_image(image), cells, refine)
        height, width = image.shape[:2]
        h, w = -(-height // FINE), -(-width // FINE)
        grid = np.pad(fine, ((0, h - fine.shape[0]), (0, w - fine.shape[1])), mode="edge")
        scaled = sigmoid(grid) * np.float32(255) + np.float32(0.5)
        return _double(scaled[None])[0, :height, :width]

    def masks(self, image_bgr: np.ndarray) -> np.ndarray:
        """[1, H, W] u8 foreground (0..255) in the image's pixels, like the IR."""
        image, _ = self.features.resized(image_bgr)
        height, width = image_bgr.shape[:2]
        scaled = self.working_mask(image, self.features.cells(image))
        return resize_f32(scaled, width, height).astype(np.uint8)[None]

    def predict(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Boxes [N, 4], scores [N], labels [N] and masks [1, H, W] u8, like the IR."""
        return (*self.detector.predict(image_bgr), self.masks(image_bgr))

    def export(self, path: Path, info: dict[str, Any]) -> tuple[Path, Path]:
        """Write uint8 BGR in -> `boxes`, `scores`, `labels`, `masks` out, as one IR."""
        op, c = graph.ops(), graph.const
        image, nchw = graph.image_input()
        work, scale = resize_longest_side(image, nchw, self.features.input_size)
        pyramid = pyramid_graph(self.features, work)
        heat, regression = op.variadic_split(
            _conv_head(pyramid, self.detector.head, self.features), c(1, np.int64),
            c([self.classes, 4], np.int64)).outputs()
        outputs = self.detector._decode(op.sigmoid(heat), regression, scale, nchw)
        fine = op.depth_to_space(_conv_head(pyramid, self.mask_head, self.features), "blocks_first", SUB)
        fine_hw = op.gather(op.shape_of(fine), c([2, 3], np.int64), c(0, np.int64))
        if self.refiner is not None:
            colours = graph.avg_pool(op.multiply(work, c(1 / 255.0)), FINE, FINE)
            colours = op.slice(colours, c([0, 0], np.int64), fine_hw, c([1, 1], np.int64), c([2, 3], np.int64))
            fine = self._refine_graph(colours, fine)
        work_hw = op.gather(op.shape_of(work), c([2, 3], np.int64), c(0, np.int64))
        grid_hw = op.divide(op.add(work_hw, c(FINE - 1, np.int64)), c(FINE, np.int64))
        pads_end = op.concat([c([0, 0], np.int64), op.subtract(grid_hw, fine_hw)], 0)
        grid = op.add(op.multiply(op.sigmoid(op.pad(fine, c([0, 0, 0, 0], np.int64), pads_end, "edge")),
                                  c(255.0)), c(0.5))
        scaled = op.slice(upsample2(grid, 1), c([0, 0], np.int64), work_hw, c([1, 1], np.int64),
                          c([2, 3], np.int64))
        input_hw = op.gather(op.shape_of(image), c([1, 2], np.int64), c(0, np.int64))
        masks = op.squeeze(op.convert(resize_unless_same(scaled, input_hw), "u8"), c([0], np.int64))
        return graph.save_ir([*outputs, graph.name_output(masks, "masks")], image, path, info)

    def _refine_graph(self, image: graph.Node, logits: graph.Node) -> graph.Node:
        """The refinement on the stride-2 grid: colours [1,3,4h,4w] (0..1), logits [1,1,4h,4w]."""
        op, c = graph.ops(), graph.const
        p = op.sigmoid(logits)
        pooled = [graph.avg_pool(x, COLOUR_POOL, COLOUR_POOL) for x in (op.multiply(image, p), p, image)]
        pads = c([0, 0, 1, 1], np.int64)
        stats = graph.avg_pool(op.pad(op.concat(pooled, 1), pads, pads, "reflect"), 3, 1)
        fg_sum, fg_share, all_sum = op.variadic_split(stats, c(1, np.int64), c([3, 1, 3], np.int64)).outputs()
        fg_mean = op.divide(fg_sum, op.add(fg_share, c(EPS)))
        bg_mean = op.divide(op.subtract(all_sum, fg_sum), op.add(op.subtract(c(1.0), fg_share), c(EPS)))
        means = upsample2(op.concat([fg_mean, bg_mean], 1), 6)
        diff = op.subtract(op.concat([image, image], 1), means)
        sums = np.zeros((2, 6, 1, 1), np.float32)
        sums[0, :3], sums[1, 3:] = 1, 1
        distances = graph.conv(op.multiply(diff, diff), sums)
        d_fg, d_bg = op.split(distances, c(1, np.int64), 2).outputs()
        contrast = op.divide(op.subtract(d_bg, d_fg), op.add(op.add(d_bg, d_fg), c(DELTA)))
        x = op.concat([logits, contrast, distances], 1)
        assert self.refiner is not None
        w, b = self.refiner.weights, self.refiner.biases
        for i, (wi, bi) in enumerate(zip(w, b)):
            x = op.add(graph.conv(x, wi.T[:, :, None, None].copy()), c(bi[None, :, None, None]))
            if i < len(w) - 1:
                x = op.relu(x)
        return x


def resize_unless_same(node: graph.Node, sizes: graph.Node) -> graph.Node:
    """graph.resize inside an If that passes the node through when it already has `sizes`:
    an identity Interpolate costs about 1 ms per 320x240 channel on this CPU, the If ~0.1 ms."""
    ov, op, c = openvino(), graph.ops(), graph.const
    from openvino import opset8

    hw = op.gather(op.shape_of(node), c([2, 3], np.int64), c(0, np.int64))
    same = op.reduce_logical_and(op.equal(hw, sizes), c([0], np.int64), False)
    shape = node.get_output_partial_shape(0)
    kind = node.get_output_element_type(0)
    kept = op.parameter(shape, kind)
    then_body = ov.Model([op.result(kept)], [kept])
    source, target = op.parameter(shape, kind), op.parameter([2], ov.Type.i64)
    else_body = ov.Model([op.result(graph.resize(source, target))], [source, target])
    choice = opset8.if_op(same.output(0))
    choice.set_then_body(then_body)
    choice.set_else_body(else_body)
    choice.set_input(node.output(0), kept, source)
    choice.set_input(sizes.output(0), None, target)
    return choice.set_output(then_body.get_results()[0], else_body.get_results()[0]).get_node()


def resize_longest_side(image: graph.Node, nchw: graph.Node, size: int) -> tuple[graph.Node, graph.Node]:
    """graph.resize_longest_side (same sizes and scales), skipping the Interpolate when the
    image already has its working size."""
    op, c = graph.ops(), graph.const
    hw = op.gather(op.shape_of(image), c([1, 2], np.int64), c(0, np.int64))
    longest = op.reduce_max(hw, c([0], np.int64), True)
    sizes = op.divide(op.add(op.multiply(hw, c(2 * size, np.int64)), longest),
                      op.multiply(longest, c(2, np.int64)))
    resized = resize_unless_same(nchw, sizes)
    new_hw = op.gather(op.shape_of(resized), c([2, 3], np.int64), c(0, np.int64))
    return resized, op.divide(op.convert(new_hw, "f32"), op.convert(hw, "f32"))


def pyramid_graph(features: DetectionFeatures, image: graph.Node) -> graph.Node:
    """DetectionFeatures.graph after its resize, so that the working image is resized once and
    shared with the mask branch (the IR-vs-NumPy test guards that both stay the same)."""
    op = graph.ops()
    maps = op.abs(graph.conv(image, colour_filter_bank(features.orientations), reflect=1))
    maps = graph.conv(maps, channel_sum(features.orientations))
    gradients = op.sqrt(graph.avg_pool(maps, STRIDE, STRIDE))
    colour = graph.avg_pool(op.multiply(image, graph.const(1 / 255.0)), STRIDE, STRIDE)
    cells = op.concat([gradients, colour], 1)
    levels = [cells]
    for k in PYRAMID:
        pads = graph.const([0, 0, k // 2, k // 2], np.int64)
        levels.append(graph.avg_pool(op.pad(cells, pads, pads, "reflect"), k, 1))
    return op.concat(levels, 1)


def _conv_head(pyramid: graph.Node, mlp: Mlp, features: DetectionFeatures) -> graph.Node:
    """The MLP over each cell's dilated 3x3 neighbourhood, written as convolutions."""
    op = graph.ops()
    w, b = mlp.weights, mlp.biases
    x = graph.conv(pyramid, head_kernel(w[0], features.dim // 9), 2, reflect=2)
    x = op.add(x, graph.const(b[0][None, :, None, None]))
    for wi, bi in zip(w[1:], b[1:]):
        x = op.add(graph.conv(op.relu(x), wi.T[:, :, None, None].copy()), graph.const(bi[None, :, None, None]))
    return x
