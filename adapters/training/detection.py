"""Default detector trainer: stride-8 fixed features + an MLP head trained with focal loss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from adapters.inference.openvino_runtime import compile_on_cpu, core
from adapters.training.detection_features import (
    STRIDE,
    DetectionFeatures,
    dihedral,
    dihedral_boxes,
    neighbourhoods,
)
from adapters.training.detection_model import HEAT_PRIOR, CellDetector
from adapters.training.detection_targets import annotation_boxes, cell_targets, focal_loss, smooth_l1
from adapters.training.exporting import ExportingTrainer
from adapters.training.evaluation import Metric, coco_map, metric
from adapters.training.images import check_every_label_trained, each_decoded, stop_if_asked, subset
from adapters.training.mlp import Adam, Mlp, fold_standardisation
from adapters.training.training_loop import report_epoch
from application.ports.training import (
    ModelArchitecture,
    ParameterDescription,
    TrainingReporter,
    TrainingRequest,
    TrainingSample,
)

P = ParameterDescription
ARCHITECTURE = ModelArchitecture(
    id="cellnet-detector",
    task_type="detection",
    name="Cell detector (stride 8)",
    description="Fixed oriented-gradient and colour features on an 8-pixel grid with an MLP "
    "head predicting object centres and sizes; NMS inside the model. Trains in about a minute "
    "on a CPU; best for objects of 16-100 pixels at the working size.",
    default=True,
    parameters=(
        P("epochs", "Epochs", "Passes over the training set.", "int", 30, 1, 300),
        P("hidden_units", "Hidden units", "Width of the head's two hidden layers.", "int", 96, 16, 512),
        P("learning_rate", "Learning rate", "Adam step size.", "float", 2e-3, 1e-5, 1e-1),
        P("batch_images", "Images per step", "Images whose cells form one step.", "int", 8, 1, 64),
        P("input_size", "Input size", "The longest image side is resized to this inside the "
          "model.", "int", 320, 64, 1280),
        P("augment", "Flip/rotate augmentation", "Train on the 8 flips and 90-degree rotations "
          "of each image.", "bool", True),
        P("negatives_per_image", "Background cells per image", "Background cells sampled per "
          "image and step.", "int", 64, 8, 4096),
    ),
)


@dataclass
class EncodedImage:
    """What training keeps of one image: float16 cell maps and boxes in cell units."""

    cells: np.ndarray
    boxes: np.ndarray
    classes: np.ndarray
    scale: np.ndarray
    size: tuple[int, int]


class CellDetectionTrainer(ExportingTrainer):
    """Trains the cell detector and evaluates its exported IR with COCO mAP."""

    architecture = ARCHITECTURE

    def fit(self, request: TrainingRequest, reporter: TrainingReporter) -> CellDetector:
        """Encode the images, then train the head; return the NumPy detector."""
        p = {**self.architecture.defaults(), **request.parameters}
        training = subset(request.samples, "training")
        check_every_label_trained(request.labels, training)
        features = DetectionFeatures(input_size=int(p["input_size"]))
        index = {label.id: i for i, label in enumerate(request.labels)}
        train = self._encode(features, training, index, reporter, 0, 30)
        val = self._encode(features, subset(request.samples, "validation"), index, reporter, 30, 35)
        return self._fit_head(features, train, val, len(index), p, request.seed, reporter)

    def _encode(self, features: DetectionFeatures, samples: list[TrainingSample],
                index: dict[str, int], reporter: TrainingReporter, start: float,
                end: float) -> list[EncodedImage]:
        encoded = []
        for sample, image in each_decoded(samples, reporter, start, end):
            resized, scale = features.resized(image)
            boxes, classes = annotation_boxes(list(sample.annotations), index)
            encoded.append(EncodedImage(features.cells(resized).astype(np.float16),
                                        boxes * np.tile(scale[::-1], 2) / STRIDE, classes, scale,
                                        image.shape[:2]))
        return encoded

    def _fit_head(self, features: DetectionFeatures, train: list[EncodedImage],
                  val: list[EncodedImage], classes: int, p: dict[str, Any], seed: int,
                  reporter: TrainingReporter) -> CellDetector:
        rng = np.random.default_rng(seed)
        sample = np.concatenate([
            neighbourhoods(features.pyramid(e.cells.astype(np.float32))).reshape(-1, features.dim)
            for e in train[:32]
        ])
        mean, std = sample.mean(axis=0), np.maximum(sample.std(axis=0), 1e-3)
        hidden = int(p["hidden_units"])
        mlp = Mlp.create([features.dim, hidden, hidden, classes + 4], rng)
        mlp.biases[-1][:classes] = HEAT_PRIOR
        adam = Adam(lr=float(p["learning_rate"]), weight_decay=1e-4)
        best, best_score, epochs = mlp.copy(), -1.0, int(p["epochs"])
        batch = int(p["batch_images"])
        for epoch in range(1, epochs + 1):
            order, losses = rng.permutation(len(train)), []
            for start in range(0, len(order), batch):
                stop_if_asked(reporter)
                x, heat, weight, reg, has_box = self._batch(
                    [train[i] for i in order[start : start + batch]], features, classes, p, rng)
                logits, acts = mlp.forward((x - mean) / std)
                positives = int((heat >= 1 - 1e-6).sum())
                heat_loss, heat_grad = focal_loss(logits[:, :classes], heat, weight, positives)
                reg_loss, reg_grad = smooth_l1(logits[has_box, classes:], reg[has_box])
                grad = np.zeros_like(logits)
                grad[:, :classes] = heat_grad
                grad[has_box, classes:] = reg_grad
                adam.step(mlp, *mlp.backward(acts, grad))
                losses.append(heat_loss + reg_loss)
            detector = CellDetector(features, fold_standardisation(mlp, mean, std), classes)
            score = map50(detector, val or train[:64], classes)
            if score >= best_score:
                best, best_score = mlp.copy(), score
            report_epoch(reporter, epoch, epochs, float(np.mean(losses)),
                         "val_map_50" if val else "train_map_50", score, 35, 90)
        return CellDetector(features, fold_standardisation(best, mean, std), classes)

    def _batch(self, images: list[EncodedImage], features: DetectionFeatures, classes: int,
               p: dict[str, Any], rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        xs, heats, weights, regs, has = [], [], [], [], []
        for e in images:
            op = int(rng.integers(8)) if p["augment"] else 0
            cells = dihedral(e.cells.astype(np.float32), features.orientations, op)
            _, h, w = cells.shape
            boxes = dihedral_boxes(e.boxes, *e.cells.shape[1:], op)
            t = cell_targets(boxes, e.classes, h, w, classes)
            near = ((t.heat.max(axis=0) > 0.01) | t.has_box).ravel()
            far = np.flatnonzero(~near)
            k = min(int(p["negatives_per_image"]), len(far))
            chosen = np.concatenate([np.flatnonzero(near), rng.choice(far, k, replace=False)])
            weight = np.ones(len(chosen), np.float32)
            weight[near.sum():] = len(far) / max(k, 1)
            xs.append(neighbourhoods(features.pyramid(cells)).reshape(h * w, -1)[chosen])
            heats.append(t.heat.reshape(classes, -1).T[chosen])
            weights.append(weight[:, None])
            regs.append(t.regression.reshape(4, -1).T[chosen])
            has.append(t.has_box.ravel()[chosen])
        return tuple(np.concatenate(a) for a in (xs, heats, weights, regs, has))

    def evaluate(self, xml: Any, testing: list[TrainingSample], request: TrainingRequest,
                 reporter: TrainingReporter) -> list[Metric]:
        """Run the exported IR on the testing subset and compute COCO mAP."""
        compiled = compile_on_cpu(core().read_model(xml))
        index = {label.id: i for i, label in enumerate(request.labels)}
        sizes, truths, detections = [], [], []
        for sample, image in each_decoded(testing, reporter, 90, 99):
            out = compiled(image[None])
            sizes.append(image.shape[:2])
            boxes, classes = annotation_boxes(list(sample.annotations), index)
            truths.append([(int(c), xywh(b)) for b, c in zip(boxes, classes)])
            detections.append([(int(c), float(s), xywh(b)) for b, s, c in
                               zip(out["boxes"], out["scores"], out["labels"])])
        m50, m5095 = coco_map(sizes, truths, detections, len(index))
        metrics = [metric("map_50", m50), metric("map_50_95", m5095)]
        reporter.log(f"testing: map_50 {m50:.4f}, map_50_95 {m5095:.4f}")
        return metrics

    def model_info(self, request: TrainingRequest, model: Any = None) -> dict[str, Any]:
        """The rt_info that makes the IR self-describing."""
        p = {**self.architecture.defaults(), **request.parameters}
        return {
            "model_type": "viewfinder",
            "task_type": "detection",
            "architecture": self.architecture.id,
            "labels": [{"id": x.id, "name": x.name, "color": x.color} for x in request.labels],
            "exclusive_labels": True,
            "outputs": {"boxes": "[N,4] x1,y1,x2,y2 in input pixels", "scores": "[N]",
                        "labels": "[N] index into labels"},
            "preprocessing": {"input": "image", "element_type": "u8", "layout": "NHWC",
                              "color": "BGR", "resize": f"bilinear, longest side to "
                              f"{p['input_size']}, in the graph", "scale": "1/255 in the graph"},
            "postprocessing": {"nms": "multiclass_nms in the graph", "iou_threshold": 0.5,
                               "score_threshold": 0.05},
            "training": {"seed": request.seed, "parameters": p},
        }


def xywh(box: np.ndarray) -> list[float]:
    """x1y1x2y2 to COCO's x, y, width, height."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return [x1, y1, x2 - x1, y2 - y1]


def map50(detector: CellDetector, images: list[EncodedImage], classes: int) -> float:
    """mAP@0.5 of the NumPy detector on encoded images (for choosing the best epoch)."""
    truths, detections = [], []
    for e in images:
        boxes, scores, labels = detector.predict_cells(e.cells.astype(np.float32), e.scale, *e.size)
        pixel_boxes = e.boxes * STRIDE / np.tile(e.scale[::-1], 2)
        truths.append([(int(c), xywh(b)) for b, c in zip(pixel_boxes, e.classes)])
        detections.append([(int(c), float(s), xywh(b)) for b, s, c in zip(boxes, scores, labels)])
    return coco_map([e.size for e in images], truths, detections, classes)[0]
