"""Builds a frame source from a source config dict in the API shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.sources.images_folder import ImagesFolderSource
from adapters.sources.ip_camera import IpCameraSource
from adapters.sources.usb_camera import UsbCameraSource
from adapters.sources.video_file import VideoFileSource
from application.errors import InvalidInputError
from application.ports.frames import FrameSource


def _required(config: Mapping[str, Any], key: str) -> Any:
    value = config.get(key)
    if value is None or value == "":
        raise InvalidInputError(
            f"A {config.get('source_type')} source needs '{key}'.", {key: ["Missing."]}
        )
    return value


def build_source(config: Mapping[str, Any], env: Mapping[str, str] | None = None) -> FrameSource:
    """A source for `config`; `env` (default os.environ) supplies IP camera credentials."""
    source_type = config.get("source_type")
    if source_type == "video_file":
        return VideoFileSource(str(_required(config, "video_path")), bool(config.get("loop")))
    if source_type == "images_folder":
        return ImagesFolderSource(
            str(_required(config, "images_folder_path")),
            bool(config.get("ignore_existing_images")),
        )
    if source_type == "usb_camera":
        return UsbCameraSource(int(config.get("device_id") or 0), config.get("codec") or None)
    if source_type == "ip_camera":
        return IpCameraSource(
            str(_required(config, "stream_url")), bool(config.get("auth_required")), env
        )
    raise InvalidInputError(
        f"Unknown source type '{source_type}'.",
        {"source_type": ["Must be usb_camera, ip_camera, video_file or images_folder."]},
    )
