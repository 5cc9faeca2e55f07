"""The OpenCV image codec against real encoder output: accept, reject, thumbnail."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from adapters.media.opencv_codec import OpenCvImageCodec
from application.errors import InvalidInputError, PayloadTooLargeError, UnsupportedMediaTypeError
from application.ports.media import (
    CorruptImageError,
    ImageInfo,
    ImageTooLargeError,
    UnsupportedImageFormatError,
)

FORMATS = ["jpg", "png", "bmp", "tiff", "webp"]
CONTENT_TYPES = ["image/jpeg", "image/png", "image/bmp", "image/tiff", "image/webp"]


def noise(height: int, width: int, channels: int = 3, dtype: type = np.uint8) -> np.ndarray:
    """Return a reproducible random image of the given shape and depth."""
    high = np.iinfo(dtype).max
    shape = (height, width) if channels == 1 else (height, width, channels)
    return np.random.default_rng(1).integers(0, high, shape, dtype=dtype, endpoint=True)


def encode(fmt: str, image: np.ndarray, params: list[int] | None = None) -> bytes:
    """Encode an image with OpenCV."""
    ok, buffer = cv2.imencode(f".{fmt}", image, params or [])
    assert ok
    return buffer.tobytes()


def decode(data: bytes) -> np.ndarray:
    """Decode bytes as stored, for checking thumbnails."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None
    return image


def png_with_header(width: int, height: int, rest: bytes = b"") -> bytes:
    """Return a PNG signature and a valid IHDR declaring the given size, then rest."""
    payload = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    crc = zlib.crc32(b"IHDR" + payload)
    ihdr = struct.pack(">I", 13) + b"IHDR" + payload + struct.pack(">I", crc)
    return b"\x89PNG\r\n\x1a\n" + ihdr + rest


@pytest.fixture
def codec() -> OpenCvImageCodec:
    """A codec with the default pixel limit."""
    return OpenCvImageCodec()


@pytest.mark.parametrize(("fmt", "content_type"), list(zip(FORMATS, CONTENT_TYPES, strict=True)))
def test_every_supported_format_is_accepted_with_its_size(
    codec: OpenCvImageCodec, fmt: str, content_type: str
) -> None:
    """Each format is recognised and reports width and height the right way round."""
    info = codec.inspect(encode(fmt, noise(48, 64)))
    assert info == ImageInfo(format=fmt, width=64, height=48, content_type=content_type)


@pytest.mark.parametrize(
    ("fmt", "params"),
    [
        ("jpg", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]),
        ("jpg", [cv2.IMWRITE_JPEG_RST_INTERVAL, 2]),
        ("webp", [cv2.IMWRITE_WEBP_QUALITY, 80]),
        ("tiff", [cv2.IMWRITE_TIFF_COMPRESSION, 1]),
        ("png", [cv2.IMWRITE_PNG_COMPRESSION, 0]),
    ],
)
def test_format_variants_are_accepted(codec: OpenCvImageCodec, fmt: str, params: list[int]) -> None:
    """Progressive and restart-marked JPEG, lossy WebP, raw TIFF and stored PNG all pass."""
    assert codec.inspect(encode(fmt, noise(30, 40), params)).width == 40


@pytest.mark.parametrize(
    ("fmt", "image"),
    [
        ("png", noise(20, 30, channels=1)),
        ("png", noise(20, 30, channels=1, dtype=np.uint16)),
        ("png", noise(20, 30, channels=4)),
        ("tiff", noise(20, 30, channels=3, dtype=np.uint16)),
        ("webp", noise(20, 30, channels=4)),
        ("jpg", noise(20, 30, channels=1)),
    ],
)
def test_grayscale_sixteen_bit_and_alpha_images_are_accepted(
    codec: OpenCvImageCodec, fmt: str, image: np.ndarray
) -> None:
    """Depth and channel count do not matter to validation."""
    info = codec.inspect(encode(fmt, image))
    assert (info.width, info.height) == (30, 20)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.95, -1])
def test_a_truncated_image_is_rejected_as_corrupt(
    codec: OpenCvImageCodec, fmt: str, keep: float
) -> None:
    """An upload cut short anywhere, even by one byte, is a 422-class error."""
    data = encode(fmt, noise(48, 64))
    cut = data[:-1] if keep == -1 else data[: int(len(data) * keep)]
    with pytest.raises(CorruptImageError) as raised:
        codec.inspect(cut)
    assert isinstance(raised.value, InvalidInputError)


def test_a_truncated_jpeg_is_rejected_as_corrupt(codec: OpenCvImageCodec) -> None:
    """A JPEG missing its EOI marker is not decoded into a partial image."""
    data = encode("jpg", noise(200, 300))
    with pytest.raises(CorruptImageError, match="EOI"):
        codec.inspect(data[: len(data) * 3 // 4])


def test_a_png_with_a_corrupted_chunk_is_rejected_as_corrupt(codec: OpenCvImageCodec) -> None:
    """A flipped byte fails the chunk CRC."""
    data = bytearray(encode("png", noise(48, 64)))
    data[len(data) // 2] ^= 0x40
    with pytest.raises(CorruptImageError, match="CRC"):
        codec.inspect(bytes(data))


def test_a_png_whose_header_lies_about_its_size_is_rejected_as_corrupt(
    codec: OpenCvImageCodec,
) -> None:
    """Image data that does not match the declared size cannot be decoded."""
    data = encode("png", noise(48, 64))
    lying = png_with_header(640, 480, rest=data[33:])
    with pytest.raises(CorruptImageError):
        codec.inspect(lying)


def test_a_jpeg_with_garbage_in_its_headers_is_rejected_as_corrupt(
    codec: OpenCvImageCodec,
) -> None:
    """Bytes where a marker should be mean the file is damaged."""
    data = encode("jpg", noise(48, 64))
    with pytest.raises(CorruptImageError):
        codec.inspect(data[:20] + b"\x00" * 40 + data[60:])


def test_a_webp_with_a_garbage_bitstream_is_rejected_as_corrupt(codec: OpenCvImageCodec) -> None:
    """A well-formed container around undecodable data fails at decode."""
    data = bytearray(encode("webp", noise(48, 64)))
    data[25:] = bytes(len(data) - 25)
    with pytest.raises(CorruptImageError):
        codec.inspect(bytes(data))


def test_a_bmp_header_promising_more_rows_than_sent_is_rejected_as_corrupt(
    codec: OpenCvImageCodec,
) -> None:
    """The pixel array the header promises must be present."""
    data = bytearray(encode("bmp", noise(48, 64)))
    data[22:26] = struct.pack("<i", 96)
    with pytest.raises(CorruptImageError):
        codec.inspect(bytes(data))


@pytest.mark.parametrize(
    "data",
    [
        encode("gif", noise(16, 16)),
        b"just some text, not an image\n",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        b"",
        b"II+\x00\x08\x00\x00\x00",  # BigTIFF
    ],
    ids=["gif", "text", "pdf", "empty", "bigtiff"],
)
def test_anything_but_the_five_formats_is_rejected_as_unsupported(
    codec: OpenCvImageCodec, data: bytes
) -> None:
    """GIF, text, PDF and empty bodies are a 415-class error."""
    with pytest.raises(UnsupportedImageFormatError) as raised:
        codec.inspect(data)
    assert isinstance(raised.value, UnsupportedMediaTypeError)


def test_a_png_header_claiming_100000_by_100000_is_rejected_before_decoding(
    codec: OpenCvImageCodec,
) -> None:
    """The header alone is enough to refuse a decompression bomb (no pixel data follows)."""
    with pytest.raises(ImageTooLargeError) as raised:
        codec.inspect(png_with_header(100_000, 100_000))
    assert isinstance(raised.value, PayloadTooLargeError)


def test_a_jpeg_header_claiming_65535_by_65535_is_rejected_before_decoding(
    codec: OpenCvImageCodec,
) -> None:
    """JPEG sizes are 16-bit, so 65535 is the most a crafted frame header can claim."""
    data = bytearray(encode("jpg", noise(8, 8)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 65535, 65535)
    with pytest.raises(ImageTooLargeError):
        codec.inspect(bytes(data[: sof + 20]))


def test_the_pixel_limit_is_inclusive_and_configurable() -> None:
    """An image exactly at the limit passes; one pixel row more does not."""
    codec = OpenCvImageCodec(max_pixels=100 * 50)
    assert codec.inspect(encode("png", noise(50, 100))).height == 50
    with pytest.raises(ImageTooLargeError):
        codec.inspect(encode("png", noise(51, 100)))


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_thumbnail_is_a_jpeg_whose_longest_side_is_256(codec: OpenCvImageCodec, fmt: str) -> None:
    """A landscape image keeps its aspect ratio at 256 wide."""
    thumbnail = codec.thumbnail(encode(fmt, noise(500, 1000)))
    assert thumbnail.startswith(b"\xff\xd8\xff")
    assert decode(thumbnail).shape[:2] == (128, 256)


def test_a_portrait_thumbnail_is_256_tall(codec: OpenCvImageCodec) -> None:
    """The longest side is the height for a portrait image."""
    assert decode(codec.thumbnail(encode("png", noise(600, 300)))).shape[:2] == (256, 128)


def test_a_small_image_is_not_enlarged_for_its_thumbnail(codec: OpenCvImageCodec) -> None:
    """Images under 256 keep their size."""
    assert decode(codec.thumbnail(encode("png", noise(40, 60)))).shape[:2] == (40, 60)


def test_the_thumbnail_size_can_be_chosen(codec: OpenCvImageCodec) -> None:
    """longest_side overrides the default 256."""
    thumbnail = codec.thumbnail(encode("jpg", noise(300, 400)), longest_side=64)
    assert decode(thumbnail).shape[:2] == (48, 64)


def test_a_grayscale_image_gets_a_grayscale_jpeg_thumbnail(codec: OpenCvImageCodec) -> None:
    """A single channel stays a single channel."""
    thumbnail = codec.thumbnail(encode("png", noise(300, 600, channels=1)))
    assert decode(thumbnail).shape == (128, 256)


def test_a_sixteen_bit_image_is_scaled_to_eight_bits_for_its_thumbnail(
    codec: OpenCvImageCodec,
) -> None:
    """A full-range 16-bit image does not come out black or saturated."""
    image = np.full((300, 300), 32768, dtype=np.uint16)
    pixels = decode(codec.thumbnail(encode("png", image)))
    assert pixels.dtype == np.uint8
    assert 120 <= int(pixels.mean()) <= 136


def test_a_transparent_image_is_composited_over_white_for_its_thumbnail(
    codec: OpenCvImageCodec,
) -> None:
    """Fully transparent pixels become white rather than their hidden colour."""
    image = np.zeros((300, 300, 4), dtype=np.uint8)
    pixels = decode(codec.thumbnail(encode("png", image)))
    assert pixels.shape == (256, 256, 3)
    assert pixels.min() >= 250


def test_an_opaque_alpha_image_keeps_its_colours_in_its_thumbnail(
    codec: OpenCvImageCodec,
) -> None:
    """Alpha 255 leaves the colour untouched."""
    image = np.zeros((100, 100, 4), dtype=np.uint8)
    image[..., 2], image[..., 3] = 200, 255
    pixels = decode(codec.thumbnail(encode("png", image))).astype(int)
    assert abs(pixels[..., 2].mean() - 200) < 4 and pixels[..., 0].mean() < 4


def test_a_thumbnail_of_a_corrupt_image_is_refused(codec: OpenCvImageCodec) -> None:
    """Thumbnails run the same checks as inspect."""
    data = encode("jpg", noise(48, 64))
    with pytest.raises(CorruptImageError):
        codec.thumbnail(data[:-10])


def test_a_thumbnail_of_a_decompression_bomb_is_refused(codec: OpenCvImageCodec) -> None:
    """Thumbnails enforce the pixel limit before decoding too."""
    with pytest.raises(ImageTooLargeError):
        codec.thumbnail(png_with_header(100_000, 100_000))
