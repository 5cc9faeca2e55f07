"""Stories of training the default instance segmenter and running its exported IR."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from training_fakes import FakeReporter

from adapters.inference.openvino_model import OpenVINOModel, mask_polygon
from adapters.inference.openvino_runtime import compile_on_cpu, core
from adapters.training.evaluation import coco_mask_map
from adapters.training.images import decode_bgr
from adapters.training.mlp import Mlp
from adapters.training.registry import default_registry
from adapters.training.segmentation import CellSegmentationTrainer
from adapters.training.segmentation_model import REFINE_FEATURES, CellSegmenter
from application.ports.training import (
    TrainedModel,
    TrainingCancelledError,
    TrainingRequest,
)
from benchmarks.training.synthetic import labels_for, polygon_mask, segmentation_samples

KINDS = ["circle", "square", "triangle"]


def scenes_request(tmp: Path, count: int = 110, epochs: int = 8, **parameters: object) -> TrainingRequest:
    samples = segmentation_samples(count, seed=5, fractions=(0.75, 0.05))
    return TrainingRequest("instance_segmentation", labels_for(KINDS), samples, tmp,
                           parameters={"epochs": epochs, "batch_images": 4, **parameters}, seed=2)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainingRequest, TrainedModel, FakeReporter]:
    request = scenes_request(tmp_path_factory.mktemp("seg"))
    reporter = FakeReporter()
    return request, CellSegmentationTrainer().train(request, reporter), reporter


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainingRequest, CellSegmenter]:
    request = scenes_request(tmp_path_factory.mktemp("tiny"), count=24, epochs=1, refine_images=8)
    return request, CellSegmentationTrainer().fit(request, FakeReporter())


def truth_masks(sample, height: int, width: int) -> list[tuple[str, np.ndarray]]:
    return [
        (a["labels"][0]["id"],
         polygon_mask(np.array([[p["x"], p["y"]] for p in a["shape"]["points"]]), height, width))
        for a in sample.annotations
    ]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def test_the_segmenter_outlines_the_shapes_where_they_are(trained) -> None:
    request, model, _ = trained
    loaded = OpenVINOModel(model.xml_path, confidence_threshold=0.3)
    ious, same_label = [], []
    for sample in [s for s in request.samples if s.subset == "testing"]:
        image = decode_bgr(sample)
        predictions = loaded.infer(image)
        assert all(p["shape"]["type"] == "polygon" and len(p["shape"]["points"]) >= 3 for p in predictions)
        found = [(p["labels"][0]["id"],
                  polygon_mask(np.array([[q["x"], q["y"]] for q in p["shape"]["points"]]), *image.shape[:2]))
                 for p in predictions]
        for label, truth in truth_masks(sample, *image.shape[:2]):
            best = max(found, key=lambda f: iou(f[1], truth), default=None)
            ious.append(iou(best[1], truth) if best else 0.0)
            same_label.append(best is not None and best[0] == label)
    # A shape of this size placed at random overlaps the true one with IoU ~0.01.
    assert len(ious) >= 20
    assert np.mean(ious) >= 0.6 and np.median(ious) >= 0.75
    assert np.mean(same_label) >= 0.5


def test_segmentation_metrics_are_coco_segm_map_of_the_exported_ir(trained) -> None:
    _, model, reporter = trained
    metrics = {m["name"]: m["value"] for m in model.metrics}
    assert set(metrics) == {"map_50", "map_50_95", "box_map_50", "box_map_50_95"}
    assert metrics["map_50"] >= 0.3 and metrics["map_50_95"] <= metrics["map_50"]
    assert {m["subset"] for m in model.metrics} == {"testing"}
    assert any(line.startswith("testing: map_50") for line in reporter.lines)


def test_training_reports_progress_and_one_line_per_epoch(trained) -> None:
    _, _, reporter = trained
    epochs = [line for line in reporter.lines if line.startswith("epoch ")]
    assert len(epochs) == 8
    assert "loss" in epochs[0] and "val_map_50" in epochs[0] and "val_mask_iou" in epochs[0]
    assert any(line.startswith("refinement ") for line in reporter.lines)
    assert reporter.percents == sorted(reporter.percents) and reporter.percents[-1] == 100


def test_the_exported_segmenter_describes_itself(trained) -> None:
    _, model, _ = trained
    loaded = OpenVINOModel(model.xml_path)
    assert loaded.task_type == "instance_segmentation"
    assert loaded.architecture == "cellnet-segmenter"
    assert [label.name for label in loaded.labels] == KINDS
    assert loaded.info["masks"]["layout"] == "foreground_full_image"
    assert set(loaded.info["outputs"]) == {"boxes", "scores", "labels", "masks"}
    raw = loaded.raw(np.zeros((97, 131, 3), np.uint8))
    assert raw["masks"].shape == (1, 97, 131) and raw["masks"].dtype == np.uint8


def test_the_segmenter_is_the_default_for_instance_segmentation() -> None:
    trainer = default_registry().default_trainer("instance_segmentation")
    assert isinstance(trainer, CellSegmentationTrainer)


def test_the_segmenter_ir_matches_its_numpy_reference_at_any_input_size(tiny, tmp_path: Path) -> None:
    request, segmenter = tiny
    # One epoch may not earn the refinement its place; the graph must match with one anyway.
    segmenter = replace(segmenter, refiner=Mlp.create([REFINE_FEATURES, 12, 1], np.random.default_rng(0)))
    xml, _ = segmenter.export(tmp_path / "model.xml", {"architecture": "x"})
    compiled = compile_on_cpu(core().read_model(xml))
    image = decode_bgr(request.samples[0])
    for frame in (image, np.ascontiguousarray(image[:150, :211]), cv2.resize(image, (640, 480))):
        out = compiled(frame[None])
        boxes, scores, labels, masks = segmenter.predict(frame)
        assert out["masks"].shape == masks.shape == (1, *frame.shape[:2])
        assert np.abs(out["masks"].astype(int) - masks).max() <= 1
        assert len(out["boxes"]) == len(boxes)
        np.testing.assert_allclose(out["scores"], scores, atol=1e-4)
        np.testing.assert_array_equal(out["labels"], labels)


def test_the_same_seed_gives_the_same_segmenter(tiny) -> None:
    request, first = tiny
    second = CellSegmentationTrainer().fit(request, FakeReporter())
    assert (first.refiner is None) == (second.refiner is None)
    refiners = [m.refiner.params() if m.refiner else [] for m in (first, second)]
    for a, b in zip([*first.detector.head.params(), *first.mask_head.params(), *refiners[0]],
                    [*second.detector.head.params(), *second.mask_head.params(), *refiners[1]]):
        np.testing.assert_array_equal(a, b)


def test_cancelling_a_segmenter_stops_it(tmp_path: Path) -> None:
    with pytest.raises(TrainingCancelledError):
        CellSegmentationTrainer().train(scenes_request(tmp_path, 24, 2), FakeReporter(stop_after=30))
    assert not (tmp_path / "model.xml").exists()


def test_a_mask_becomes_the_outline_of_the_object_in_the_box() -> None:
    mask = np.zeros((60, 80), np.uint8)
    cv2.rectangle(mask, (10, 12), (29, 41), 255, -1)  # pixels 10..29 x 12..41
    cv2.circle(mask, (60, 30), 6, 255, -1)  # a neighbour the box does not hold
    points = mask_polygon(mask, np.array([9.0, 11.0, 31.0, 43.0]))
    assert points is not None
    assert points[:, 0].min() == pytest.approx(10, abs=0.3) and points[:, 0].max() == pytest.approx(30, abs=0.3)
    assert points[:, 1].min() == pytest.approx(12, abs=0.3) and points[:, 1].max() == pytest.approx(42, abs=0.3)
    assert mask_polygon(np.zeros((60, 80), np.uint8), np.array([9.0, 11.0, 31.0, 43.0])) is None


def test_segm_map_is_perfect_for_exact_outlines_and_lower_for_shifted_ones() -> None:
    square = [10.0, 10.0, 40.0, 10.0, 40.0, 40.0, 10.0, 40.0]
    shifted = [v + 4 for v in square]
    truths = [[(0, [square])], [(1, [[50.0, 60.0, 80.0, 60.0, 65.0, 90.0]])]]
    exact = [[(0, 0.9, [square])], [(1, 0.8, [[50.0, 60.0, 80.0, 60.0, 65.0, 90.0]])]]
    moved = [[(0, 0.9, [shifted])], exact[1]]
    sizes = [(240, 320), (240, 320)]
    assert coco_mask_map(sizes, truths, exact, 2) == pytest.approx((1.0, 1.0))
    map50, map5095 = coco_mask_map(sizes, truths, moved, 2)
    assert map50 == pytest.approx(1.0) and map5095 < 0.9
