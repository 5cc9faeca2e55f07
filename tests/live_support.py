"""Shared helpers of the live pipeline tests and benchmark: HTTP either in-process (Falcon's TestClient) or
against a real server, a project with a trained model, generated videos and frames, a pipeline driven over
HTTP, and the camera and sink peers of tests/integration/pipeline."""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import requests
from falcon.testing import TestClient

from tests.jobs_support import wait_until  # noqa: F401 - one polling helper for both support modules

PEERS = Path(__file__).parent / "integration" / "pipeline"
if str(PEERS) not in sys.path:  # the peers import each other as top-level modules, as their tests do
    sys.path.insert(0, str(PEERS))

from camera_peers import MjpegServer, RtspServer  # type: ignore[import-not-found]
from sink_peers import WebhookServer  # type: ignore[import-not-found]

__all__ = ["MjpegServer", "RtspServer", "WebhookServer"]

TERMINAL = ("done", "failed", "cancelled")
CIRCLE, SQUARE = 0, 1


@dataclass
class Reply:
    """Status code and decoded JSON body (None when the body is not JSON)."""

    status_code: int
    json: Any
    text: str


class Http:
    """The same calls in-process (a TestClient) or over the network (a base URL)."""

    def __init__(self, client: TestClient | None = None, url: str | None = None) -> None:
        self.client, self.url = client, url
        self.session = requests.Session() if url else None

    def call(self, method: str, path: str, json: Any = None, body: bytes | None = None,
             headers: dict[str, str] | None = None, params: dict[str, Any] | None = None) -> Reply:
        if self.client is not None:
            result = self.client.simulate_request(method, path, json=json, body=body, headers=headers,
                                                  params=params)
            try:
                decoded = result.json
            except ValueError:
                decoded = None
            return Reply(result.status_code, decoded, result.content.decode(errors="replace"))
        assert self.session is not None
        response = self.session.request(method, f"{self.url}{path}", json=json, data=body, headers=headers,
                                        params=params, timeout=30)
        try:
            decoded = response.json()
        except ValueError:
            decoded = None
        return Reply(response.status_code, decoded, response.text)

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Reply:
        return self.call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Reply:
        return self.call("PATCH", path, **kwargs)

    def created(self, path: str, json: Any) -> dict[str, Any]:
        reply = self.post(path, json=json)
        assert reply.status_code == 201, reply.text
        return reply.json  # type: ignore[no-any-return]




def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


# --- generated images and videos --------------------------------------------------------------------------


def shape_image(kind: int, size: int = 64, shade: int = 0) -> np.ndarray:
    """A filled circle (0) or square (1) on a dark background; `shade` varies the colours a little."""
    image = np.full((size, size, 3), 30 + shade % 20, np.uint8)
    centre, half = size // 2, size * 15 // 64
    if kind == CIRCLE:
        cv2.circle(image, (centre, centre), half, (200, 200, 255 - shade % 30), -1)
    else:
        cv2.rectangle(image, (centre - half, centre - half), (centre + half, centre + half),
                      (200, 255 - shade % 30, 200), -1)
    return image


def noise_image(index: int, size: int = 64) -> np.ndarray:
    """A frame of coloured noise: neither shape, so a classifier is unsure about it."""
    return np.random.default_rng(index).integers(0, 256, (size, size, 3), dtype=np.uint8)


def write_video(path: Path, frames: int, size: int = 64, fps: float = 25.0, period: int = 10,
                noise: bool = False) -> Path:
    """An mp4 of `frames` frames: circles and squares alternating every `period` frames (or noise)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (size, size))
    assert writer.isOpened(), "OpenCV cannot write mp4v here"
    for index in range(frames):
        writer.write(noise_image(index, size) if noise else shape_image(index // period % 2, size, index))
    writer.release()
    return path


def count_frames(path: Path) -> int:
    """Frames OpenCV decodes from the file (what a video_file source reads)."""
    capture, count = cv2.VideoCapture(str(path)), 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def png(image: np.ndarray) -> bytes:
    return bytes(cv2.imencode(".png", image)[1])


# --- a project with trained models ------------------------------------------------------------------------


@dataclass
class TrainedProject:
    """A 2-label exclusive classification project (circle, square) and its trained models."""

    id: str
    labels: dict[str, str]  # name -> id
    models: list[str]


def create_shapes_project(http: Http, name: str) -> dict[str, Any]:
    return http.created("/api/projects", {"name": name, "task": {
        "task_type": "classification", "exclusive_labels": True,
        "labels": [{"name": "circle"}, {"name": "square"}]}})


def upload_shapes(http: Http, project: dict[str, Any], count: int = 30) -> None:
    """`count` annotated 64x64 images, circles and squares in turn."""
    labels = [label["id"] for label in project["task"]["labels"]]
    for index in range(count):
        kind = index % 2
        reply = http.post(f"/api/projects/{project['id']}/dataset/items", body=png(shape_image(kind, shade=index)),
                          headers={"Content-Type": "image/png"})
        assert reply.status_code == 201, reply.text
        reply = http.post(f"/api/projects/{project['id']}/dataset/items/{reply.json['id']}/annotations",
                          json={"annotations": [{"labels": [{"id": labels[kind]}], "shape": {"type": "full_image"}}]})
        assert reply.status_code == 201, reply.text


def train(http: Http, project_id: str, timeout: float = 120.0) -> str:
    """Run a train job to its end; the new model's id."""
    reply = http.post("/api/jobs", json={"job_type": "train", "project_id": project_id})
    assert reply.status_code == 202, reply.text
    job_id = reply.json["id"]
    job = wait_until(lambda: (j := http.get(f"/api/jobs/{job_id}").json)["status"] in TERMINAL and j,
                     timeout, 0.1, "the training job")
    assert job["status"] == "done", job
    return str(job["result"]["model_id"])


def trained_shapes_project(http: Http, name: str, models: int = 1, images: int = 30,
                           epochs: int = 5) -> TrainedProject:
    """A shapes project with `models` trained models (trained one after the other on the same data)."""
    project = create_shapes_project(http, name)
    upload_shapes(http, project, images)
    reply = http.patch(f"/api/projects/{project['id']}/training_configuration",
                       json={"training.max_epochs": epochs})
    assert reply.status_code == 200, reply.text
    trained = [train(http, project["id"]) for _ in range(models)]
    return TrainedProject(project["id"], {label["name"]: label["id"] for label in project["task"]["labels"]},
                          trained)


# --- a pipeline over HTTP ---------------------------------------------------------------------------------


class LivePipeline:
    """One project's pipeline, driven over HTTP."""

    def __init__(self, http: Http, project_id: str) -> None:
        self.http, self.project_id = http, project_id
        self.url = f"/api/projects/{project_id}/pipeline"

    def get(self) -> dict[str, Any]:
        reply = self.http.get(self.url)
        assert reply.status_code == 200, reply.text
        return reply.json  # type: ignore[no-any-return]

    def configure(self, **changes: Any) -> dict[str, Any]:
        reply = self.http.patch(self.url, json=changes)
        assert reply.status_code == 200, reply.text
        return reply.json  # type: ignore[no-any-return]

    def enable(self) -> Reply:
        return self.http.post(f"{self.url}:enable")

    def disable(self) -> Reply:
        return self.http.post(f"{self.url}:disable")

    def capture(self) -> Reply:
        return self.http.post(f"{self.url}:capture")

    def metrics(self, window: float = 60) -> dict[str, Any]:
        reply = self.http.get(f"{self.url}/metrics", params={"time_window": window})
        assert reply.status_code == 200, reply.text
        return reply.json  # type: ignore[no-any-return]

    def start(self, timeout: float = 15.0) -> dict[str, Any]:
        """Enable and wait until it runs."""
        reply = self.enable()
        assert reply.status_code == 200, reply.text
        return self.wait_for("running", timeout)

    def wait_for(self, status: str, timeout: float = 15.0) -> dict[str, Any]:
        return wait_until(lambda: (p := self.get())["status"] == status and p, timeout, 0.05,
                          f"the pipeline to be {status}")  # type: ignore[no-any-return]

    def source(self, name: str, **fields: Any) -> dict[str, Any]:
        return self.http.created("/api/sources", {"name": unique(name), **fields})

    def sink(self, name: str, **fields: Any) -> dict[str, Any]:
        return self.http.created("/api/sinks", {"name": unique(name), **fields})

    def items(self, source: str | None = None) -> list[dict[str, Any]]:
        reply = self.http.get(f"/api/projects/{self.project_id}/dataset/items",
                              params={"with_annotations": "true", "limit": 1000, "sort": "created_at"})
        assert reply.status_code == 200, reply.text
        return [item for item in reply.json["items"] if source is None or item["source"] == source]


class MqttSubscriber:
    """A real paho client collecting the JSON messages of one topic (QoS 1)."""

    def __init__(self, topic: str, host: str = "127.0.0.1", port: int = 1883) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.messages: list[Any] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda client, userdata, message: self.messages.append(message)
        self.client.connect(host, port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()
        time.sleep(0.2)  # let the SUBACK arrive before anything is published

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
