"""USB camera source through OpenCV (V4L2 on Linux), with an optional FourCC codec."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import cv2

from adapters.sources.live_camera import LiveCameraSource
from application.errors import InvalidInputError
from application.ports.frames import SourceUnavailableError


class UsbCameraSource(LiveCameraSource):
    """A local camera by device index."""

    def __init__(
        self, device_id: int, codec: str | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(clock)
        if codec is not None and (len(codec) != 4 or not codec.isascii()):
            raise InvalidInputError(
                "A camera codec is a FourCC of four characters, such as 'MJPG'.",
                {"codec": ["Must be four ASCII characters."]},
            )
        self._device_id = device_id
        self._codec = codec

    @property
    def description(self) -> str:
        """E.g. 'USB camera 0'."""
        return f"USB camera {self._device_id}"

    def _open_capture(self) -> cv2.VideoCapture:
        api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
        capture = cv2.VideoCapture(self._device_id, api)
        if not capture.isOpened():
            capture.release()
            raise SourceUnavailableError(
                f"{self.description} cannot be opened; is it connected and not used elsewhere?"
            )
        if self._codec:
            capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*self._codec))
        return capture
