"""Building sources from configs, and keeping credentials out of what is shown."""

from __future__ import annotations

import pytest

from adapters.sources import (
    ImagesFolderSource,
    IpCameraSource,
    UsbCameraSource,
    VideoFileSource,
    build_source,
)
from adapters.sources.ip_camera import redact_url, url_with_credentials
from application.errors import InvalidInputError


def test_each_source_type_builds_its_source_without_touching_the_device() -> None:
    assert isinstance(
        build_source({"source_type": "video_file", "video_path": "/x.mp4", "loop": True}),
        VideoFileSource,
    )
    assert isinstance(
        build_source({"source_type": "images_folder", "images_folder_path": "/in"}),
        ImagesFolderSource,
    )
    assert isinstance(
        build_source({"source_type": "usb_camera", "device_id": 0, "codec": None}), UsbCameraSource
    )
    camera = build_source({"source_type": "ip_camera", "stream_url": "rtsp://cam:554/live"})
    assert isinstance(camera, IpCameraSource) and not camera.finished


def test_an_unknown_type_or_a_missing_field_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError, match="Unknown source type 'tv'"):
        build_source({"source_type": "tv"})
    with pytest.raises(InvalidInputError) as raised:
        build_source({"source_type": "video_file"})
    assert raised.value.errors == {"video_path": ["Missing."]}


def test_a_codec_must_be_a_fourcc_and_a_stream_url_a_known_scheme() -> None:
    with pytest.raises(InvalidInputError, match="FourCC"):
        UsbCameraSource(0, codec="H264x")
    with pytest.raises(InvalidInputError, match="rtsp://"):
        IpCameraSource("ftp://cam/stream")


def test_credentials_are_percent_encoded_into_the_url_and_redacted_from_it() -> None:
    url = url_with_credentials("rtsp://cam.local:554/live?ch=1", "op@site", "p:w/d#")
    assert url == "rtsp://op%40site:p%3Aw%2Fd%23@cam.local:554/live?ch=1"
    assert redact_url(url) == "rtsp://cam.local:554/live?ch=1"
    assert redact_url("http://u:p@[::1]:8080/x") == "http://[::1]:8080/x"


def test_a_camera_describes_itself_without_credentials_written_into_its_url() -> None:
    camera = IpCameraSource("http://admin:hunter2@10.0.0.5/video.mjpg")
    assert camera.description == "IP camera http://10.0.0.5/video.mjpg"
