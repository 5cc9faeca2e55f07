"""The live pipeline's adapters: OpenCV sources, sinks, OpenVINO models, drawing, and the live frame files."""

import os
import tempfile
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.inference.openvino_model import AsyncOpenVINOModel, OpenVINOModel
from adapters.sinks.factory import build_sink
from adapters.sinks.overlay import draw_predictions
from adapters.sinks.payload import encode_jpeg
from adapters.sources.factory import build_source
from application.live.ports import AsyncInference, LiveFrames
from application.ports.frames import FrameSource
from application.ports.sinks import FrameSink


class OpenCvLiveAdapters:
    """Factories for the runtime (credentials are read from the environment when a part is built)."""

    def __init__(self, in_flight: int = 2) -> None:
        self.in_flight = in_flight

    def source(self, config: dict[str, Any]) -> FrameSource:
        return build_source(config)

    def sink(self, config: dict[str, Any]) -> FrameSink:
        return build_sink(config)

    def model(self, xml_path: Path) -> AsyncInference:
        return AsyncOpenVINOModel(OpenVINOModel(xml_path), jobs=self.in_flight)

    def render(self, image: Any, prediction: dict[str, Any]) -> bytes:
        return encode_jpeg(draw_predictions(image.copy(), prediction), quality=80)

    def encode(self, image: Any) -> bytes:
        return encode_jpeg(image, quality=95)


class FileLiveFrames(LiveFrames):
    """The latest frame of each project as a file under the data directory (shared by API processes)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def publish(self, project_id: UUID, jpeg: bytes) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=self.root, prefix=".frame-")
        with os.fdopen(handle, "wb") as out:
            out.write(jpeg)
        os.replace(temp, self.root / f"{project_id}.jpg")

    def latest(self, project_id: UUID) -> tuple[float, bytes] | None:
        path = self.root / f"{project_id}.jpg"
        try:
            return path.stat().st_mtime, path.read_bytes()
        except FileNotFoundError:
            return None
