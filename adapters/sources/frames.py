"""Helpers shared by the OpenCV sources."""

from __future__ import annotations

from typing import Any

from application.ports.frames import Frame


def frame_from_image(sequence: int, image: Any, timestamp: float) -> Frame:
    """Wrap a decoded BGR array as a Frame."""
    height, width = image.shape[:2]
    return Frame(sequence, timestamp, image, int(width), int(height))
