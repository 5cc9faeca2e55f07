"""The live pipeline through the API with its real runtime: the engine (in a thread) starts `run_pipeline` on the
embedded Dramatiq worker, which reads generated videos, image folders and a local MJPEG camera, runs a model
trained in this module with OpenVINO, and delivers to folders, Mosquitto and a local webhook."""

import base64
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import cv2
import numpy as np
import pytest
from falcon.testing import TestClient

from application.pipeline_metrics import PipelineMetrics
from entrypoints.bootstrap import Container, bootstrap
from entrypoints.config import Config
from entrypoints.engine import Engine
from entrypoints.http.app import create_app
from tests.live_support import (
    Http,
    LivePipeline,
    MjpegServer,
    MqttSubscriber,
    RtspServer,
    TrainedProject,
    WebhookServer,
    count_frames,
    create_shapes_project,
    png,
    shape_image,
    trained_shapes_project,
    wait_until,
    write_video,
)

NO_COLLECTION: dict[str, Any] = {"max_dataset_size": None, "policies": []}
ALL_FORMATS = ["image_original", "image_with_predictions", "predictions"]


@dataclass
class LiveApp:
    """The app with its engine, two trained projects and generated videos."""

    container: Container
    http: Http
    shapes: TrainedProject  # two models
    other: TrainedProject
    root: Path
    video: Path  # 200 frames, circles and squares alternating every 10 frames


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    root = tmp_path_factory.mktemp("live")
    container = bootstrap(Config(data_dir=root / "data", consistency_timeout_s=10.0, engine_poll_interval_s=0.005))
    engine = Engine(container).start_in_thread()
    http = Http(TestClient(create_app(container)))
    try:
        shapes = trained_shapes_project(http, "Shapes", models=2)
        other = trained_shapes_project(http, "Other shapes", images=20)
        yield LiveApp(container, http, shapes, other, root, write_video(root / "shapes.mp4", 200))
    finally:
        for row in container.read_store.query("SELECT project_id FROM rm_pipelines WHERE enabled = 1"):
            http.post(f"/api/projects/{row['project_id']}/pipeline:disable")
        engine.stop()
        container.close()


def no_runtime_alive(app: LiveApp) -> bool:
    return all(app.container.live_state.alive(UUID(p.id)) is None for p in (app.shapes, app.other))


@pytest.fixture
def pipeline(app: LiveApp) -> Iterator[LivePipeline]:
    """The Shapes pipeline with its first model, no sink, no collection; stopped (and its runtime gone) after."""
    live = LivePipeline(app.http, app.shapes.id)
    live.configure(model_id=app.shapes.models[0], sink_id=None, data_collection=NO_COLLECTION)
    yield live
    for project in (app.shapes, app.other):
        LivePipeline(app.http, project.id).disable()
    wait_until(lambda: no_runtime_alive(app), 10, what="every runtime to stop")


def stop(live: LivePipeline, app: LiveApp) -> None:
    """Disable and wait for the runtime to end (while the test's peers still answer)."""
    assert live.disable().status_code == 200
    wait_until(lambda: no_runtime_alive(app), 10, what="the runtime to stop")


def video_source(live: LivePipeline, path: Path, loop: bool = True) -> dict[str, Any]:
    return live.source("video", source_type="video_file", video_path=str(path), loop=loop)


def folder_sink(live: LivePipeline, folder: Path, rate_limit: float | None = 20,
                formats: list[str] | None = None) -> dict[str, Any]:
    return live.sink("folder", sink_type="folder", folder_path=str(folder), rate_limit=rate_limit,
                     output_formats=formats or ["predictions"])


def predictions_in(folder: Path) -> list[dict[str, Any]]:
    """The predictions JSON files of a folder sink, in name order."""
    if not folder.exists():
        return []
    names = sorted(n for n in os.listdir(folder) if n.endswith("_predictions.json"))
    return [json.loads((folder / n).read_text()) for n in names]


def count_files(folder: Path) -> int:
    return len(os.listdir(folder)) if folder.exists() else 0


def totals(live: LivePipeline) -> dict[str, int]:
    """Frame counts of every run of the last hour, to compare before and after a run (which starts in a later
    wall-clock second than the runs before it: runs sharing a second overwrite each other's counts, see
    test_two_runtimes_counting_in_the_same_second_add_up)."""
    time.sleep(1 - time.time() % 1 + 0.01)
    return live.metrics(3600)["frames"]  # type: ignore[no-any-return]


def counted_since(live: LivePipeline, before: dict[str, int]) -> dict[str, int]:
    return {key: value - before[key] for key, value in totals(live).items()}


def run(live: LivePipeline, app: LiveApp, tmp_path: Path, loop: bool = True, **sink: Any) -> Path:
    """Point the pipeline at the looping video and a folder sink, and start it; the sink folder."""
    folder = tmp_path / "out"
    live.configure(source_id=video_source(live, app.video, loop)["id"],
                   sink_id=folder_sink(live, folder, **sink)["id"])
    live.start()
    return folder


# --- enabling, refusals ---------------------------------------------------------------------------------------


def test_enabling_without_a_source_or_without_a_model_is_409_with_the_reason(app: LiveApp, pipeline: Any) -> None:
    bare = LivePipeline(app.http, create_shapes_project(app.http, f"Untrained {uuid.uuid4().hex[:6]}")["id"])
    response = bare.enable()
    assert response.status_code == 409, response.text
    assert "no source" in response.json["detail"]
    bare.configure(source_id=video_source(bare, app.video)["id"])
    response = bare.enable()
    assert response.status_code == 409, response.text
    assert "no trained model" in response.json["detail"]
    assert bare.get()["status"] == "idle" and bare.get()["enabled"] is False


def test_capture_is_409_while_the_pipeline_is_not_running(pipeline: LivePipeline) -> None:
    response = pipeline.capture()
    assert response.status_code == 409, response.text
    assert "not running" in response.json["detail"]


@pytest.mark.parametrize("window", ["0", "5000", "abc", "-1", ""])
def test_metrics_over_a_window_outside_1_to_3600_seconds_are_400(pipeline: LivePipeline, window: str) -> None:
    response = pipeline.http.get(f"{pipeline.url}/metrics", params={"time_window": window})
    assert response.status_code == 400, response.text
    assert "time_window" in response.json["detail"]


def test_only_one_pipeline_runs_in_the_deployment(app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    run(pipeline, app, tmp_path)
    other = LivePipeline(app.http, app.other.id)
    other.configure(source_id=video_source(other, app.video)["id"], model_id=app.other.models[0])

    refused = other.enable()
    assert refused.status_code == 409, refused.text
    assert "at most one runs" in refused.json["detail"]
    assert other.get()["enabled"] is False and pipeline.get()["status"] == "running"

    assert pipeline.disable().status_code == 200
    assert other.enable().status_code == 200, "the first pipeline no longer runs"
    other.wait_for("running")
    assert pipeline.enable().status_code == 409


# --- sources ---------------------------------------------------------------------------------------------------


def test_a_video_streams_predictions_into_a_folder_with_files_that_sort_by_time(
        app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    folder = run(pipeline, app, tmp_path, rate_limit=20, formats=ALL_FORMATS)
    wait_until(lambda: len(predictions_in(folder)) >= 10, 10, what="ten predictions in the folder")
    pipeline.disable()

    names = sorted(n for n in os.listdir(folder) if not n.startswith("."))
    stems = sorted({n.rsplit("_", 1)[0] for n in names})
    assert names == sorted(f"{stem}_{kind}" for stem in stems
                           for kind in ("annotated.jpg", "original.jpg", "predictions.json")), "three files a frame"
    payloads = predictions_in(folder)
    assert [p["frame"]["timestamp"] for p in payloads] == sorted(p["frame"]["timestamp"] for p in payloads)
    assert [p["frame"]["sequence"] for p in payloads] == sorted(p["frame"]["sequence"] for p in payloads)
    first = payloads[0]
    assert first["model_id"] == app.shapes.models[0]
    assert (first["frame"]["width"], first["frame"]["height"]) == (64, 64)
    [prediction] = first["predictions"]
    [label] = prediction["labels"]
    assert label["id"] == app.shapes.labels[label["name"]] and 0.5 <= label["confidence"] <= 1
    assert prediction["shape"] == {"type": "full_image"}
    original = cv2.imread(str(folder / f"{stems[0]}_original.jpg"))
    annotated = cv2.imread(str(folder / f"{stems[0]}_annotated.jpg"))
    assert original is not None and annotated is not None and original.shape[:2] == (64, 64)


def test_a_finished_video_ends_the_run_cleanly_after_inferring_every_frame(
        app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    video = write_video(tmp_path / "short.mp4", 150)
    frames = count_frames(video)
    pipeline.configure(source_id=video_source(pipeline, video, loop=False)["id"])
    before = totals(pipeline)
    assert pipeline.enable().status_code == 200

    ended = wait_until(lambda: (p := pipeline.get())["enabled"] is False and p, 15, what="the run to end")
    assert ended["status"] == "idle" and ended["error"] is None
    wait_until(lambda: no_runtime_alive(app), 5, what="the runtime to finish")
    frames_metrics = counted_since(pipeline, before)
    assert frames_metrics["read"] == frames_metrics["inferred"] == frames, "no frame of a file is skipped"
    project = app.http.get(f"/api/projects/{app.shapes.id}").json
    assert project["active_pipeline"] is False
    assert pipeline.enable().status_code == 200, "a finished pipeline can be enabled again"


def test_every_frame_of_a_finished_video_is_accounted_for_as_dispatched_or_dropped(
        app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    video = write_video(tmp_path / "short.mp4", 150)
    folder = tmp_path / "out"
    pipeline.configure(source_id=video_source(pipeline, video, loop=False)["id"],
                       sink_id=folder_sink(pipeline, folder, rate_limit=None)["id"])
    before = totals(pipeline)
    assert pipeline.enable().status_code == 200
    wait_until(lambda: pipeline.get()["enabled"] is False, 15, what="the run to end")
    wait_until(lambda: no_runtime_alive(app), 5, what="the runtime to finish")

    counts = counted_since(pipeline, before)
    assert counts["inferred"] == count_frames(video)
    assert counts["dispatched"] == len(predictions_in(folder)), "every file written is counted as dispatched"
    assert counts["dispatched"] + counts["dropped"] == counts["inferred"]


def test_an_images_folder_is_read_oldest_first_then_as_files_arrive(
        app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    images, folder = tmp_path / "camera-roll", tmp_path / "out"
    images.mkdir()
    (images / "a-circle.png").write_bytes(png(shape_image(0)))
    (images / "b-square.png").write_bytes(png(shape_image(1)))
    os.utime(images / "b-square.png", (time.time() - 60, time.time() - 60))  # older: read first
    source = pipeline.source("roll", source_type="images_folder", images_folder_path=str(images),
                             ignore_existing_images=False)
    pipeline.configure(source_id=source["id"], sink_id=folder_sink(pipeline, folder, rate_limit=None)["id"])
    pipeline.start()
    wait_until(lambda: len(predictions_in(folder)) == 2, 10, what="the existing images")

    for index, kind in enumerate((1, 0, 1)):  # written atomically, as a camera's uploader would
        (images / f".tmp-{index}").write_bytes(png(shape_image(kind, shade=index)))
        os.replace(images / f".tmp-{index}", images / f"new-{index}.png")
        time.sleep(0.3)
    (images / "broken.jpg").write_bytes(b"not an image")
    wait_until(lambda: len(predictions_in(folder)) == 5, 10, what="the new images")
    time.sleep(0.5)

    names = [p["predictions"][0]["labels"][0]["name"] for p in predictions_in(folder)]
    assert names == ["square", "circle", "square", "circle", "square"]
    assert pipeline.get()["status"] == "running", "an unreadable file is skipped"


def test_an_unreachable_mjpeg_camera_is_an_error_until_it_comes_up_again(
        app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    camera = MjpegServer(fps=20)
    folder = tmp_path / "out"
    source = pipeline.source("gate camera", source_type="ip_camera", stream_url=camera.url)
    pipeline.configure(source_id=source["id"], sink_id=folder_sink(pipeline, folder, rate_limit=None)["id"])
    assert pipeline.enable().status_code == 200

    failing = pipeline.wait_for("error", 10)
    assert failing["error"] == f"IP camera {camera.url} cannot be reached.", failing["error"]
    with camera:
        pipeline.wait_for("running", 10)
        wait_until(lambda: len(predictions_in(folder)) >= 3, 10, what="frames of the camera")
        assert predictions_in(folder)[0]["frame"]["width"] == 320
    broken = pipeline.wait_for("error", 10)
    assert "stopped delivering" in broken["error"] or "cannot be reached" in broken["error"], broken["error"]
    with camera:
        pipeline.wait_for("running", 15)
        delivered = len(predictions_in(folder))
        wait_until(lambda: len(predictions_in(folder)) > delivered, 10, what="frames after the second outage")
    assert pipeline.get()["enabled"] is True, "recovery needs no re-enabling"


def test_an_rtsp_camera_streams_through_the_pipeline(app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    with RtspServer(fps=25) as camera:
        source = pipeline.source("rtsp camera", source_type="ip_camera", stream_url=camera.url)
        pipeline.configure(source_id=source["id"], sink_id=folder_sink(pipeline, folder, rate_limit=None)["id"])
        pipeline.start()
        wait_until(lambda: len(predictions_in(folder)) >= 5, 10, what="frames of the RTSP camera")
        stop(pipeline, app)
    payloads = predictions_in(folder)
    assert {(p["frame"]["width"], p["frame"]["height"]) for p in payloads} == {(320, 240)}
    assert all(p["model_id"] == app.shapes.models[0] and p["predictions"] for p in payloads)


# --- sinks through the runtime ---------------------------------------------------------------------------------


@pytest.mark.mqtt
def test_predictions_reach_a_real_mqtt_subscriber(app: LiveApp, pipeline: LivePipeline) -> None:
    topic = f"viewfinder-test/{uuid.uuid4().hex}/live"
    subscriber = MqttSubscriber(topic)
    try:
        sink = pipeline.sink("broker", sink_type="mqtt", broker_host="127.0.0.1", broker_port=1883, topic=topic,
                             output_formats=["predictions", "image_with_predictions"], rate_limit=10)
        pipeline.configure(source_id=video_source(pipeline, app.video)["id"], sink_id=sink["id"])
        pipeline.start()
        wait_until(lambda: len(subscriber.messages) >= 5, 10, what="five MQTT messages")
    finally:
        subscriber.close()
    messages = list(subscriber.messages)
    assert {m.qos for m in messages} == {1}
    bodies = [json.loads(m.payload) for m in messages]
    assert all(b["model_id"] == app.shapes.models[0] for b in bodies)
    assert [b["frame"]["sequence"] for b in bodies] == sorted(b["frame"]["sequence"] for b in bodies)
    label = bodies[0]["predictions"][0]["labels"][0]
    assert set(label) == {"id", "name", "confidence"} and label["id"] == app.shapes.labels[label["name"]]
    jpeg = cv2.imdecode(np.frombuffer(base64.b64decode(bodies[0]["image_with_predictions"]), np.uint8),
                        cv2.IMREAD_COLOR)
    assert jpeg is not None and jpeg.shape[:2] == (64, 64)


def test_a_webhook_answering_500_at_first_gets_the_same_message_again(app: LiveApp, pipeline: LivePipeline) -> None:
    with WebhookServer(script=[500, 500]) as hook:
        sink = pipeline.sink("hook", sink_type="webhook", webhook_url=hook.url, http_method="PUT",
                             headers={"X-Token": "secret"}, timeout=5, rate_limit=5)
        pipeline.configure(source_id=video_source(pipeline, app.video)["id"], sink_id=sink["id"])
        pipeline.start()
        wait_until(lambda: len(hook.requests) >= 5, 10, what="five webhook requests")
        assert pipeline.get()["status"] == "running", "a retried delivery is not an error"
        stop(pipeline, app)
    methods = {method for method, _, _ in hook.requests}
    assert methods == {"PUT"} and hook.requests[0][1]["X-Token"] == "secret"
    bodies = [json.loads(body) for _, _, body in hook.requests]
    assert bodies[0] == bodies[1] == bodies[2], "the first message is retried after each 500"
    assert bodies[3]["frame"]["sequence"] > bodies[2]["frame"]["sequence"]
    assert bodies[0]["predictions"][0]["labels"][0]["name"] in ("circle", "square")


def test_a_webhook_failing_for_good_is_an_error_that_clears_once_it_answers(
        app: LiveApp, pipeline: LivePipeline) -> None:
    with WebhookServer(script=[503] * 6) as hook:
        sink = pipeline.sink("hook", sink_type="webhook", webhook_url=hook.url, timeout=5, rate_limit=5)
        pipeline.configure(source_id=video_source(pipeline, app.video)["id"], sink_id=sink["id"])
        pipeline.start()
        failing = pipeline.wait_for("error", 10)
        assert failing["error"] == f"The sink fails: Webhook {hook.url} failed after 3 attempts: HTTP 503."
        pipeline.wait_for("running", 15)
        delivered = len(hook.requests)
        wait_until(lambda: len(hook.requests) > delivered + 2, 10, what="deliveries after the outage")
        stop(pipeline, app)


def test_a_slow_sink_does_not_stall_inference_and_its_drops_are_counted(app: LiveApp, pipeline: LivePipeline) -> None:
    with WebhookServer(script=["slow"] * 50, slow_s=1.0) as hook:
        sink = pipeline.sink("slow hook", sink_type="webhook", webhook_url=hook.url, timeout=5, rate_limit=None)
        pipeline.configure(source_id=video_source(pipeline, app.video)["id"], sink_id=sink["id"])
        pipeline.start()
        time.sleep(3.5)
        metrics = pipeline.metrics(2)["frames"]
        requests_seen = len(hook.requests)
    assert metrics["inferred"] > 100, metrics
    assert metrics["dispatched"] <= 3 and requests_seen <= 5
    assert metrics["dropped"] > metrics["inferred"] / 2, "what the sink cannot take is dropped and counted"


# --- reconfiguration and disabling while running ---------------------------------------------------------------


def seconds_until(condition: Any, timeout: float = 5.0) -> float:
    started = time.monotonic()
    wait_until(condition, timeout, 0.01)
    return time.monotonic() - started


def test_switching_the_sink_while_running_takes_effect_within_a_second(
        app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    first = run(pipeline, app, tmp_path, rate_limit=20)
    wait_until(lambda: count_files(first) >= 3, 10, what="files in the first folder")
    second = tmp_path / "second"
    sink = folder_sink(pipeline, second, rate_limit=20)

    pipeline.configure(sink_id=sink["id"])
    assert seconds_until(lambda: count_files(second) > 0) < 1.0
    time.sleep(0.3)
    left_behind = count_files(first)
    time.sleep(1.0)
    assert count_files(first) == left_behind, "the old sink gets nothing more"
    assert pipeline.get()["status"] == "running"


def test_switching_the_model_while_running_keeps_the_stream_going(
        app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    folder = run(pipeline, app, tmp_path, rate_limit=30)
    wait_until(lambda: len(predictions_in(folder)) >= 5, 10, what="predictions of the first model")
    new_model = app.shapes.models[1]

    pipeline.configure(model_id=new_model)
    assert seconds_until(lambda: any(p["model_id"] == new_model for p in predictions_in(folder))) < 1.0
    time.sleep(0.5)
    payloads = predictions_in(folder)
    models = [p["model_id"] for p in payloads]
    switch = models.index(new_model)
    assert set(models[:switch]) == {app.shapes.models[0]} and set(models[switch:]) == {new_model}
    sequences = [p["frame"]["sequence"] for p in payloads]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences), \
        "the source was not reopened: its frame numbers go on"
    assert pipeline.get()["model"]["id"] == new_model and pipeline.get()["status"] == "running"


def test_switching_the_source_while_running_takes_effect_within_a_second(
        app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    folder = run(pipeline, app, tmp_path, rate_limit=30)
    wait_until(lambda: len(predictions_in(folder)) >= 3, 10, what="predictions of the first video")
    larger = write_video(tmp_path / "larger.mp4", 50, size=96)  # told apart by its frame size

    pipeline.configure(source_id=video_source(pipeline, larger)["id"])
    assert seconds_until(lambda: any(p["frame"]["width"] == 96 for p in predictions_in(folder))) < 1.5
    time.sleep(0.3)
    newest = predictions_in(folder)[-5:]
    assert all(p["frame"]["width"] == 96 for p in newest), "the old source is closed"


def test_switching_away_from_a_slow_sink_does_not_stall_the_stream(
        app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    with WebhookServer(script=["slow"] * 50, slow_s=1.0) as hook:
        sink = pipeline.sink("slow hook", sink_type="webhook", webhook_url=hook.url, timeout=5, rate_limit=None)
        pipeline.configure(source_id=video_source(pipeline, app.video)["id"], sink_id=sink["id"])
        pipeline.start()
        wait_until(lambda: hook.requests, 5, what="the slow webhook to be busy")
        folder = tmp_path / "out"

        pipeline.configure(sink_id=folder_sink(pipeline, folder)["id"])
        assert seconds_until(lambda: count_files(folder) > 0, 10) < 1.0


def test_disabling_stops_a_slow_webhook_within_a_second(app: LiveApp, pipeline: LivePipeline) -> None:
    with WebhookServer(script=["slow"] * 50, slow_s=1.0) as hook:
        sink = pipeline.sink("slow hook", sink_type="webhook", webhook_url=hook.url, timeout=5, rate_limit=None)
        pipeline.configure(source_id=video_source(pipeline, app.video)["id"], sink_id=sink["id"])
        pipeline.start()
        wait_until(lambda: len(hook.requests) >= 2, 5, what="the slow webhook to be busy")

        pipeline.disable()
        time.sleep(1.0)
        stopped_at = len(hook.requests)
        time.sleep(2.0)
        assert len(hook.requests) == stopped_at


def test_disabling_stops_the_output_within_a_second(app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    folder = run(pipeline, app, tmp_path, rate_limit=50)
    wait_until(lambda: count_files(folder) >= 5, 10, what="files in the folder")

    response = pipeline.disable()
    assert response.status_code == 200 and response.json["status"] == "idle" and response.json["enabled"] is False
    assert seconds_until(lambda: no_runtime_alive(app)) < 1.5
    time.sleep(1.0)
    stopped_at = count_files(folder)
    time.sleep(1.0)
    assert count_files(folder) == stopped_at
    assert pipeline.get()["status"] == "idle"


def test_an_unwritable_folder_is_an_error_that_clears_when_the_sink_is_fixed(
        app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    broken = folder_sink(pipeline, tmp_path / "a-file" / "out")
    pipeline.configure(source_id=video_source(pipeline, app.video)["id"], sink_id=broken["id"])
    assert pipeline.enable().status_code == 200

    failing = pipeline.wait_for("error", 10)
    assert failing["error"].startswith(f"The sink fails: Folder sink '{tmp_path / 'a-file' / 'out'}' cannot be "
                                       "written"), failing["error"]
    assert pipeline.metrics(5)["frames"]["inferred"] > 0, "inference goes on"
    folder = tmp_path / "out"
    pipeline.configure(sink_id=folder_sink(pipeline, folder)["id"])
    pipeline.wait_for("running", 5)
    wait_until(lambda: predictions_in(folder), 5, what="files in the fixed sink's folder")


# --- capture and collection ------------------------------------------------------------------------------------


def test_a_capture_turns_the_next_frame_into_an_unreviewed_pre_annotated_item(
        app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    run(pipeline, app, tmp_path)
    before = {item["id"] for item in pipeline.items()}

    response = pipeline.capture()
    assert response.status_code == 202, response.text
    [item] = wait_until(lambda: [i for i in pipeline.items() if i["id"] not in before and i["annotated"]], 5,
                        what="the captured item with its pre-annotation")  # stored, then annotated
    assert item["source"] == "capture" and (item["width"], item["height"]) == (64, 64)
    assert item["user_reviewed"] is False and item["annotated"] is True
    [annotation] = item["annotations"]
    [label] = annotation["labels"]
    assert label["id"] == app.shapes.labels[label["name"]] and 0.5 <= label["confidence"] <= 1
    assert annotation["shape"] == {"type": "full_image"}
    binary = app.http.get(f"/api/projects/{app.shapes.id}/dataset/items/{item['id']}/binary")
    assert binary.status_code == 200


def collected(live: LivePipeline, before: set[str]) -> list[dict[str, Any]]:
    return [item for item in live.items("capture") if item["id"] not in before]


def collect_for(live: LivePipeline, seconds: float, data_collection: dict[str, Any]) -> tuple[float, set[str]]:
    """Collect with a policy for a while; (seconds the policy was on, ids of the items from before)."""
    before = {item["id"] for item in live.items()}
    started = time.monotonic()
    live.configure(data_collection=data_collection)
    time.sleep(seconds)
    live.configure(data_collection=NO_COLLECTION)
    elapsed = time.monotonic() - started
    time.sleep(0.8)  # the runtime sees the change within FOLLOW_S; both ends shift alike
    return elapsed, before


def test_the_fixed_rate_policy_collects_about_rate_times_seconds_frames(
        app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    run(pipeline, app, tmp_path)
    elapsed, before = collect_for(pipeline, 2.5, {"max_dataset_size": None, "policies": [
        {"type": "fixed_rate", "enabled": True, "rate": 4}]})
    items = collected(pipeline, before)
    assert abs(len(items) - 4 * elapsed) <= 3, (len(items), elapsed)
    assert all(item["annotations"] and item["user_reviewed"] is False for item in items)


def test_the_confidence_policy_collects_unsure_frames_at_most_once_per_interval(
        app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    run(pipeline, app, tmp_path)
    elapsed, before = collect_for(pipeline, 2.5, {"policies": [
        {"type": "confidence_threshold", "confidence_threshold": 1.0, "min_sampling_interval": 0.5}]})
    items = collected(pipeline, before)
    assert abs(len(items) - elapsed / 0.5) <= 2, (len(items), elapsed)
    assert all(item["annotations"][0]["labels"][0]["confidence"] < 1.0 for item in items)

    _, before = collect_for(pipeline, 1.5, {"policies": [
        {"type": "confidence_threshold", "confidence_threshold": 0.5, "min_sampling_interval": 0.1}]})
    assert collected(pipeline, before) == [], "an exclusive two-label model is always at least 0.5 sure"


def test_max_dataset_size_caps_collection(app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    run(pipeline, app, tmp_path)
    size = len(pipeline.items())
    collect_for(pipeline, 2.0, {"max_dataset_size": size + 3, "policies": [
        {"type": "fixed_rate", "rate": 20}]})
    assert len(pipeline.items()) == size + 3


# --- metrics ---------------------------------------------------------------------------------------------------


def test_two_runtimes_counting_in_the_same_second_add_up(app: LiveApp) -> None:
    project_id, second = uuid.uuid4(), int(time.time()) - 2
    for _ in range(2):  # the runtime of a run that ended, then the runtime of the next run
        metrics = PipelineMetrics()
        for index in range(10):
            metrics.record_read(second + 0.5 + index / 100)
            metrics.record(5.0, second + 0.5 + index / 100)
        app.container.live_state.save_seconds(project_id, metrics.completed_seconds(0, second + 1.5))
    frames = app.container.live_state.metrics(project_id, 60)["frames"]
    assert frames["read"] == frames["inferred"] == 20


def test_the_average_fps_of_a_steady_stream_matches_its_per_second_rate(
        app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    run(pipeline, app, tmp_path)
    time.sleep(2.5)
    time.sleep((0.7 - time.time() % 1) % 1)  # 0.7 s into a second: a 2 s window holds the last second and this one
    throughput = pipeline.metrics(2)["inference"]["throughput"]
    assert throughput["total_frames"] > 0
    assert throughput["avg_fps"] >= 0.75 * throughput["max_fps"], throughput


def test_metrics_describe_a_window_of_time(app: LiveApp, pipeline: LivePipeline, tmp_path: Path) -> None:
    run(pipeline, app, tmp_path, rate_limit=10)
    time.sleep(3.5)
    metrics = pipeline.metrics(2)

    assert metrics["time_window"]["time_window"] == 2
    assert metrics["time_window"]["start"] < metrics["time_window"]["end"]
    latency = metrics["inference"]["latency"]
    assert latency["min_ms"] <= latency["p50_ms"] <= latency["p95_ms"] <= latency["p99_ms"] <= latency["max_ms"]
    assert latency["min_ms"] <= latency["avg_ms"] <= latency["max_ms"] and latency["latest_ms"] > 0
    throughput, frames = metrics["inference"]["throughput"], metrics["frames"]
    assert throughput["total_frames"] == frames["inferred"] > 0
    assert throughput["max_fps"] >= throughput["avg_fps"] > 0
    assert throughput["avg_fps"] == pytest.approx(frames["inferred"] / 2, rel=0.6)
    assert abs(frames["read"] - frames["inferred"]) <= 10, frames
    assert 10 <= frames["dispatched"] <= 10 * 3 + 2, "the sink's rate limit of 10 Hz over about two seconds"
    longer = pipeline.metrics(60)["frames"]
    assert longer["inferred"] > frames["inferred"], "a longer window holds more of the run"
