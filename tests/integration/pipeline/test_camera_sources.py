"""IP cameras (HTTP MJPEG and RTSP served locally) and USB cameras through OpenCV's FFmpeg."""

from __future__ import annotations

import base64
import itertools
import time
from pathlib import Path

import cv2
import pytest
from camera_peers import MjpegServer, RtspServer, index_of, write_video

from adapters.sources import IpCameraSource, LiveCameraSource, UsbCameraSource, build_source
from application.ports.frames import Frame, FrameSource, SourceUnavailableError

pytestmark = pytest.mark.skipif(
    "FFMPEG:                      YES" not in cv2.getBuildInformation(),
    reason="OpenCV was built without FFmpeg",
)


def read_frames(source: FrameSource, count: int, timeout: float = 5.0) -> list[Frame]:
    frames: list[Frame] = []
    deadline = time.monotonic() + timeout
    while len(frames) < count and time.monotonic() < deadline:
        if (frame := source.read(0.5)) is not None:
            frames.append(frame)
    return frames


def test_an_mjpeg_http_camera_delivers_its_frames_in_order() -> None:
    with MjpegServer(fps=30) as camera:
        config = {"source_type": "ip_camera", "stream_url": camera.url, "auth_required": False}
        with build_source(config) as source:
            frames = read_frames(source, 5)
    assert len(frames) == 5 and (frames[0].width, frames[0].height) == (320, 240)
    sequences = [f.sequence for f in frames]
    assert sequences == sorted(sequences)


def test_an_rtsp_camera_delivers_frames_over_rtp_jpeg() -> None:
    with RtspServer(fps=30) as camera, IpCameraSource(camera.url) as source:
        frames = read_frames(source, 5)
    assert len(frames) == 5 and (frames[0].width, frames[0].height) == (320, 240)
    steps = {(index_of(b.image) - index_of(a.image)) % 15 for a, b in itertools.pairwise(frames)}
    assert 0 not in steps  # every frame read is a new one


def test_a_slow_reader_of_a_live_camera_gets_the_newest_frame_and_drops_are_counted() -> None:
    with MjpegServer(fps=100) as camera, IpCameraSource(camera.url) as source:
        first = read_frames(source, 1)[0]
        time.sleep(0.4)
        second = read_frames(source, 1)[0]
        stats = source.stats
    assert second.sequence - first.sequence > 10
    assert stats.dropped >= second.sequence - first.sequence - 1 > 0
    assert stats.read == 2


def test_credentials_come_from_the_environment_and_never_appear_in_messages(
    capfd: pytest.CaptureFixture[str],
) -> None:
    env = {"VIEWFINDER_IP_CAMERA_USERNAME": "op@site", "VIEWFINDER_IP_CAMERA_PASSWORD": "s3:cr/t"}
    token = base64.b64encode(b"op@site:s3:cr/t").decode()
    with MjpegServer(basic_auth=token) as camera:
        with IpCameraSource(camera.url, auth_required=True, env=env) as source:
            assert len(read_frames(source, 2)) == 2
            assert "s3" not in source.description and "op" not in source.description
        assert f"Basic {token}" in camera.authorizations
        with pytest.raises(SourceUnavailableError, match="VIEWFINDER_IP_CAMERA_USERNAME"):
            IpCameraSource(camera.url, auth_required=True, env={}).open()
        wrong = {**env, "VIEWFINDER_IP_CAMERA_PASSWORD": "s3:wrong"}
        with pytest.raises(SourceUnavailableError, match="refused the credentials"):
            IpCameraSource(camera.url, auth_required=True, env=wrong).open()
    with pytest.raises(SourceUnavailableError) as raised:
        IpCameraSource(camera.url, auth_required=True, env=env).open()
    assert "s3" not in str(raised.value) and "op@" not in str(raised.value)
    logged = capfd.readouterr()  # what OpenCV and FFmpeg printed
    assert "s3" not in logged.err + logged.out and "op%40" not in logged.err + logged.out


def test_an_unreachable_camera_is_unavailable_with_a_readable_message() -> None:
    camera = MjpegServer()  # never started: nothing listens on its port
    with pytest.raises(SourceUnavailableError, match=r"IP camera http://127\.0\.0\.1:\d+/video"):
        IpCameraSource(camera.url, timeout_s=2).open()
    with pytest.raises(SourceUnavailableError, match="cannot be reached"):
        IpCameraSource(RtspServer().url, timeout_s=2).open()


def test_a_camera_that_goes_away_raises_and_works_again_once_reopened() -> None:
    camera = MjpegServer(fps=50)
    camera.start()
    source = IpCameraSource(camera.url, timeout_s=2)
    source.open()
    assert read_frames(source, 2)
    camera.stop()
    with pytest.raises(SourceUnavailableError, match="stopped delivering frames"):
        read_frames(source, 1000, timeout=5)
    camera.start()
    source.open()
    assert len(read_frames(source, 2)) == 2
    source.close()
    camera.stop()


def test_a_usb_camera_that_is_not_there_is_unavailable() -> None:
    source = build_source({"source_type": "usb_camera", "device_id": 57, "codec": "MJPG"})
    with pytest.raises(SourceUnavailableError, match="USB camera 57 cannot be opened"):
        source.open()
    assert isinstance(source, UsbCameraSource)


class VideoAsLiveCamera(LiveCameraSource):
    """A live camera fed by a video file, to watch the grabber at full decoding speed."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    @property
    def description(self) -> str:
        return f"camera {self.path.name}"

    def _open_capture(self) -> cv2.VideoCapture:
        return cv2.VideoCapture(str(self.path))


def test_a_live_source_whose_stream_ends_reports_it_after_the_last_frame(tmp_path: Path) -> None:
    source = VideoAsLiveCamera(write_video(tmp_path / "clip.mp4", 30))
    source.open()
    time.sleep(0.3)
    last = source.read(1.0)
    with pytest.raises(SourceUnavailableError, match="camera clip.mp4 stopped delivering"):
        source.read(1.0)
    source.close()
    assert last is not None and last.sequence == 30
    assert source.stats.dropped == 29
