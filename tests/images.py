"""Test images made on the fly with NumPy and OpenCV: every upload format, and broken variants.

Nothing here is committed as a binary: each test draws the pixels it needs, so bytes differ
between images (distinct seeds give distinct content hashes) and stay small.
"""

import struct
import zlib

import cv2
import numpy as np
from numpy.typing import NDArray

FORMATS = ("jpg", "png", "bmp", "tiff", "webp")
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "bmp": "image/bmp", "tiff": "image/tiff",
                 "webp": "image/webp"}
_EXTENSIONS = {"jpg": ".jpg", "png": ".png", "bmp": ".bmp", "tiff": ".tiff", "webp": ".webp"}


def pixels(width: int, height: int, seed: int = 0) -> NDArray[np.uint8]:
    """A BGR picture: a gradient with a seeded block of noise, so each seed is a different image."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 255, width, dtype=np.float32)
    y = np.linspace(0, 255, height, dtype=np.float32)
    image = np.stack([np.add.outer(y, x) / 2, np.tile(x, (height, 1)), np.tile(y[:, None], (1, width))], axis=2)
    image = image.astype(np.uint8)
    block_h, block_w = max(1, height // 4), max(1, width // 4)
    image[:block_h, :block_w] = rng.integers(0, 256, (block_h, block_w, 3), dtype=np.uint8)
    return image


def encode(fmt: str, width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    """The picture of `pixels(width, height, seed)` encoded as jpg, png, bmp, tiff or webp."""
    ok, data = cv2.imencode(_EXTENSIONS[fmt], pixels(width, height, seed))
    assert ok, f"OpenCV could not encode {fmt}"
    return bytes(data.tobytes())


def jpeg(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    return encode("jpg", width, height, seed)


def png(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    return encode("png", width, height, seed)


def truncated(data: bytes, keep: float = 0.6) -> bytes:
    """The first part of an encoded image, as a dropped connection leaves it."""
    return data[: max(1, int(len(data) * keep))]


def corrupt_png(data: bytes) -> bytes:
    """A complete PNG whose image data was damaged in transit (its CRC no longer matches)."""
    at = data.index(b"IDAT") + 8
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]


def png_declaring(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims `width` x `height`: a decompression bomb."""
    data = png(4, 4)
    ihdr = bytearray(data[8 : 8 + 25])  # length, type, 13 bytes of fields, CRC
    ihdr[8:16] = struct.pack(">II", width, height)
    ihdr[21:25] = struct.pack(">I", zlib.crc32(bytes(ihdr[4:21])))
    return data[:8] + bytes(ihdr) + data[8 + 25 :]


def gif() -> bytes:
    """A 1x1 GIF89a: a real image in a format Viewfinder does not accept."""
    return (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
            b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def decode(data: bytes) -> NDArray[np.uint8]:
    """Decode bytes with OpenCV (for checking thumbnails and round trips)."""
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None, "OpenCV could not decode the bytes"
    return np.asarray(image, dtype=np.uint8)
