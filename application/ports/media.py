"""Ports for media: where blobs (images, thumbnails) are stored and how uploads are checked."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from application.errors import (
    BadRequestError,
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    UnsupportedMediaTypeError,
)

CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
    "webp": "image/webp",
}

_SHA256 = re.compile(r"[0-9a-f]{64}")


class UnsupportedImageFormatError(UnsupportedMediaTypeError):
    """Raised when uploaded bytes are not a JPEG, PNG, BMP, TIFF or WebP image."""


class ImageTooLargeError(PayloadTooLargeError):
    """Raised when an image's header declares more pixels than the configured limit."""


class CorruptImageError(InvalidInputError):
    """Raised when an image is truncated, structurally broken or cannot be decoded."""


class MediaNotFoundError(NotFoundError):
    """Raised when no blob with the requested hash is stored."""


class InvalidMediaHashError(BadRequestError):
    """Raised when a media hash is not 64 lowercase hexadecimal characters."""


def check_sha256(sha256: str) -> str:
    """Return the hash unchanged if it is 64 lowercase hex characters, else raise."""
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        detail = f"{sha256!r} is not a SHA-256 hash of 64 lowercase hex digits."
        raise InvalidMediaHashError(detail)
    return sha256


@dataclass(frozen=True)
class ImageInfo:
    """What an upload turned out to be: its format and its stored (un-rotated) size."""

    format: str  # 'jpg' | 'png' | 'bmp' | 'tiff' | 'webp'
    width: int
    height: int
    content_type: str


@dataclass(frozen=True)
class MediaRef:
    """A reference to a stored blob: its content hash and size in bytes."""

    sha256: str
    size: int


class ImageCodec(ABC):
    """Validates uploaded images and renders thumbnails."""

    @abstractmethod
    def inspect(self, data: bytes) -> ImageInfo:
        """Validate an image fully and describe it; raise a *ImageError when it is unusable."""

    @abstractmethod
    def thumbnail(self, data: bytes, longest_side: int = 256) -> bytes:
        """Return a JPEG whose longest side is `longest_side` (or less for smaller images)."""

    def inspect_with_thumbnail(self, data: bytes, longest_side: int = 256) -> tuple[ImageInfo, bytes]:
        """Both at once; implementations decode the image once."""
        return self.inspect(data), self.thumbnail(data, longest_side)


class MediaStore(ABC):
    """Content-addressed blob storage keyed by SHA-256."""

    @abstractmethod
    def put(self, data: bytes) -> MediaRef:
        """Store the bytes atomically under their hash; storing them again is harmless."""

    @abstractmethod
    def get(self, sha256: str) -> bytes:
        """Return the stored bytes; raise MediaNotFoundError when missing."""

    @abstractmethod
    def path(self, sha256: str) -> Path:
        """Return where the blob lives (whether or not it exists yet)."""

    @abstractmethod
    def exists(self, sha256: str) -> bool:
        """Tell whether a blob with this hash is stored."""

    @abstractmethod
    def delete(self, sha256: str) -> None:
        """Remove the blob; removing a missing blob is harmless."""

    @abstractmethod
    def sweep(self, is_referenced: Callable[[str], bool], older_than_s: float) -> list[str]:
        """Remove unreferenced blobs and stale temp files older than the grace period."""
