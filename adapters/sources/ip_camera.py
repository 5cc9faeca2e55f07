"""IP camera source: HTTP MJPEG and RTSP through OpenCV's FFmpeg backend."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from urllib.parse import quote, urlsplit, urlunsplit

import cv2

from adapters.sources.live_camera import LiveCameraSource
from application.errors import InvalidInputError
from application.ports.frames import SourceUnavailableError

USERNAME_VARIABLE = "VIEWFINDER_IP_CAMERA_USERNAME"
PASSWORD_VARIABLE = "VIEWFINDER_IP_CAMERA_PASSWORD"
SCHEMES = ("rtsp", "rtsps", "http", "https")


def redact_url(url: str) -> str:
    """The URL without any user information, safe for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def url_with_credentials(url: str, username: str, password: str) -> str:
    """The URL with percent-encoded credentials inserted; to hand to OpenCV only."""
    parts = urlsplit(redact_url(url))
    userinfo = f"{quote(username, safe='')}:{quote(password, safe='')}@"
    return urlunsplit((parts.scheme, userinfo + parts.netloc, parts.path, parts.query, ""))


class IpCameraSource(LiveCameraSource):
    """A network stream; credentials come from the environment at each connection."""

    def __init__(
        self,
        stream_url: str,
        auth_required: bool = False,
        env: Mapping[str, str] | None = None,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(clock)
        if urlsplit(stream_url).scheme.lower() not in SCHEMES:
            raise InvalidInputError(
                "An IP camera stream URL starts with rtsp://, rtsps://, http:// or https://.",
                {"stream_url": ["Unsupported scheme."]},
            )
        self._url = stream_url
        self._auth_required = auth_required
        self._env = env
        self._timeout_ms = int(timeout_s * 1000)

    @property
    def description(self) -> str:
        """E.g. 'IP camera rtsp://cam:554/stream'."""
        return f"IP camera {redact_url(self._url)}"

    def _open_capture(self) -> cv2.VideoCapture:
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, self._timeout_ms,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC, self._timeout_ms,
        ]  # fmt: skip
        capture = cv2.VideoCapture(self._connect_url(), cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            capture.release()
            refused = " or refused the credentials" if self._auth_required else ""
            raise SourceUnavailableError(f"{self.description} cannot be reached{refused}.")
        return capture

    def _connect_url(self) -> str:
        if not self._auth_required:
            return self._url
        env = os.environ if self._env is None else self._env
        username, password = env.get(USERNAME_VARIABLE), env.get(PASSWORD_VARIABLE)
        if not username or password is None:
            raise SourceUnavailableError(
                f"{self.description} requires {USERNAME_VARIABLE} and {PASSWORD_VARIABLE} "
                "in the environment."
            )
        return url_with_credentials(self._url, username, password)
