"""Pure-Python readers of image headers and structure, used before any pixel is decoded.

They let the codec refuse decompression bombs from the declared size alone, and catch
truncation that a decoder might otherwise turn into a silently partial image.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from typing import Any

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_STANDALONE = frozenset([0x01, *range(0xD0, 0xD8)])  # TEM and RST0..RST7
_JPEG_SOS, _JPEG_EOI = 0xDA, 0xD9
_TIFF_WIDTH, _TIFF_LENGTH = 256, 257
_TIFF_STRIPS, _TIFF_STRIP_BYTES, _TIFF_TILES, _TIFF_TILE_BYTES = 273, 279, 324, 325
_TIFF_WANTED = frozenset([256, 257, 273, 279, 324, 325])
_TIFF_TYPES = {3: "H", 4: "I"}  # SHORT, LONG: the only types these tags may have
_TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
_BMP_UNCOMPRESSED = frozenset([0, 3, 6])  # BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS


class ImageHeaderError(ValueError):
    """Raised when an image's header or structure is malformed or truncated."""


def detect_format(data: bytes) -> str | None:
    """Return 'jpg', 'png', 'bmp', 'tiff' or 'webp' from the magic bytes, else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(PNG_SIGNATURE):
        return "png"
    if data.startswith(b"BM"):
        return "bmp"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def read_dimensions(fmt: str, data: bytes) -> tuple[int, int]:
    """Return (width, height) as declared by the header, without decoding pixels."""
    width, height = _READERS[fmt][0](data)
    if width <= 0 or height <= 0:
        raise ImageHeaderError(f"the header declares an empty {width}x{height} image")
    return width, height


def check_complete(fmt: str, data: bytes) -> None:
    """Raise ImageHeaderError when the image is truncated or its structure is broken."""
    _READERS[fmt][1](data)


def _unpack(fmt: str, data: bytes, offset: int) -> tuple[Any, ...]:
    """Unpack at an offset, turning a short buffer into an ImageHeaderError."""
    if offset < 0 or offset + struct.calcsize(fmt) > len(data):
        raise ImageHeaderError("the data ends inside a header")
    return struct.unpack_from(fmt, data, offset)


# JPEG: walk the marker segments; the frame header (SOFn) holds the size.
def _jpeg_segments(data: bytes) -> Iterator[tuple[int, int]]:
    """Yield (marker, payload offset) for every segment after SOI, ending with EOI."""
    pos = 2
    while True:
        marker, pos = _jpeg_next_marker(data, pos)
        if marker == _JPEG_EOI:
            yield marker, pos
            return
        if marker in _JPEG_STANDALONE:
            continue
        (length,) = _unpack(">H", data, pos)
        if length < 2 or pos + length > len(data):
            raise ImageHeaderError(f"JPEG segment 0x{marker:02X} is truncated or malformed")
        yield marker, pos + 2
        pos = _jpeg_skip_scan(data, pos + length) if marker == _JPEG_SOS else pos + length


def _jpeg_next_marker(data: bytes, pos: int) -> tuple[int, int]:
    """Return the marker at pos (after any fill bytes) and the offset that follows it."""
    start = pos
    while pos < len(data) and data[pos] == 0xFF:
        pos += 1
    if pos >= len(data):
        raise ImageHeaderError("the JPEG ends before its EOI marker")
    if pos == start:
        raise ImageHeaderError(f"expected a JPEG marker at offset {pos}")
    return data[pos], pos + 1


def _jpeg_skip_scan(data: bytes, pos: int) -> int:
    """Return the offset of the marker that ends the entropy-coded data starting at pos."""
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            raise ImageHeaderError("the JPEG ends inside its image data, before the EOI marker")
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:  # stuffed byte or restart marker
            pos += 2
        elif following == 0xFF:  # fill byte before a marker
            pos += 1
        else:
            return pos


def _jpeg_dimensions(data: bytes) -> tuple[int, int]:
    """Read the size from the first frame header, which must precede the first scan."""
    for marker, payload in _jpeg_segments(data):
        if marker in _JPEG_SOF:
            height, width = _unpack(">HH", data, payload + 1)
            return width, height
        if marker in (_JPEG_SOS, _JPEG_EOI):
            break
    raise ImageHeaderError("the JPEG has no frame header before its image data")


def _jpeg_check(data: bytes) -> None:
    """Walk every segment and scan through to the EOI marker."""
    if _JPEG_SOS not in {marker for marker, _ in _jpeg_segments(data)}:
        raise ImageHeaderError("the JPEG has no image data")


# PNG: IHDR first; every chunk carries a CRC; IEND last.
def _png_chunks(data: bytes) -> Iterator[bytes]:
    """Yield each chunk type after checking that it is complete and its CRC matches."""
    view, pos = memoryview(data), len(PNG_SIGNATURE)
    while True:
        length, chunk_type = _unpack(">I4s", data, pos)
        end = pos + 8 + length
        if end + 4 > len(data):
            raise ImageHeaderError(f"the PNG ends inside its {chunk_type!r} chunk")
        (crc,) = _unpack(">I", data, end)
        if zlib.crc32(view[pos + 4 : end]) != crc:
            raise ImageHeaderError(f"the PNG {chunk_type!r} chunk fails its CRC check")
        yield chunk_type
        if chunk_type == b"IEND":
            return
        pos = end + 4


def _png_dimensions(data: bytes) -> tuple[int, int]:
    """Read the size from the IHDR chunk, which must come first."""
    length, chunk_type, width, height = _unpack(">I4sII", data, len(PNG_SIGNATURE))
    if chunk_type != b"IHDR" or length != 13:
        raise ImageHeaderError("the PNG does not start with an IHDR chunk")
    return width, height


def _png_check(data: bytes) -> None:
    """Walk every chunk through IEND, checking CRCs, and require image data."""
    if b"IDAT" not in set(_png_chunks(data)):
        raise ImageHeaderError("the PNG has no image data")


# BMP: file header, then a DIB header (12-byte core header or 40+ byte info header).
def _bmp_fields(data: bytes) -> tuple[int, int, int, int]:
    """Return (width, height, bits per pixel, compression) from the DIB header."""
    (dib_size,) = _unpack("<I", data, 14)
    if dib_size == 12:
        width, height, _, bpp = _unpack("<HHHH", data, 18)
        return width, height, bpp, 0
    if dib_size < 40:
        raise ImageHeaderError(f"unknown BMP header size {dib_size}")
    width, height, _, bpp, compression = _unpack("<iiHHI", data, 18)
    return width, abs(height), bpp, compression  # a negative height means top-down rows


def _bmp_dimensions(data: bytes) -> tuple[int, int]:
    """Read the size from the DIB header."""
    return _bmp_fields(data)[:2]


def _bmp_check(data: bytes) -> None:
    """Check that the pixel array the header promises fits in the data."""
    width, height, bpp, compression = _bmp_fields(data)
    (offset,) = _unpack("<I", data, 10)
    needed = offset + 1
    if compression in _BMP_UNCOMPRESSED:
        needed = offset + (width * bpp + 31) // 32 * 4 * height
    if needed > len(data):
        raise ImageHeaderError("the BMP ends before its pixel data does")


# TIFF: the first image file directory (IFD) holds the size and where the pixel data lies.
def _tiff_entries(data: bytes) -> tuple[str, list[tuple[int, int, int, int]], int]:
    """Return the byte order, the first IFD's (tag, type, count, field offset) and its end."""
    order = "<" if data.startswith(b"II") else ">"
    (ifd,) = _unpack(order + "I", data, 4)
    (count,) = _unpack(order + "H", data, ifd)
    end = ifd + 2 + 12 * count
    entries = [(*_unpack(order + "HHI", data, at), at + 8) for at in range(ifd + 2, end, 12)]
    return order, entries, end


def _tiff_tags(data: bytes) -> dict[int, list[int]]:
    """Return the size and strip/tile location tags of the first IFD."""
    order, entries, _ = _tiff_entries(data)
    return {
        tag: _tiff_values(data, order, kind, count, field)
        for tag, kind, count, field in entries
        if tag in _TIFF_WANTED
    }


def _tiff_values(data: bytes, order: str, kind: int, n: int, field: int) -> list[int]:
    """Read n SHORT or LONG values, inline in the 4-byte field or at the offset it holds."""
    code = _TIFF_TYPES.get(kind)
    if code is None or n == 0:
        raise ImageHeaderError(f"unexpected TIFF field type {kind} with {n} values")
    offset = _tiff_value_offset(data, order, n * struct.calcsize(code), field)
    return list(struct.unpack_from(f"{order}{n}{code}", data, offset))


def _tiff_value_offset(data: bytes, order: str, size: int, field: int) -> int:
    """Return where a field's value lies: inline if it fits in 4 bytes, else at its offset."""
    offset = field if size <= 4 else _unpack(order + "I", data, field)[0]
    if offset + size > len(data):
        raise ImageHeaderError("a TIFF field points past the end of the data")
    return offset


def _tiff_dimensions(data: bytes) -> tuple[int, int]:
    """Read ImageWidth and ImageLength from the first IFD."""
    tags = _tiff_tags(data)
    if _TIFF_WIDTH not in tags or _TIFF_LENGTH not in tags:
        raise ImageHeaderError("the TIFF does not declare its width and length")
    return tags[_TIFF_WIDTH][0], tags[_TIFF_LENGTH][0]


def _tiff_check(data: bytes) -> None:
    """Check that every field and strip (or tile) of the first image lies inside the data."""
    order, entries, end = _tiff_entries(data)
    _unpack(order + "I", data, end)  # the offset of the next IFD
    for _, kind, count, field in entries:
        if kind in _TIFF_TYPE_SIZES:  # readers must skip types they do not know
            _tiff_value_offset(data, order, count * _TIFF_TYPE_SIZES[kind], field)
    tags = _tiff_tags(data)
    offsets = tags.get(_TIFF_STRIPS) or tags.get(_TIFF_TILES)
    counts = tags.get(_TIFF_STRIP_BYTES) or tags.get(_TIFF_TILE_BYTES)
    if not offsets or not counts or len(offsets) != len(counts):
        raise ImageHeaderError("the TIFF does not say where its image data lies")
    if max(o + c for o, c in zip(offsets, counts, strict=True)) > len(data):
        raise ImageHeaderError("the TIFF ends before its image data does")


# WebP: a RIFF container whose first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended).
def _webp_dimensions(data: bytes) -> tuple[int, int]:
    """Read the size from the first chunk's bitstream or canvas header."""
    chunk = data[12:16]
    if chunk == b"VP8X":  # 24-bit canvas width and height, each minus one
        width_low, width_high, height_low, height_high = _unpack("<HBHB", data, 24)
        return (width_low | width_high << 16) + 1, (height_low | height_high << 16) + 1
    if chunk == b"VP8L":
        if data[20:21] != b"\x2f":
            raise ImageHeaderError("the WebP lossless bitstream has a bad signature")
        (bits,) = _unpack("<I", data, 21)
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":
        if data[23:26] != b"\x9d\x01\x2a":
            raise ImageHeaderError("the WebP lossy bitstream has a bad start code")
        width, height = _unpack("<HH", data, 26)
        return width & 0x3FFF, height & 0x3FFF
    raise ImageHeaderError(f"unknown first WebP chunk {chunk!r}")


def _webp_check(data: bytes) -> None:
    """Check that the RIFF container and each of its chunks fit in the data."""
    (riff_size,) = _unpack("<I", data, 4)
    end = 8 + riff_size
    if end > len(data):
        raise ImageHeaderError("the WebP ends before its RIFF container does")
    pos, chunks = 12, set()
    while pos < end:
        chunk, size = _unpack("<4sI", data, pos)
        pos += 8 + size + (size & 1)
        if pos > end + (size & 1):
            raise ImageHeaderError(f"the WebP ends inside its {chunk!r} chunk")
        chunks.add(chunk)
    if not chunks & {b"VP8 ", b"VP8L", b"ANMF"}:
        raise ImageHeaderError("the WebP has no image data")


_Reader = tuple[Callable[[bytes], tuple[int, int]], Callable[[bytes], None]]
_READERS: dict[str, _Reader] = {
    "jpg": (_jpeg_dimensions, _jpeg_check),
    "png": (_png_dimensions, _png_check),
    "bmp": (_bmp_dimensions, _bmp_check),
    "tiff": (_tiff_dimensions, _tiff_check),
    "webp": (_webp_dimensions, _webp_check),
}
