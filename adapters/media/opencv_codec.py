"""ImageCodec on OpenCV: headers are checked in pure Python before any pixel is decoded."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from adapters.media.image_headers import (
    ImageHeaderError,
    check_complete,
    detect_format,
    read_dimensions,
)
from application.ports.media import (
    CONTENT_TYPES,
    CorruptImageError,
    ImageCodec,
    ImageInfo,
    ImageTooLargeError,
    UnsupportedImageFormatError,
)

_FORMAT_NAMES = {"jpg": "JPEG", "png": "PNG", "bmp": "BMP", "tiff": "TIFF", "webp": "WebP"}


class OpenCvImageCodec(ImageCodec):
    """Validates uploads and renders JPEG thumbnails, refusing decompression bombs up front."""

    def __init__(self, max_pixels: int = 100_000_000, thumbnail_quality: int = 85) -> None:
        self._max_pixels = max_pixels
        self._thumbnail_quality = thumbnail_quality

    def inspect(self, data: bytes) -> ImageInfo:
        """Validate the image fully (header, structure, decode) and describe it."""
        info, _ = self._decode(data)
        return info

    def thumbnail(self, data: bytes, longest_side: int = 256) -> bytes:
        """Return an 8-bit JPEG no larger than longest_side, alpha composited over white."""
        return self.inspect_with_thumbnail(data, longest_side)[1]

    def inspect_with_thumbnail(self, data: bytes, longest_side: int = 256) -> tuple[ImageInfo, bytes]:
        """Validate and describe the image, and make its thumbnail, from a single decode."""
        if longest_side < 1:
            raise ValueError("longest_side must be at least 1")
        info, image = self._decode(data)
        return info, self._encode_thumbnail(image, longest_side)

    def _encode_thumbnail(self, image: NDArray[np.generic], longest_side: int) -> bytes:
        small = _shrink(_flatten(image), longest_side)
        params = [cv2.IMWRITE_JPEG_QUALITY, self._thumbnail_quality]
        ok, encoded = cv2.imencode(".jpg", small, params)
        if not ok:
            raise CorruptImageError("The image could not be rendered as a thumbnail.")
        return encoded.tobytes()

    def _decode(self, data: bytes) -> tuple[ImageInfo, NDArray[np.generic]]:
        """Check the header and structure, then decode and check the decoded size."""
        info = self._checked_info(data)
        image = _imdecode(data)
        if image is None or image.shape[:2] != (info.height, info.width):
            raise CorruptImageError(f"The {_FORMAT_NAMES[info.format]} image could not be decoded.")
        return info, image

    def _checked_info(self, data: bytes) -> ImageInfo:
        """Detect the format, enforce the pixel limit from the header, then check structure."""
        fmt = _detect(data)
        try:
            width, height = read_dimensions(fmt, data)
            self._check_pixels(fmt, width, height)
            check_complete(fmt, data)
        except ImageHeaderError as error:
            detail = f"The {_FORMAT_NAMES[fmt]} image is corrupt: {error}."
            raise CorruptImageError(detail) from error
        return ImageInfo(format=fmt, width=width, height=height, content_type=CONTENT_TYPES[fmt])

    def _check_pixels(self, fmt: str, width: int, height: int) -> None:
        """Refuse an image whose declared size exceeds the pixel limit."""
        if width * height > self._max_pixels:
            raise ImageTooLargeError(
                f"The {width}x{height} {_FORMAT_NAMES[fmt]} image has {width * height} pixels; "
                f"the limit is {self._max_pixels}."
            )


def _detect(data: bytes) -> str:
    """Return the format from the magic bytes or refuse the upload."""
    if not data:
        raise UnsupportedImageFormatError("The image is empty.")
    fmt = detect_format(data)
    if fmt is None:
        raise UnsupportedImageFormatError(
            "The image format is not supported; upload a JPEG, PNG, BMP, TIFF or WebP image."
        )
    return fmt


def _imdecode(data: bytes) -> NDArray[np.generic] | None:
    """Decode as stored: original depth, channels and orientation (EXIF is not applied)."""
    try:
        return cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:
        return None


def _to_uint8(image: NDArray[np.generic]) -> NDArray[np.uint8]:
    """Scale 16-bit, 32-bit and float images to 8 bits (floats are taken as 0..1)."""
    if image.dtype == np.uint8:
        return image.astype(np.uint8, copy=False)
    if np.issubdtype(image.dtype, np.integer):
        scale = 255.0 / np.iinfo(image.dtype.name).max
        scaled: NDArray[np.float32] = np.clip(image.astype(np.float32) * scale, 0.0, 255.0)
        return scaled.round().astype(np.uint8)
    unit = np.clip(np.nan_to_num(image.astype(np.float32)), 0.0, 1.0)
    return (unit * 255).round().astype(np.uint8)


def _flatten(image: NDArray[np.generic]) -> NDArray[np.uint8]:
    """Return an 8-bit gray or BGR image, compositing any alpha channel over white."""
    pixels = _to_uint8(image)
    if pixels.ndim == 2:
        return pixels
    if pixels.shape[2] in (2, 4):
        color = pixels[..., :-1].astype(np.float32)
        alpha = pixels[..., -1:].astype(np.float32) / 255.0
        pixels = (color * alpha + 255.0 * (1.0 - alpha)).round().astype(np.uint8)
    return pixels[..., 0] if pixels.shape[2] == 1 else pixels[..., :3]


def _shrink(image: NDArray[np.uint8], longest_side: int) -> NDArray[np.uint8]:
    """Scale down (never up) so that the longest side is at most longest_side."""
    height, width = image.shape[:2]
    scale = longest_side / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
