"""Stories of training the default detector and running its exported IR."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from training_fakes import FakeReporter

from adapters.inference.openvino_model import AsyncOpenVINOModel, OpenVINOModel
from adapters.inference.openvino_runtime import compile_on_cpu, core
from adapters.training.detection import CellDetectionTrainer
from adapters.training.images import decode_bgr
from application.ports.training import TrainedModel, TrainingCancelledError, TrainingRequest
from benchmarks.training.synthetic import detection_samples, labels_for

KINDS = ["circle", "square", "triangle"]


def scenes_request(tmp: Path, count: int = 200, epochs: int = 20) -> TrainingRequest:
    samples = detection_samples(count, seed=3, fractions=(0.75, 0.05))
    return TrainingRequest("detection", labels_for(KINDS), samples, tmp,
                           parameters={"epochs": epochs}, seed=1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainingRequest, TrainedModel]:
    request = scenes_request(tmp_path_factory.mktemp("det"))
    return request, CellDetectionTrainer().train(request, FakeReporter())


def iou(a: list[float], b: list[float]) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(x2 - x1, 0) * max(y2 - y1, 0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_a_detector_finds_the_shapes_where_they_are(trained) -> None:
    request, model = trained
    loaded = OpenVINOModel(model.xml_path, confidence_threshold=0.3)
    found = total = 0
    for sample in [s for s in request.samples if s.subset == "testing"][:12]:
        predictions = loaded.infer(decode_bgr(sample))
        for truth in sample.annotations:
            t = truth["shape"]
            box = [t["x"], t["y"], t["width"], t["height"]]
            total += 1
            found += any(
                iou(box, [p["shape"][k] for k in ("x", "y", "width", "height")]) > 0.5
                and p["labels"][0]["id"] == truth["labels"][0]["id"]
                for p in predictions
            )
    assert found / total >= 0.6


def test_detection_metrics_are_coco_map_on_the_testing_subset(trained) -> None:
    _, model = trained
    metrics = {m["name"]: m["value"] for m in model.metrics}
    assert set(metrics) == {"map_50", "map_50_95"}
    assert metrics["map_50"] >= 0.5 and metrics["map_50_95"] <= metrics["map_50"]


def test_the_exported_detector_describes_itself(trained) -> None:
    _, model = trained
    loaded = OpenVINOModel(model.xml_path)
    assert loaded.task_type == "detection"
    assert [label.name for label in loaded.labels] == KINDS
    assert loaded.info["preprocessing"]["color"] == "BGR"


def test_the_detector_ir_matches_its_numpy_reference_at_any_input_size(tmp_path: Path) -> None:
    request = scenes_request(tmp_path, count=40, epochs=3)
    detector = CellDetectionTrainer().fit(request, FakeReporter())
    xml, _ = detector.export(tmp_path / "model.xml", {"architecture": "x"})
    compiled = compile_on_cpu(core().read_model(xml))
    image = decode_bgr(request.samples[0])
    for frame in (image, np.ascontiguousarray(image[:150, :211]), cv2.resize(image, (640, 480))):
        out = compiled(frame[None])
        boxes, scores, labels = detector.predict(frame)
        assert len(boxes) == len(out["boxes"]) > 0
        np.testing.assert_allclose(out["boxes"], boxes, atol=1e-2)
        np.testing.assert_allclose(out["scores"], scores, atol=1e-4)
        np.testing.assert_array_equal(out["labels"], labels)


def test_the_async_model_serves_a_stream_of_frames(trained) -> None:
    request, model = trained
    stream = AsyncOpenVINOModel(OpenVINOModel(model.xml_path, f32=False), jobs=2)
    results: list[list] = []
    frames = [decode_bgr(s) for s in request.samples[:4]]
    for frame in frames:
        stream.submit(frame, results.append)
    stream.wait()
    assert len(results) == len(frames)


def test_cancelling_a_detector_stops_it(tmp_path: Path) -> None:
    with pytest.raises(TrainingCancelledError):
        CellDetectionTrainer().train(scenes_request(tmp_path, 40, 3), FakeReporter(stop_after=45))
