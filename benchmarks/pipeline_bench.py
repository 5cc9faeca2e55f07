"""Live pipeline benchmark: pipeline fps and latency versus a bare OpenVINO AsyncInferQueue run of the same model
on the same decoded frames, in the same run; MQTT and webhook dispatch rates through the pipeline.

Run: .venv/bin/python -m benchmarks.pipeline_bench   (needs Mosquitto on 127.0.0.1:1883)

A detector is trained through the HTTP API (Falcon's TestClient on the full app, engine in a thread, embedded
Dramatiq worker) on generated 320x240 scenes (benchmarks/training/synthetic.py); a 600-frame video of other
generated scenes is written with OpenCV. The pipeline runs in the engine's worker thread of this process and
reads the video file itself (decoding included); its figures come from the metrics endpoint. The bare run decodes
the same file once beforehand and only submits the frames to an AsyncInferQueue with as many requests as the
pipeline uses, copying the outputs in the callback.
"""

from __future__ import annotations

import argparse
import http.server
import math
import multiprocessing
import platform
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from falcon.testing import TestClient

from adapters.inference.openvino_model import OpenVINOModel, _batch
from adapters.inference.openvino_runtime import openvino
from adapters.live import OpenCvLiveAdapters
from benchmarks.training.synthetic import detection_scene
from entrypoints.bootstrap import Container, bootstrap
from entrypoints.config import Config
from entrypoints.engine import Engine
from entrypoints.http.app import create_app
from tests.live_support import (
    Http,
    LivePipeline,
    train,
    trained_shapes_project,
    wait_until,
    write_video,
)

COMMAND = ".venv/bin/python -m benchmarks.pipeline_bench"
KINDS = ["circle", "square", "triangle"]
WIDTH, HEIGHT = 320, 240


# --- model and video ------------------------------------------------------------------------------------------


def train_detector(http: Http, scenes: int, epochs: int) -> tuple[str, str, float]:
    """A detection project trained on generated scenes; (project id, model id, training seconds)."""
    project = http.created("/api/projects", {"name": "Conveyor", "task": {
        "task_type": "detection", "labels": [{"name": kind} for kind in KINDS]}})
    ids = [label["id"] for label in project["task"]["labels"]]
    for n in range(scenes):
        image, annotations = detection_scene(np.random.default_rng([11, n]), WIDTH, HEIGHT, KINDS)
        item = http.post(f"/api/projects/{project['id']}/dataset/items", body=image,
                         headers={"Content-Type": "image/png"})
        assert item.status_code == 201, item.text
        body = {"annotations": [{**a, "labels": [{"id": ids[int(a["labels"][0]["id"][1:])]}]} for a in annotations]}
        assert http.post(f"/api/projects/{project['id']}/dataset/items/{item.json['id']}/annotations",
                         json=body).status_code == 201
    assert http.patch(f"/api/projects/{project['id']}/training_configuration",
                      json={"training.max_epochs": epochs}).status_code == 200
    started = time.perf_counter()
    model_id = train(http, project["id"], timeout=600)
    return project["id"], model_id, time.perf_counter() - started


def write_scene_video(path: Path, frames: int) -> list[np.ndarray]:
    """A video of `frames` generated scenes (not the training ones); returns the frames OpenCV decodes from it."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 25, (WIDTH, HEIGHT))
    for n in range(frames):
        png, _ = detection_scene(np.random.default_rng([12, n]), WIDTH, HEIGHT, KINDS)
        scene = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
        assert scene is not None
        writer.write(scene)
    writer.release()
    capture, decoded = cv2.VideoCapture(str(path)), []
    while (read := capture.read())[0]:
        decoded.append(read[1])
    capture.release()
    return decoded


# --- the bare baseline ----------------------------------------------------------------------------------------


def bare_run(model: OpenVINOModel, frames: list[np.ndarray], jobs: int, seconds: float) -> dict[str, float]:
    """fps and latency of an AsyncInferQueue on the decoded frames, in order and looping, for about `seconds`
    (outputs copied in the callback)."""
    queue = openvino().AsyncInferQueue(model.compiled, jobs)
    names = model._output_names()
    latencies: list[float] = []

    def done(request: Any, submitted: float) -> None:
        _ = {name: request.get_tensor(name).data.copy() for name in names}
        latencies.append((time.perf_counter() - submitted) * 1000)

    queue.set_callback(done)
    batches = [_batch(frame) for frame in frames]
    started, cpu = time.perf_counter(), time.process_time()
    submitted = 0
    while time.perf_counter() - started < seconds:
        queue.start_async({"image": batches[submitted % len(batches)]}, time.perf_counter())
        submitted += 1
    queue.wait_all()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    latencies.sort()
    return {"fps": len(latencies) / elapsed, "per_cpu_s": len(latencies) / cpu, "p50_ms": latencies[len(latencies) // 2],
            "p95_ms": latencies[math.ceil(0.95 * len(latencies)) - 1]}


# --- the pipeline ---------------------------------------------------------------------------------------------


def inferred_in_seconds(live: LivePipeline, first: int, end: int) -> dict[str, int]:
    """Frame counts of the whole seconds [first, end), from the metrics endpoint (windows end now; a second
    belongs to a window when most of it does, so a window starting 0.4 s before `first` begins with it)."""
    time.sleep(max(0.0, end + 0.7 - time.time()))
    now = time.time()
    wide = live.metrics(now - first + 0.4)["frames"]
    narrow = live.metrics(now - end + 0.4)["frames"]
    return {key: wide[key] - narrow[key] for key in wide}


def run_pipeline(container: Container, live: LivePipeline, seconds: float, warm_up: float = 1.5
                 ) -> dict[str, Any]:  # fmt: skip
    """Enable, let it warm up, measure `seconds` of whole seconds, disable; figures from the metrics endpoint."""
    live.start(30)
    time.sleep(warm_up)
    first = math.ceil(time.time())
    time.sleep(first - time.time())
    cpu = time.process_time()
    time.sleep(first - time.time() + seconds)
    end = math.floor(time.time())
    cpu = time.process_time() - cpu
    window = live.metrics(end - first)
    assert live.disable().status_code == 200
    wait_until(lambda: container.live_state.alive(uuid.UUID(live.project_id)) is None, 20, what="the runtime")
    counts = inferred_in_seconds(live, first, end)
    return {"fps": counts["inferred"] / (end - first), "per_cpu_s": counts["inferred"] / cpu, "counts": counts,
            "seconds": end - first,
            "latency": window["inference"]["latency"], "throughput": window["inference"]["throughput"]}


def run_to_the_end(container: Container, live: LivePipeline, frames: int) -> dict[str, Any]:
    """The 600-frame file once (loop false): wall time from :enable to the run's end, every frame inferred."""
    time.sleep(1.01 - time.time() % 1)  # runs sharing a wall-clock second overwrite each other's metrics rows
    before = live.metrics(3600)["frames"]["inferred"]
    started = time.perf_counter()
    assert live.enable().status_code == 200
    wait_until(lambda: live.get()["enabled"] is False, 120, 0.01, "the file to end")
    elapsed = time.perf_counter() - started
    wait_until(lambda: container.live_state.alive(uuid.UUID(live.project_id)) is None, 20, what="the runtime")
    time.sleep(1.1)
    inferred = live.metrics(3600)["frames"]["inferred"] - before
    return {"seconds": elapsed, "inferred": inferred, "frames": frames}


# --- sink peers in their own processes ------------------------------------------------------------------------


def _count_mqtt(topic: str, counter: Any, ready: Any) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    def on_message(client: Any, userdata: Any, message: Any) -> None:
        with counter.get_lock():
            counter.value += 1

    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.on_message = on_message
    client.connect("127.0.0.1", 1883)
    client.subscribe(topic, qos=1)
    client.loop_start()
    time.sleep(0.3)
    ready.set()
    while True:
        time.sleep(1)


def _serve_webhook(port: Any, counter: Any, ready: Any) -> None:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real endpoint would

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            with counter.get_lock():
                counter.value += 1

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port.value = server.server_address[1]
    ready.set()
    server.serve_forever()


def sink_rate(container: Container, live: LivePipeline, sink: dict[str, Any], counter: Any, seconds: float
              ) -> dict[str, Any]:  # fmt: skip
    """Run the pipeline into a sink; messages the peer received per second, and the pipeline's counts."""
    live.configure(sink_id=sink["id"])
    live.start(30)
    time.sleep(1.5)
    received, started = counter.value, time.perf_counter()
    first = math.ceil(time.time())
    time.sleep(first - time.time() + seconds)
    end = math.floor(time.time())
    received, elapsed = counter.value - received, time.perf_counter() - started
    assert live.disable().status_code == 200
    wait_until(lambda: container.live_state.alive(uuid.UUID(live.project_id)) is None, 20, what="the runtime")
    counts = inferred_in_seconds(live, first, end)
    live.configure(sink_id=None)
    return {"received_per_s": received / elapsed, "counts": counts, "seconds": end - first,
            "dispatched_per_s": counts["dispatched"] / (end - first), "fps": counts["inferred"] / (end - first)}


# --- report ---------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=160, help="generated training scenes")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--frames", type=int, default=600, help="frames of the benchmark video")
    parser.add_argument("--repeats", type=int, default=7, help="interleaved bare/pipeline pairs")
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="vf-pipeline-bench-") as tmp:
        root = Path(tmp)
        container = bootstrap(Config(data_dir=root / "data", consistency_timeout_s=10.0))
        engine = Engine(container).start_in_thread()
        try:
            report(container, Http(TestClient(create_app(container))), root, args)
        finally:
            for row in container.read_store.query("SELECT project_id FROM rm_pipelines WHERE enabled = 1"):
                container.live.disable(uuid.UUID(row["project_id"]), "bench")
            engine.stop()
            container.close()


def report(container: Container, http: Http, root: Path, args: argparse.Namespace) -> None:
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.python_version()}, OpenVINO "
          f"{openvino().__version__}, {multiprocessing.cpu_count()} cores", flush=True)
    project_id, model_id, trained_s = train_detector(http, args.scenes, args.epochs)
    model_info = http.get(f"/api/projects/{project_id}/models/{model_id}").json
    metrics = {m["name"]: round(m["value"], 3) for m in model_info["metrics"]}
    print(f"detector trained through the API on {args.scenes} scenes, {args.epochs} epochs in {trained_s:.1f} s: "
          f"{model_info['architecture']}, {metrics}", flush=True)

    video = root / "scenes.mp4"
    frames = write_scene_video(video, args.frames)
    print(f"video: {len(frames)} frames {WIDTH}x{HEIGHT} mp4v", flush=True)
    jobs = OpenCvLiveAdapters().in_flight
    bare_model = OpenVINOModel(container.config.data_dir / "models" / model_id / "model.xml")

    live = LivePipeline(http, project_id)
    looping = live.source("scenes", source_type="video_file", video_path=str(video), loop=True)
    once = live.source("scenes once", source_type="video_file", video_path=str(video), loop=False)
    live.configure(model_id=model_id, source_id=looping["id"])

    bare_runs, pipeline_runs = [], []
    for repeat in range(args.repeats):
        bare_runs.append(bare_run(bare_model, frames, jobs, args.seconds))
        pipeline_runs.append(run_pipeline(container, live, args.seconds))
        print(f"  pair {repeat + 1}: bare {bare_runs[-1]['fps']:.1f} fps ({bare_runs[-1]['per_cpu_s']:.1f}/CPU-s, "
              f"p95 {bare_runs[-1]['p95_ms']:.2f} ms), pipeline {pipeline_runs[-1]['fps']:.1f} fps "
              f"({pipeline_runs[-1]['per_cpu_s']:.1f}/CPU-s, p95 {pipeline_runs[-1]['latency']['p95_ms']} ms, "
              f"endpoint avg_fps {pipeline_runs[-1]['throughput']['avg_fps']}, counts "
              f"{pipeline_runs[-1]['counts']})", flush=True)
    ratios = [p["fps"] / b["fps"] for b, p in zip(bare_runs, pipeline_runs, strict=True)]
    bare_fps = statistics.median(b["fps"] for b in bare_runs)
    pipeline_fps = statistics.median(p["fps"] for p in pipeline_runs)
    print(f"median: bare {bare_fps:.1f} fps, pipeline {pipeline_fps:.1f} fps, ratio {pipeline_fps / bare_fps:.2f} "
          f"(per pair {min(ratios):.2f}-{max(ratios):.2f}; goal >= 0.9)")
    bare_cpu = statistics.median(b["per_cpu_s"] for b in bare_runs)
    pipeline_cpu = statistics.median(p["per_cpu_s"] for p in pipeline_runs)
    cpu_ratios = [p["per_cpu_s"] / b["per_cpu_s"] for b, p in zip(bare_runs, pipeline_runs, strict=True)]
    print(f"frames per CPU-second of this process: bare {bare_cpu:.1f}, pipeline {pipeline_cpu:.1f}, ratio "
          f"{pipeline_cpu / bare_cpu:.2f} (per pair {min(cpu_ratios):.2f}-{max(cpu_ratios):.2f})")
    print(f"pipeline latency p50/p95 (median of runs): "
          f"{statistics.median(p['latency']['p50_ms'] for p in pipeline_runs):.2f} / "
          f"{statistics.median(p['latency']['p95_ms'] for p in pipeline_runs):.2f} ms; bare "
          f"{statistics.median(b['p50_ms'] for b in bare_runs):.2f} / "
          f"{statistics.median(b['p95_ms'] for b in bare_runs):.2f} ms", flush=True)

    live.configure(source_id=once["id"])
    whole = run_to_the_end(container, live, len(frames))
    print(f"the file once (loop false): {whole['inferred']} of {whole['frames']} frames inferred, "
          f"{whole['seconds']:.2f} s from :enable to the end of the run (model compile included)", flush=True)
    live.configure(source_id=looping["id"])

    mqtt_counter, hook_counter, port = (multiprocessing.Value("i", 0), multiprocessing.Value("i", 0),
                                        multiprocessing.Value("i", 0))
    ready_mqtt, ready_hook = multiprocessing.Event(), multiprocessing.Event()
    topic = f"viewfinder-bench/{uuid.uuid4().hex}"
    peers = [multiprocessing.Process(target=_count_mqtt, args=(topic, mqtt_counter, ready_mqtt), daemon=True),
             multiprocessing.Process(target=_serve_webhook, args=(port, hook_counter, ready_hook), daemon=True)]
    for peer in peers:
        peer.start()
    try:
        ready_mqtt.wait(10)
        ready_hook.wait(10)
        shapes = trained_shapes_project(http, "Shapes")  # a tiny classifier: inference outruns the sinks
        fast = LivePipeline(http, shapes.id)
        small = write_video(root / "shapes.mp4", 200)
        fast.configure(model_id=shapes.models[0], source_id=fast.source("shapes", source_type="video_file",
                                                                          video_path=str(small), loop=True)["id"])
        for title, pipeline in (("detector, 320x240", live), ("64x64 classifier", fast)):
            mqtt_sink = pipeline.sink("broker", sink_type="mqtt", broker_host="127.0.0.1", broker_port=1883,
                                      topic=topic, output_formats=["predictions"], rate_limit=None)
            hook_sink = pipeline.sink("hook", sink_type="webhook", webhook_url=f"http://127.0.0.1:{port.value}/hook",
                                      output_formats=["predictions"], rate_limit=None)
            for name, sink, counter in (("MQTT QoS 1", mqtt_sink, mqtt_counter),
                                        ("webhook POST", hook_sink, hook_counter)):
                rate = sink_rate(container, pipeline, sink, counter, args.seconds)
                print(f"{name} ({title}, predictions, no rate limit): inference {rate['fps']:.1f} fps, dispatched "
                      f"{rate['dispatched_per_s']:.1f}/s (metrics), received {rate['received_per_s']:.1f}/s by the "
                      f"peer, dropped {rate['counts']['dropped'] / rate['seconds']:.1f}/s", flush=True)
    finally:
        for peer in peers:
            peer.terminate()


if __name__ == "__main__":
    main()
