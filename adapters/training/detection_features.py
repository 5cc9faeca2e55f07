"""Fixed stride-8 detection features, computed identically in NumPy and in an OpenVINO graph.

Cell maps: unsigned oriented gradients summed over colour channels, pooled over 8x8 cells,
square root; plus mean colour. A pyramid adds 3x3 and 5x5 box averages of those cells. The
head sees each cell's 3x3 neighbourhood at dilation 2 (an MLP written as a convolution).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from adapters.training import graph
from adapters.training.images import fit_longest_side, resize_f32
from adapters.training.soft_hog import channel_sum, colour_filter_bank, oriented_kernels, pool

STRIDE = 8
DILATION = 2
PYRAMID = (3, 5)


@dataclass(frozen=True)
class DetectionFeatures:
    """Features of an image resized so its longest side is `input_size`."""

    input_size: int = 320
    orientations: int = 8

    @property
    def cell_channels(self) -> int:
        """Channels of the cell maps."""
        return self.orientations + 3

    @property
    def dim(self) -> int:
        """Length of one cell's neighbourhood vector, the head's input."""
        return 9 * self.cell_channels * (1 + len(PYRAMID))

    def resized(self, image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the float32 working image and its scale factors (sy, sx)."""
        height, width = image_bgr.shape[:2]
        h, w = fit_longest_side(height, width, self.input_size)
        scale = np.array([h, w], np.float32) / np.array([height, width], np.float32)
        return resize_f32(image_bgr, w, h), scale

    def cells(self, image: np.ndarray) -> np.ndarray:
        """Return [C, h, w] cell maps of a float32 working image."""
        h, w = image.shape[0] // STRIDE * STRIDE, image.shape[1] // STRIDE * STRIDE
        maps = sum(
            np.abs(np.stack([
                cv2.filter2D(image[:, :, c], cv2.CV_32F, k, borderType=cv2.BORDER_REFLECT_101)
                for k in oriented_kernels(self.orientations)
            ]))
            for c in range(3)
        )
        gradients = np.sqrt(pool(maps[:, :h, :w], STRIDE))
        colour = pool(image[:h, :w].transpose(2, 0, 1) / 255.0, STRIDE)
        return np.concatenate([gradients, colour]).astype(np.float32)

    def pyramid(self, cells: np.ndarray) -> np.ndarray:
        """Return [C * 3, h, w]: the cells and their box averages."""
        levels = [cells]
        for k in PYRAMID:
            levels.append(np.stack([
                cv2.blur(c, (k, k), borderType=cv2.BORDER_REFLECT_101) for c in cells
            ]))
        return np.concatenate(levels)

    def graph(self, image_u8: graph.Node, nchw: graph.Node) -> tuple[graph.Node, graph.Node]:
        """Return the [1, C*3, h, w] pyramid node and the f32 (sy, sx) scales of the image."""
        op = graph.ops()
        image, scale = graph.resize_longest_side(image_u8, nchw, self.input_size)
        maps = op.abs(graph.conv(image, colour_filter_bank(self.orientations), reflect=1))
        maps = graph.conv(maps, channel_sum(self.orientations))
        gradients = op.sqrt(graph.avg_pool(maps, STRIDE, STRIDE))
        colour = graph.avg_pool(op.multiply(image, graph.const(1 / 255.0)), STRIDE, STRIDE)
        cells = op.concat([gradients, colour], 1)
        levels = [cells]
        for k in PYRAMID:
            pads = graph.const([0, 0, k // 2, k // 2], np.int64)
            levels.append(graph.avg_pool(op.pad(cells, pads, pads, "reflect"), k, 1))
        return op.concat(levels, 1), scale


def neighbourhoods(pyramid: np.ndarray) -> np.ndarray:
    """Return [h, w, 9 * C]: each cell's 3x3 neighbours at DILATION (reflect padded)."""
    d = DILATION
    padded = np.pad(pyramid, ((0, 0), (d, d), (d, d)), mode="reflect")
    _, h, w = pyramid.shape
    parts = [
        padded[:, ky * d : ky * d + h, kx * d : kx * d + w] for ky in range(3) for kx in range(3)
    ]
    return np.concatenate(parts).transpose(1, 2, 0)


def head_kernel(weights: np.ndarray, channels: int) -> np.ndarray:
    """Turn first-layer weights [9*C, out] into a 3x3 conv kernel [out, C, 3, 3]."""
    return weights.T.reshape(-1, 3, 3, channels).transpose(0, 3, 1, 2).copy()


def orientation_permutation(orientations: int, transpose: bool) -> np.ndarray:
    """Channel order of the unsigned orientations after a flip, or after a transpose."""
    k = np.arange(orientations)
    return (orientations // 2 - k) % orientations if transpose else (-k) % orientations


def dihedral(cells: np.ndarray, orientations: int, op: int) -> np.ndarray:
    """Apply one of 8 flips/transposes (op in 0..7) to [C, h, w] cell maps exactly."""
    out = cells
    if op & 4:
        out = out.transpose(0, 2, 1)
        out = np.concatenate([out[orientation_permutation(orientations, True)], out[orientations:]])
    for axis, bit in ((2, 1), (1, 2)):
        if op & bit:
            out = np.flip(out, axis)
            out = np.concatenate([out[orientation_permutation(orientations, False)], out[orientations:]])
    return np.ascontiguousarray(out)


def dihedral_boxes(boxes: np.ndarray, h: int, w: int, op: int) -> np.ndarray:
    """Apply the same transform to [N, 4] x1y1x2y2 boxes in a cell grid of h x w cells."""
    b = boxes.copy()
    if op & 4:
        b = b[:, [1, 0, 3, 2]]
        h, w = w, h
    if op & 1:
        b[:, [0, 2]] = w - b[:, [2, 0]]
    if op & 2:
        b[:, [1, 3]] = h - b[:, [3, 1]]
    return b
