"""Pure-Python header readers: format detection, declared sizes and structural completeness."""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest

from adapters.media.image_headers import (
    ImageHeaderError,
    check_complete,
    detect_format,
    read_dimensions,
)

FORMATS = ["jpg", "png", "bmp", "tiff", "webp"]
WIDTH, HEIGHT = 123, 45


def encode(fmt: str, image: np.ndarray | None = None, params: list[int] | None = None) -> bytes:
    """Encode a noisy WIDTHxHEIGHT BGR image (or the given one) with OpenCV."""
    if image is None:
        image = np.random.default_rng(7).integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    ok, buffer = cv2.imencode(f".{fmt}", image, params or [])
    assert ok
    return buffer.tobytes()


def tiff_bytes(order: str, width: int, height: int, size_type: int = 3) -> bytes:
    """Build an uncompressed 8-bit grayscale TIFF by hand, IFD first, pixels after."""
    pixels = bytes(range(256)) * (width * height // 256 + 1)
    pixels = pixels[: width * height]
    size_code = "H" if size_type == 3 else "I"
    entries = [
        (256, size_type, 1, width, size_code),
        (257, size_type, 1, height, size_code),
        (258, 3, 1, 8, "H"),
        (259, 3, 1, 1, "H"),
        (262, 3, 1, 1, "H"),
        (273, 4, 1, 0, "I"),  # strip offset, patched below
        (277, 3, 1, 1, "H"),
        (278, 3, 1, height, "H"),
        (279, 4, 1, len(pixels), "I"),
    ]
    ifd_size = 2 + 12 * len(entries) + 4
    strip_offset = 8 + ifd_size
    magic = b"II*\x00" if order == "<" else b"MM\x00*"
    out = bytearray(magic + struct.pack(order + "I", 8) + struct.pack(order + "H", len(entries)))
    for tag, kind, count, value, code in entries:
        value = strip_offset if tag == 273 else value
        field = struct.pack(order + code, value).ljust(4, b"\x00")
        out += struct.pack(order + "HHI", tag, kind, count) + field
    return bytes(out + struct.pack(order + "I", 0) + pixels)


def png_chunk(chunk_type: bytes, payload: bytes) -> bytes:
    """Build one PNG chunk with a correct CRC."""
    crc = zlib.crc32(chunk_type + payload)
    return struct.pack(">I", len(payload)) + chunk_type + payload + struct.pack(">I", crc)


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_supported_format_is_recognised_from_its_magic_bytes(fmt: str) -> None:
    """OpenCV's output of every supported format is detected as that format."""
    assert detect_format(encode(fmt)) == fmt


@pytest.mark.parametrize(
    "data", [encode("gif"), b"hello, world", b"%PDF-1.7\n", b"", b"\xff\xd8", b"II+\x00\x08\x00"]
)
def test_gif_text_pdf_empty_and_bigtiff_are_not_recognised(data: bytes) -> None:
    """Anything but the five supported formats (BigTIFF included) has no format."""
    assert detect_format(data) is None


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_declared_size_is_read_from_each_header(fmt: str) -> None:
    """Width and height come from the header, the right way round."""
    assert read_dimensions(fmt, encode(fmt)) == (WIDTH, HEIGHT)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_complete_image_of_each_format_passes_the_structure_check(fmt: str) -> None:
    """Untouched encoder output is structurally complete."""
    check_complete(fmt, encode(fmt))


@pytest.mark.parametrize("fmt", ["jpg", "png", "bmp", "webp"])
@pytest.mark.parametrize("keep", [0.3, 0.9, -1])
def test_a_truncated_image_fails_the_structure_check(fmt: str, keep: float) -> None:
    """Cutting an image short anywhere is noticed, down to a single missing byte."""
    data = encode(fmt)
    cut = data[:-1] if keep == -1 else data[: int(len(data) * keep)]
    with pytest.raises(ImageHeaderError):
        check_complete(fmt, cut)


@pytest.mark.parametrize("order", ["<", ">"])
def test_a_tiff_size_is_read_in_both_byte_orders(order: str) -> None:
    """Intel (II) and Motorola (MM) TIFFs both yield their width and length."""
    assert read_dimensions("tiff", tiff_bytes(order, 300, 20)) == (300, 20)


def test_a_tiff_may_declare_its_size_as_long_values() -> None:
    """ImageWidth and ImageLength may be LONG rather than SHORT."""
    assert read_dimensions("tiff", tiff_bytes(">", 70000, 1, size_type=4)) == (70000, 1)


@pytest.mark.parametrize("order", ["<", ">"])
def test_a_tiff_whose_strip_is_cut_short_fails_the_structure_check(order: str) -> None:
    """A strip that runs past the end of the data means truncation."""
    data = tiff_bytes(order, 64, 64)
    check_complete("tiff", data)
    with pytest.raises(ImageHeaderError):
        check_complete("tiff", data[:-10])


def test_a_tiff_whose_directory_lies_past_the_end_is_malformed() -> None:
    """An IFD offset beyond the data cannot be followed."""
    data = b"II*\x00" + struct.pack("<I", 10_000) + b"\x00" * 32
    with pytest.raises(ImageHeaderError):
        read_dimensions("tiff", data)


def test_a_progressive_jpeg_with_several_scans_is_complete() -> None:
    """Multiple scans are walked through to EOI."""
    data = encode("jpg", params=[cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    assert read_dimensions("jpg", data) == (WIDTH, HEIGHT)
    check_complete("jpg", data)


def test_a_jpeg_with_restart_markers_is_complete() -> None:
    """RSTn markers inside the entropy-coded data do not end the scan."""
    check_complete("jpg", encode("jpg", params=[cv2.IMWRITE_JPEG_RST_INTERVAL, 1]))


def test_bytes_after_a_jpeg_eoi_marker_are_tolerated() -> None:
    """Some cameras append data after EOI; the image itself is whole."""
    check_complete("jpg", encode("jpg") + b"trailer bytes")


def test_a_jpeg_without_a_frame_header_is_malformed() -> None:
    """SOI followed directly by EOI declares no size."""
    with pytest.raises(ImageHeaderError):
        read_dimensions("jpg", b"\xff\xd8\xff\xd9")


def test_a_jpeg_with_garbage_between_segments_is_malformed() -> None:
    """A segment must be followed by a marker."""
    data = encode("jpg")
    with pytest.raises(ImageHeaderError):
        check_complete("jpg", data[:2] + b"garbage" + data[2:])


def test_a_png_with_a_flipped_byte_fails_its_crc_check() -> None:
    """Corruption inside a chunk is caught by the chunk CRC."""
    data = bytearray(encode("png"))
    data[len(data) // 2] ^= 0x01
    with pytest.raises(ImageHeaderError, match="CRC"):
        check_complete("png", bytes(data))


def test_a_png_without_image_data_is_malformed() -> None:
    """IHDR followed by IEND has nothing to decode."""
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 10, 10, 8, 2, 0, 0, 0))
    data = b"\x89PNG\r\n\x1a\n" + ihdr + png_chunk(b"IEND", b"")
    assert read_dimensions("png", data) == (10, 10)
    with pytest.raises(ImageHeaderError):
        check_complete("png", data)


def test_a_png_header_declaring_a_zero_width_is_malformed() -> None:
    """An empty image is not an image."""
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 10, 8, 2, 0, 0, 0))
    with pytest.raises(ImageHeaderError):
        read_dimensions("png", b"\x89PNG\r\n\x1a\n" + ihdr)


def test_a_top_down_bmp_reports_a_positive_height() -> None:
    """A negative BMP height only means rows are stored top-down."""
    data = bytearray(encode("bmp"))
    data[22:26] = struct.pack("<i", -HEIGHT)
    assert read_dimensions("bmp", bytes(data)) == (WIDTH, HEIGHT)


def test_an_os2_bmp_core_header_is_read() -> None:
    """The 12-byte BITMAPCOREHEADER stores 16-bit sizes."""
    pixels = b"\x00" * (((5 * 24 + 31) // 32) * 4 * 3)
    header = b"BM" + struct.pack("<IHHI", 26 + len(pixels), 0, 0, 26)
    data = header + struct.pack("<IHHHH", 12, 5, 3, 1, 24) + pixels
    assert read_dimensions("bmp", data) == (5, 3)
    check_complete("bmp", data)
    with pytest.raises(ImageHeaderError):
        check_complete("bmp", data[:-1])


def test_a_lossy_webp_size_is_read_from_its_vp8_frame() -> None:
    """Lossy WebP (VP8 chunk) keeps its size in the key frame header."""
    data = encode("webp", params=[cv2.IMWRITE_WEBP_QUALITY, 80])
    assert data[12:16] == b"VP8 "
    assert read_dimensions("webp", data) == (WIDTH, HEIGHT)


def test_an_extended_webp_size_is_read_from_its_vp8x_canvas() -> None:
    """Extended WebP (VP8X chunk) declares a 24-bit canvas size minus one."""
    canvas = b"\x10\x00\x00\x00" + (4999).to_bytes(3, "little") + (2999).to_bytes(3, "little")
    data = struct.pack("<4sI4s4sI", b"RIFF", 22, b"WEBP", b"VP8X", len(canvas)) + canvas
    assert read_dimensions("webp", data) == (5000, 3000)
    with pytest.raises(ImageHeaderError, match="no image data"):
        check_complete("webp", data)


def test_a_webp_whose_riff_size_exceeds_the_data_is_truncated() -> None:
    """The RIFF size field says how much data must follow."""
    data = bytearray(encode("webp"))
    data[4:8] = struct.pack("<I", len(data))
    with pytest.raises(ImageHeaderError):
        check_complete("webp", bytes(data))
