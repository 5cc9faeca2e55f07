"""Stories of training the default classifier and running its exported IR."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from training_fakes import FakeReporter

from adapters.inference.openvino_model import OpenVINOModel
from adapters.inference.openvino_runtime import compile_on_cpu, core
from adapters.training.classification import SoftHogClassificationTrainer
from adapters.training.images import decode_bgr
from application.ports.training import (
    InsufficientTrainingDataError,
    TrainedModel,
    TrainingCancelledError,
    TrainingRequest,
)
from benchmarks.training.synthetic import SHAPES, classification_samples, labels_for

PARAMS = {"epochs": 25}


def four_class_request(tmp: Path, seed: int = 0, exclusive: bool = True) -> TrainingRequest:
    samples = classification_samples(4, 50, seed=seed, fractions=(0.6, 0.1))
    return TrainingRequest("classification", labels_for(SHAPES[:4]), samples, tmp,
                           exclusive_labels=exclusive, parameters=PARAMS, seed=seed)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainingRequest, TrainedModel, FakeReporter]:
    request = four_class_request(tmp_path_factory.mktemp("cls"))
    reporter = FakeReporter()
    return request, SoftHogClassificationTrainer().train(request, reporter), reporter


def test_a_classifier_trained_on_four_shapes_recognises_unseen_ones(trained) -> None:
    _, model, _ = trained
    metrics = {m["name"]: m["value"] for m in model.metrics}
    assert metrics["accuracy"] >= 0.85  # chance is 0.25
    assert {m["subset"] for m in model.metrics} == {"testing"}
    assert set(metrics) == {"accuracy", "precision", "recall", "f1"}


def test_training_reports_progress_and_one_log_line_per_epoch(trained) -> None:
    _, _, reporter = trained
    epoch_lines = [line for line in reporter.lines if line.startswith("epoch ")]
    assert len(epoch_lines) == PARAMS["epochs"]
    assert "loss" in epoch_lines[0] and "val_accuracy" in epoch_lines[0]
    assert reporter.percents == sorted(reporter.percents) and reporter.percents[-1] == 100


def test_the_exported_ir_describes_itself(trained) -> None:
    request, model, _ = trained
    loaded = OpenVINOModel(model.xml_path)
    assert [label.name for label in loaded.labels] == SHAPES[:4]
    assert loaded.labels == list(request.labels)
    assert loaded.task_type == "classification"
    assert loaded.architecture == "softhog-mlp-classifier"
    assert model.size == model.xml_path.stat().st_size + model.bin_path.stat().st_size


def test_the_ir_matches_the_trainers_numpy_reference_in_f32(tmp_path: Path) -> None:
    request = four_class_request(tmp_path)
    classifier = SoftHogClassificationTrainer().fit(request, FakeReporter())
    xml, _ = classifier.export(tmp_path / "model.xml", {"architecture": "x"})
    compiled = compile_on_cpu(core().read_model(xml))
    for sample in request.samples[:8]:
        image = decode_bgr(sample)
        for frame in (image, cv2.resize(image, (93, 71))):
            got = compiled(frame[None])["probs"][0]
            np.testing.assert_allclose(got, classifier.predict(frame), atol=1e-4)


def test_loaded_model_predicts_the_label_of_a_test_image(trained) -> None:
    request, model, _ = trained
    loaded = OpenVINOModel(model.xml_path)
    sample = next(s for s in request.samples if s.subset == "testing")
    [prediction] = loaded.infer(decode_bgr(sample))
    assert prediction["shape"] == {"type": "full_image"}
    assert 0 < prediction["labels"][0]["confidence"] <= 1


def test_the_same_seed_gives_the_same_weights(tmp_path: Path) -> None:
    first = SoftHogClassificationTrainer().fit(four_class_request(tmp_path), FakeReporter())
    second = SoftHogClassificationTrainer().fit(four_class_request(tmp_path), FakeReporter())
    for a, b in zip(first.head.params(), second.head.params()):
        np.testing.assert_array_equal(a, b)


def test_cancelling_stops_training_between_steps(tmp_path: Path) -> None:
    reporter = FakeReporter(stop_after=150)
    with pytest.raises(TrainingCancelledError):
        SoftHogClassificationTrainer().train(four_class_request(tmp_path), reporter)
    assert not (tmp_path / "model.xml").exists()


def test_a_multi_label_classifier_outputs_independent_probabilities(tmp_path: Path) -> None:
    request = four_class_request(tmp_path, exclusive=False)
    model = SoftHogClassificationTrainer().train(request, FakeReporter())
    loaded = OpenVINOModel(model.xml_path)
    probs = loaded.raw(decode_bgr(request.samples[0]))["probs"][0]
    assert probs.shape == (4,) and abs(probs.sum() - 1) > 1e-3
    assert loaded.info["outputs"] == {"probs": "sigmoid"}


def test_a_label_without_training_images_is_refused_with_its_name(tmp_path: Path) -> None:
    request = four_class_request(tmp_path)
    samples = [s for s in request.samples if s.annotations[0]["labels"][0]["id"] != "l2"]
    with pytest.raises(InsufficientTrainingDataError, match="label 'triangle'"):
        SoftHogClassificationTrainer().train(
            TrainingRequest("classification", request.labels, samples, tmp_path), FakeReporter()
        )
