"""Fixed "soft-HOG" image features, computed identically in NumPy and in an OpenVINO graph.

Per colour channel, unsigned oriented 3x3 gradients (one convolution + abs), summed over the
channels (so neither the object's colour nor its contrast sign matters), averaged over 4x4
cells, 2x2 blocks and the whole image, square root, L2 norm; plus the mean colour of 4x4 cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from adapters.training import graph
from adapters.training.images import resize_f32

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32) / 8.0


def oriented_kernels(orientations: int) -> np.ndarray:
    """Return [O, 3, 3] derivative filters for O directions over a half circle, for 0..255 input."""
    angles = np.pi * np.arange(orientations) / orientations
    kernels = [np.cos(a) * SOBEL_X + np.sin(a) * SOBEL_X.T for a in angles]
    return (np.stack(kernels) / 255.0).astype(np.float32)


def colour_filter_bank(orientations: int) -> np.ndarray:
    """Return conv weights [3*O, 3, 3, 3]: each colour channel gets its own oriented filters."""
    kernels = oriented_kernels(orientations)
    bank = np.zeros((3 * orientations, 3, 3, 3), np.float32)
    for c in range(3):
        bank[c * orientations : (c + 1) * orientations, c] = kernels
    return bank


def channel_sum(orientations: int) -> np.ndarray:
    """Return 1x1 conv weights [O, 3*O, 1, 1] adding up the three colour channels' responses."""
    return np.tile(np.eye(orientations, dtype=np.float32), (1, 3))[:, :, None, None]


def pool(maps: np.ndarray, size: int) -> np.ndarray:
    """Average [C, H, W] over non-overlapping size x size windows."""
    c, h, w = maps.shape
    return maps.reshape(c, h // size, size, w // size, size).mean(axis=(2, 4))


@dataclass(frozen=True)
class SoftHog:
    """Fixed features of an image resized to size x size."""

    size: int = 64
    orientations: int = 8

    @property
    def cell(self) -> int:
        """Side of a cell: a quarter of the image."""
        return self.size // 4

    @property
    def dim(self) -> int:
        """Length of the feature vector."""
        return self.orientations * (16 + 4 + 1) + 3 * 16

    def of_image(self, image_bgr: np.ndarray) -> np.ndarray:
        """Return the feature vector of an HxWx3 image (uint8 or float, 0..255)."""
        return self.of_resized(resize_f32(image_bgr, self.size, self.size))

    def of_resized(self, image: np.ndarray) -> np.ndarray:
        """Return the feature vector of a size x size float32 image."""
        kernels = oriented_kernels(self.orientations)
        maps = sum(
            np.abs(np.stack([
                cv2.filter2D(image[:, :, c], cv2.CV_32F, k, borderType=cv2.BORDER_REFLECT_101)
                for k in kernels
            ]))
            for c in range(3)
        )
        cells = pool(maps, self.cell)
        blocks = pool(cells, 2)
        pooled = [cells, blocks, pool(blocks, 2)]
        hog = np.concatenate([np.sqrt(p).ravel() for p in pooled])
        hog = hog / np.sqrt((hog * hog).sum() + 1e-6)
        colour = pool(image.transpose(2, 0, 1) / 255.0, self.cell)
        return np.concatenate([hog, colour.ravel()]).astype(np.float32)

    def graph(self, nchw: graph.Node) -> graph.Node:
        """Return the [1, dim] feature node of a f32 [1,3,H,W] image node (any H, W)."""
        op = graph.ops()
        sizes = graph.const([self.size, self.size], np.int64)
        image = graph.resize(nchw, sizes)
        maps = op.abs(graph.conv(image, colour_filter_bank(self.orientations), reflect=1))
        maps = graph.conv(maps, channel_sum(self.orientations))
        cells = graph.avg_pool(maps, self.cell, self.cell)
        blocks = graph.avg_pool(cells, 2, 2)
        pooled = [cells, blocks, graph.avg_pool(blocks, 2, 2)]
        flat = graph.const([1, -1], np.int64)
        hog = op.concat([op.reshape(op.sqrt(p), flat, False) for p in pooled], 1)
        hog = op.normalize_l2(hog, graph.const([1], np.int64), 1e-6, "add")
        colour = graph.avg_pool(op.multiply(image, graph.const(1 / 255.0)), self.cell, self.cell)
        return op.concat([hog, op.reshape(colour, flat, False)], 1)
