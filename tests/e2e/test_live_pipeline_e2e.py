"""The live pipeline with real processes: `viewfinder serve` (gunicorn API, engine with the embedded worker that
runs the pipeline), its MJPEG live stream, its live page in headless Chromium, and a SIGKILL while it runs."""

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
import requests

from application.live.state import LEASE_S
from entrypoints.config import Config
from tests.e2e.conftest import Server
from tests.live_support import (
    Http,
    LivePipeline,
    trained_shapes_project,
    wait_until,
    write_video,
)

REPO = Path(__file__).parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FRAME_SIZE = 256  # the generated video is square


class PatientServer(Server):
    """`viewfinder serve` that tolerates a slow first answer on a busy machine (a read timeout is not fatal)."""

    def start(self, timeout: float = 60) -> "PatientServer":
        log = self.log_path.open("ab")
        self.process = subprocess.Popen([sys.executable, "-m", "entrypoints.cli", "serve"], env=self.env,
                                        stdout=log, stderr=subprocess.STDOUT, cwd=REPO)

        def healthy() -> bool:
            assert self.process is not None and self.process.poll() is None, self.log_path.read_text()[-3000:]
            try:
                return requests.get(f"{self.url}/api/health", timeout=3).status_code == 200
            except requests.RequestException:
                return False

        wait_until(healthy, timeout, 0.1, "viewfinder serve to be healthy")
        return self


@dataclass
class Deployment:
    server: PatientServer
    live: LivePipeline


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A running server whose Shapes pipeline streams a looping video; stopped at the end."""
    root = tmp_path_factory.mktemp("live-e2e")
    server = PatientServer(Config(data_dir=root / "data"), root / "serve.log").start()
    try:
        http = Http(url=server.url)
        project = trained_shapes_project(http, "Shapes")
        live = LivePipeline(http, project.id)
        video = write_video(root / "shapes.mp4", 200, size=FRAME_SIZE, fps=25)
        source = live.source("video", source_type="video_file", video_path=str(video), loop=True)
        live.configure(source_id=source["id"], model_id=project.models[0])
        live.start(30)
        yield Deployment(server, live)
    finally:
        if server.process is not None and server.process.poll() is None:
            server.kill(signal.SIGTERM)


def inferred_so_far(live: LivePipeline) -> int:
    return int(live.metrics(3600)["frames"]["inferred"])


def read_parts(response: requests.Response, count: int, timeout: float = 15.0) -> list[bytes]:
    """The bodies of the first `count` parts of a multipart/x-mixed-replace response (boundary 'frame')."""
    buffer, parts, deadline = b"", list[bytes](), time.monotonic() + timeout
    chunks = response.iter_content(chunk_size=4096)
    while len(parts) < count:
        assert time.monotonic() < deadline, f"only {len(parts)} parts within {timeout} s"
        buffer += next(chunks)
        while (end := buffer.find(b"\r\n\r\n")) >= 0:
            head = buffer[:end].decode("latin-1")
            assert head.startswith("--frame\r\n"), head
            headers = dict(line.split(": ", 1) for line in head.split("\r\n")[1:])
            length = int(headers["Content-Length"])
            if len(buffer) < end + 4 + length + 2:
                break
            assert headers["Content-Type"] == "image/jpeg"
            parts.append(buffer[end + 4:end + 4 + length])
            buffer = buffer[end + 4 + length + 2:]
    return parts


def test_the_live_stream_delivers_jpeg_frames_through_gunicorn(deployment: Deployment) -> None:
    url = f"{deployment.server.url}/api/projects/{deployment.live.project_id}/pipeline/stream"
    with requests.get(url, stream=True, timeout=10) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "multipart/x-mixed-replace; boundary=frame"
        parts = read_parts(response, 4)
    images = [cv2.imdecode(np.frombuffer(part, np.uint8), cv2.IMREAD_COLOR) for part in parts]
    assert all(image is not None and image.shape[:2] == (FRAME_SIZE, FRAME_SIZE) for image in images)
    assert len(set(parts)) > 1, "the stream moves on"


def stream_area(screenshot: np.ndarray) -> np.ndarray:
    """The part of the page where a frame is shown: the bounding box of the largest patch of the frames' dark
    grey background (grey level 30-49, while the page is #111), or an empty array when there is none."""
    grey = ((screenshot.min(axis=2) >= 26) & (screenshot.max(axis=2) <= 52)).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(grey, connectivity=8)
    if count < 2:
        return screenshot[:0, :0]
    x, y, width, height, _ = stats[1 + int(stats[1:, cv2.CC_STAT_AREA].argmax())]
    return screenshot[y:y + height, x:x + width]


def coloured_pixels(image: np.ndarray) -> int:
    """Bright, tinted pixels: the generated circles and squares (the page's text is grey)."""
    spread = image.max(axis=2).astype(int) - image.min(axis=2).astype(int)
    return int(((spread > 15) & (image.max(axis=2) > 150)).sum())


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_the_live_page_shows_the_frames_in_headless_chromium(deployment: Deployment, tmp_path: Path) -> None:
    screenshot = tmp_path / "live.png"
    page = f"{deployment.server.url}/pipeline/{deployment.live.project_id}"
    assert requests.get(page, timeout=10).status_code == 200
    subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={screenshot}",
                    "--window-size=800,600", "--virtual-time-budget=3000", page],
                   check=True, capture_output=True, timeout=90)

    shutil.copy(screenshot, deployment.server.log_path.parent / "live.png")  # kept for a look after a failure
    image = cv2.imread(str(screenshot), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[:2] == (600, 800)
    area = stream_area(image)
    assert area.shape[0] >= FRAME_SIZE * 0.9 and area.shape[1] >= FRAME_SIZE * 0.9, "a frame is shown at its size"
    assert area.std() > 10, "the frame is not uniform"
    assert coloured_pixels(area) > 2000, "it shows a circle or a square of the video"


def test_after_a_sigkill_the_pipeline_is_shown_as_it_is_and_can_be_enabled_again(deployment: Deployment) -> None:
    server, live = deployment.server, deployment.live
    live.wait_for("running", 10)
    wait_until(lambda: inferred_so_far(live) > 0, 10, what="frames inferred before the crash")

    server.kill(signal.SIGKILL)
    server.start()
    stale: list[float] = []  # when it said 'running' while no frame was inferred

    def runs_for_real() -> bool:
        pipeline = live.get()
        assert pipeline["status"] in ("running", "error") and pipeline["enabled"] is True, pipeline
        if pipeline["status"] == "error":
            assert pipeline["error"] and pipeline["error"].endswith("."), "a readable reason"
            return False
        before = inferred_so_far(live)
        time.sleep(1.5)
        if inferred_so_far(live) > before:
            return True
        stale.append(time.monotonic())
        return False

    wait_until(runs_for_real, 40, 0.2, "the pipeline to run again after the restart")
    assert not stale or stale[-1] - stale[0] <= LEASE_S + 2, "a dead runtime's lease shows 'running' for a lease at most"

    stopped = live.disable()
    assert stopped.status_code == 200 and stopped.json["status"] == "idle"
    assert live.enable().status_code == 200
    live.wait_for("running", 20)
    before = inferred_so_far(live)
    wait_until(lambda: inferred_so_far(live) > before, 15, what="frames after enabling again")
    assert live.disable().status_code == 200
