"""Stories about the NumPy pieces trainers are built from."""

from __future__ import annotations

import numpy as np
import pytest

from adapters.training.evaluation import classification_metrics, coco_map
from adapters.training.mlp import Mlp, fold_standardisation, softmax_cross_entropy


def test_backpropagation_agrees_with_finite_differences() -> None:
    rng = np.random.default_rng(0)
    mlp = Mlp.create([5, 7, 3], rng)
    mlp.weights = [w.astype(np.float64) for w in mlp.weights]
    mlp.biases = [b.astype(np.float64) + 0.1 for b in mlp.biases]
    x, y = rng.standard_normal((4, 5)), np.array([0, 2, 1, 2])
    logits, acts = mlp.forward(x)
    _, grad = softmax_cross_entropy(logits, y)
    grad_w, _ = mlp.backward(acts, grad.astype(np.float64))
    eps = 1e-6
    mlp.weights[0][1, 2] += eps
    up = softmax_cross_entropy(mlp.forward(x)[0], y)[0]
    mlp.weights[0][1, 2] -= 2 * eps
    down = softmax_cross_entropy(mlp.forward(x)[0], y)[0]
    assert abs((up - down) / (2 * eps) - grad_w[0][1, 2]) < 1e-5


def test_standardisation_folds_exactly_into_the_first_layer() -> None:
    rng = np.random.default_rng(1)
    mlp = Mlp.create([6, 4, 2], rng)
    x = rng.standard_normal((3, 6)).astype(np.float32) * 5 + 2
    mean, std = x.mean(0), x.std(0) + 0.5
    folded = fold_standardisation(mlp, mean, std)
    np.testing.assert_allclose(folded.forward(x)[0], mlp.forward((x - mean) / std)[0], atol=1e-5)


def test_classification_metrics_of_a_perfect_and_a_wrong_prediction() -> None:
    targets = np.eye(3)[[0, 1, 2, 2]]
    probs = np.eye(3)[[0, 1, 2, 1]] * 0.9 + 0.03
    metrics = {m["name"]: m["value"] for m in classification_metrics(targets, probs, True)}
    assert metrics["accuracy"] == 0.75
    assert metrics["recall"] == round((1 + 1 + 0.5) / 3, 6)


def test_coco_map_is_perfect_for_exact_boxes_and_lower_for_shifted_ones() -> None:
    truths = [[(0, [10.0, 10.0, 40.0, 40.0])], [(1, [50.0, 60.0, 30.0, 20.0])]]
    exact = [[(0, 0.9, [10.0, 10.0, 40.0, 40.0])], [(1, 0.8, [50.0, 60.0, 30.0, 20.0])]]
    shifted = [[(0, 0.9, [16.0, 16.0, 40.0, 40.0])], [(1, 0.8, [50.0, 60.0, 30.0, 20.0])]]
    sizes = [(240, 320), (240, 320)]
    assert coco_map(sizes, truths, exact, 2) == pytest.approx((1.0, 1.0))
    map50, map5095 = coco_map(sizes, truths, shifted, 2)
    assert map50 == pytest.approx(1.0) and map5095 < 0.9
