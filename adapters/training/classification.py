"""Default classifier: fixed soft-HOG features + an MLP head, exported as one OpenVINO IR."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adapters.inference.openvino_runtime import compile_on_cpu, core
from adapters.training import graph
from adapters.training.exporting import ExportingTrainer
from adapters.training.evaluation import Metric, classification_metrics
from adapters.training.images import (
    check_every_label_trained,
    each_decoded,
    label_ids,
    resize_f32,
    subset,
)
from adapters.training.mlp import (
    Adam,
    Mlp,
    fold_standardisation,
    sigmoid,
    sigmoid_cross_entropy,
    softmax,
    softmax_cross_entropy,
)
from adapters.training.soft_hog import SoftHog
from adapters.training.training_loop import minibatches, report_epoch
from application.ports.training import (
    ModelArchitecture,
    ParameterDescription,
    TrainingReporter,
    TrainingRequest,
    TrainingSample,
)

ARCHITECTURE = ModelArchitecture(
    id="softhog-mlp-classifier",
    task_type="classification",
    name="Soft-HOG + MLP",
    description="Fixed oriented-gradient and colour features with a small MLP head; "
    "trains in seconds on a CPU. Exclusive (softmax) or multi-label (sigmoid).",
    default=True,
    parameters=(
        ParameterDescription("epochs", "Epochs", "Passes over the training set.", "int", 60, 1, 500),
        ParameterDescription("hidden_units", "Hidden units", "Width of the MLP's hidden layer; "
                             "0 trains a linear head.", "int", 128, 0, 1024),
        ParameterDescription("learning_rate", "Learning rate", "Adam step size.", "float", 1e-3,
                             1e-5, 1e-1),
        ParameterDescription("batch_size", "Batch size", "Images per step.", "int", 64, 4, 1024),
        ParameterDescription("weight_decay", "Weight decay", "Decoupled L2 shrinkage.", "float",
                             1e-4, 0.0, 1e-1),
        ParameterDescription("input_size", "Input size", "Images are resized to this square "
                             "(multiple of 32) inside the model.", "int", 64, 32, 256),
        ParameterDescription("flip_augmentation", "Flip augmentation", "Also train on "
                             "horizontally mirrored images.", "bool", True),
    ),
)


@dataclass
class SoftHogClassifier:
    """The trained model in NumPy: the reference the exported graph must match."""

    features: SoftHog
    head: Mlp  # takes raw features (standardisation folded in)
    exclusive: bool

    def predict(self, image_bgr: np.ndarray) -> np.ndarray:
        """Return the class probabilities of one image."""
        logits, _ = self.head.forward(self.features.of_image(image_bgr)[None])
        return (softmax(logits) if self.exclusive else sigmoid(logits))[0]

    def export(self, path: Path, info: dict[str, Any]) -> tuple[Path, Path]:
        """Write the whole pipeline, uint8 BGR in -> `probs` out, as one IR."""
        op = graph.ops()
        image, nchw = graph.image_input()
        logits = graph.dense_stack(self.features.graph(nchw), self.head.weights, self.head.biases)
        probs = op.softmax(logits, 1) if self.exclusive else op.sigmoid(logits)
        return graph.save_ir([graph.name_output(probs, "probs")], image, path, info)


def targets_of(samples: list[TrainingSample], label_index: dict[str, int]) -> np.ndarray:
    """Multi-hot [N, C] targets from the samples' annotations."""
    targets = np.zeros((len(samples), len(label_index)), np.float32)
    for row, sample in enumerate(samples):
        for annotation in sample.annotations:
            for label_id in label_ids(annotation):
                if label_id in label_index:
                    targets[row, label_index[label_id]] = 1.0
    return targets


class SoftHogClassificationTrainer(ExportingTrainer):
    """Trains the soft-HOG classifier and evaluates its exported IR."""

    architecture = ARCHITECTURE

    def fit(self, request: TrainingRequest, reporter: TrainingReporter) -> SoftHogClassifier:
        """Extract features and train the head; return the NumPy model."""
        p = {**self.architecture.defaults(), **request.parameters}
        label_index = {label.id: i for i, label in enumerate(request.labels)}
        training = subset(request.samples, "training")
        check_every_label_trained(request.labels, training)
        validation = subset(request.samples, "validation")
        features = SoftHog(size=int(p["input_size"]))
        x_train = self._features(features, training, reporter, 0, 35, bool(p["flip_augmentation"]))
        y_train = targets_of(training, label_index)
        if p["flip_augmentation"]:
            y_train = np.concatenate([y_train, y_train])
        x_val = self._features(features, validation, reporter, 35, 40, False)
        y_val = targets_of(validation, label_index)
        head = self._fit_head(x_train, y_train, x_val, y_val, p, request, reporter)
        return SoftHogClassifier(features, head, request.exclusive_labels)

    def _features(self, features: SoftHog, samples: list[TrainingSample],
                  reporter: TrainingReporter, start: float, end: float, flips: bool) -> np.ndarray:
        rows, mirrored = [], []
        for _, image in each_decoded(samples, reporter, start, end):
            small = resize_f32(image, features.size, features.size)
            rows.append(features.of_resized(small))
            if flips:
                mirrored.append(features.of_resized(np.ascontiguousarray(small[:, ::-1])))
        return np.array(rows + mirrored, np.float32).reshape(-1, features.dim)

    def _fit_head(self, x: np.ndarray, y: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                  p: dict[str, Any], request: TrainingRequest, reporter: TrainingReporter) -> Mlp:
        rng = np.random.default_rng(request.seed)
        mean, std = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-3)
        hidden = [int(p["hidden_units"])] if int(p["hidden_units"]) else []
        mlp = Mlp.create([x.shape[1], *hidden, y.shape[1]], rng)
        adam = Adam(lr=float(p["learning_rate"]), weight_decay=float(p["weight_decay"]))
        exclusive = request.exclusive_labels
        has_val = len(x_val) > 0
        best, best_score = mlp.copy(), -1.0
        epochs = int(p["epochs"])
        for epoch in range(1, epochs + 1):
            losses = []
            for batch in minibatches(len(x), int(p["batch_size"]), rng, reporter):
                logits, acts = mlp.forward((x[batch] - mean) / std)
                if exclusive:
                    loss, grad = softmax_cross_entropy(logits, y[batch].argmax(axis=1))
                else:
                    loss, grad = sigmoid_cross_entropy(logits, y[batch])
                adam.step(mlp, *mlp.backward(acts, grad))
                losses.append(loss)
            xs, ys = (x_val, y_val) if has_val else (x, y)
            probs = mlp.forward((xs - mean) / std)[0]
            score = classification_metrics(ys, probs, exclusive)[0]["value"]
            if score >= best_score:
                best, best_score = mlp.copy(), score
            report_epoch(reporter, epoch, epochs, float(np.mean(losses)),
                         "val_accuracy" if has_val else "train_accuracy", score, 40, 90)
        return fold_standardisation(best, mean, std)

    def evaluate(self, xml: Path, testing: list[TrainingSample], request: TrainingRequest,
                 reporter: TrainingReporter) -> list[Metric]:
        """Run the exported IR on the testing subset and score it."""
        compiled = compile_on_cpu(core().read_model(xml))
        label_index = {label.id: i for i, label in enumerate(request.labels)}
        probs = [compiled(image[None])["probs"][0] for _, image in
                 each_decoded(testing, reporter, 90, 99)]
        metrics = classification_metrics(targets_of(testing, label_index), np.array(probs),
                                         request.exclusive_labels)
        reporter.log("testing: " + ", ".join(f"{m['name']} {m['value']:.4f}" for m in metrics))
        return metrics

    def model_info(self, request: TrainingRequest, model: Any = None) -> dict[str, Any]:
        """The rt_info that makes the IR self-describing."""
        p = {**self.architecture.defaults(), **request.parameters}
        return {
            "model_type": "viewfinder",
            "task_type": "classification",
            "architecture": self.architecture.id,
            "labels": [{"id": x.id, "name": x.name, "color": x.color} for x in request.labels],
            "exclusive_labels": request.exclusive_labels,
            "outputs": {"probs": "softmax" if request.exclusive_labels else "sigmoid"},
            "preprocessing": {"input": "image", "element_type": "u8", "layout": "NHWC",
                              "color": "BGR", "resize": f"bilinear to {p['input_size']}x"
                              f"{p['input_size']} in the graph", "scale": "1/255 in the graph"},
            "training": {"seed": request.seed, "parameters": p},
        }
