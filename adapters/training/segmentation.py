"""Default instance-segmentation trainer: the cell detector plus a mask head and colour refinement.

Training, in one pass over the data and three stages:
1. every image is read once, resized to the working size and kept only as float16 cell maps,
   its boxes, and u8 stride-2 mask targets (a few dozen KB per image at 320 px); the first
   `refine_images` training images also keep stride-2 colours and a label map for stage 3;
2. the detector head (centre heat + box, as the detection trainer) and the mask head (4x4
   sub-cell foreground) are trained side by side on the same sampled cells, with
   the detector's exact flip/rotation augmentation; the epoch with the best validation
   box mAP@0.5 + coarse mask IoU is kept;
3. a tiny per-pixel MLP refines the upsampled coarse mask with local colour contrast; it is
   kept only when it improves the validation mask IoU.
The result is exported as one IR (see segmentation_model) and evaluated by running that IR,
through the same adapter the pipeline uses, on the testing subset: COCO segm and bbox mAP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from adapters.inference.openvino_model import OpenVINOModel
from adapters.training.detection import ARCHITECTURE as DETECTOR
from adapters.training.detection import map50, xywh
from adapters.training.detection_features import (
    STRIDE,
    DetectionFeatures,
    dihedral,
    dihedral_boxes,
    neighbourhoods,
)
from adapters.training.detection_model import HEAT_PRIOR, CellDetector
from adapters.training.detection_targets import (
    annotation_boxes,
    cell_targets,
    focal_loss,
    smooth_l1,
)
from adapters.training.exporting import ExportingTrainer
from adapters.training.evaluation import Metric, coco_map, coco_mask_map, metric
from adapters.training.images import (
    check_every_label_trained,
    each_decoded,
    stop_if_asked,
    subset,
)
from adapters.training.mlp import Adam, Mlp, fold_standardisation, sigmoid
from adapters.training.segmentation_model import (
    REFINE_FEATURES,
    CellSegmenter,
    fine_image,
    refine_features,
)
from adapters.training.segmentation_targets import (
    SUB,
    annotation_polygons,
    binary_cross_entropy,
    dihedral_map,
    per_cell,
    rasterise,
    subcell_cover,
)
from application.ports.training import (
    ModelArchitecture,
    ParameterDescription,
    TrainingReporter,
    TrainingRequest,
    TrainingSample,
)

P = ParameterDescription
ARCHITECTURE = ModelArchitecture(
    id="cellnet-segmenter",
    task_type="instance_segmentation",
    name="Cell segmenter (stride 8, colour-refined masks)",
    description="The cell detector (boxes, NMS inside the model) plus a mask head predicting "
    "foreground on a 2-pixel grid, refined with local colour contrast. Outputs one full-image "
    "foreground mask that is cut out by each box. Trains in about a minute on a CPU; best for "
    "objects of 16-100 pixels at the working size that do not touch each other.",
    default=True,
    parameters=(
        *DETECTOR.parameters,
        P("mask_hidden_units", "Mask head hidden units", "Width of the mask head's two hidden "
          "layers.", "int", 64, 16, 512),
        P("mask_loss_weight", "Mask loss weight", "Weight of the mask head's loss.", "float", 1.0,
          0.01, 100.0),
        P("refine", "Colour refinement", "Refine mask edges per pixel with local colour contrast "
          "(kept only if it improves the validation masks).", "bool", True),
        P("refine_images", "Refinement images", "Training images kept at the working size to fit "
          "the refinement step.", "int", 48, 4, 1000),
    ),
)

FG_PRIOR = -2.0
REFINE_HIDDEN = 12


@dataclass
class EncodedScene:
    """What training keeps of one image (duck-types detection.EncodedImage for map50)."""

    cells: np.ndarray
    boxes: np.ndarray
    classes: np.ndarray
    scale: np.ndarray
    size: tuple[int, int]
    cover: np.ndarray
    colours: np.ndarray | None = None
    labels: np.ndarray | None = None


class CellSegmentationTrainer(ExportingTrainer):
    """Trains the cell segmenter and evaluates its exported IR with COCO segm mAP."""

    architecture = ARCHITECTURE

    def fit(self, request: TrainingRequest, reporter: TrainingReporter) -> CellSegmenter:
        """Encode the images, train both heads, then the refinement; return the NumPy model."""
        p = {**self.architecture.defaults(), **request.parameters}
        training = subset(request.samples, "training")
        check_every_label_trained(request.labels, training)
        features = DetectionFeatures(input_size=int(p["input_size"]))
        index = {label.id: i for i, label in enumerate(request.labels)}
        keep = int(p["refine_images"]) if p["refine"] else 0
        train = self._encode(features, training, index, reporter, 0, 30, keep)
        val = self._encode(features, subset(request.samples, "validation")[:100], index, reporter,
                           30, 35, keep)
        segmenter = self._fit_heads(features, train, val, len(index), p, request.seed, reporter)
        if p["refine"]:
            segmenter = self._fit_refiner(segmenter, train, val, request.seed, reporter)
        return segmenter

    def _encode(self, features: DetectionFeatures, samples: list[TrainingSample],
                index: dict[str, int], reporter: TrainingReporter, start: float, end: float,
                keep_pixels: int) -> list[EncodedScene]:
        encoded = []
        for sample, image in each_decoded(samples, reporter, start, end):
            resized, scale = features.resized(image)
            cells = features.cells(resized)
            _, h, w = cells.shape
            boxes, classes = annotation_boxes(list(sample.annotations), index)
            labels = rasterise(annotation_polygons(list(sample.annotations), index), scale,
                               *resized.shape[:2])
            kept = len(encoded) < keep_pixels
            encoded.append(EncodedScene(
                cells.astype(np.float16), boxes * np.tile(scale[::-1], 2) / STRIDE, classes, scale,
                image.shape[:2], subcell_cover(labels, h, w),
                fine_image(resized).astype(np.float16) if kept else None,
                labels[: h * STRIDE, : w * STRIDE] if kept else None,
            ))
        return encoded

    def _fit_heads(self, features: DetectionFeatures, train: list[EncodedScene],
                   val: list[EncodedScene], classes: int, p: dict[str, Any], seed: int,
                   reporter: TrainingReporter) -> CellSegmenter:
        rng = np.random.default_rng(seed)
        sample = np.concatenate([
            neighbourhoods(features.pyramid(e.cells.astype(np.float32))).reshape(-1, features.dim)
            for e in train[:32]
        ])
        mean, std = sample.mean(axis=0), np.maximum(sample.std(axis=0), 1e-3)
        hidden, mask_hidden = int(p["hidden_units"]), int(p["mask_hidden_units"])
        det = Mlp.create([features.dim, hidden, hidden, classes + 4], rng)
        det.biases[-1][:classes] = HEAT_PRIOR
        mask = Mlp.create([features.dim, mask_hidden, mask_hidden, SUB * SUB], rng)
        mask.biases[-1][:] = FG_PRIOR
        lr, lam = float(p["learning_rate"]), float(p["mask_loss_weight"])
        det_adam, mask_adam = Adam(lr=lr, weight_decay=1e-4), Adam(lr=lr, weight_decay=1e-4)
        best, best_score, epochs = (det.copy(), mask.copy()), -1.0, int(p["epochs"])
        batch = int(p["batch_images"])
        for epoch in range(1, epochs + 1):
            order, losses = rng.permutation(len(train)), []
            for start in range(0, len(order), batch):
                stop_if_asked(reporter)
                b = self._batch([train[i] for i in order[start : start + batch]], features, classes, p, rng)
                x = (b["x"] - mean) / std
                logits, acts = det.forward(x)
                positives = int((b["heat"] >= 1 - 1e-6).sum())
                heat_loss, heat_grad = focal_loss(logits[:, :classes], b["heat"], b["weight"], positives)
                has = b["has_box"]
                reg_loss, reg_grad = smooth_l1(logits[has, classes:], b["reg"][has])
                grad = np.zeros_like(logits)
                grad[:, :classes] = heat_grad
                grad[has, classes:] = reg_grad
                det_adam.step(det, *det.backward(acts, grad))
                m_logits, m_acts = mask.forward(x)
                fg_loss, fg_grad = binary_cross_entropy(m_logits, b["cover"], b["weight"])
                mask_adam.step(mask, *mask.backward(m_acts, fg_grad * np.float32(lam)))
                losses.append(heat_loss + reg_loss + lam * fg_loss)
            segmenter = CellSegmenter(CellDetector(features, fold_standardisation(det, mean, std), classes),
                                      fold_standardisation(mask, mean, std))
            checked = val or train[:64]
            box_map = map50(segmenter.detector, checked, classes)  # type: ignore[arg-type]
            iou = coarse_mask_iou(segmenter, checked)
            if box_map + iou >= best_score:
                best, best_score = (det.copy(), mask.copy()), box_map + iou
            which = "val" if val else "train"
            reporter.log(f"epoch {epoch}/{epochs} loss {float(np.mean(losses)):.4f} "
                         f"{which}_map_50 {box_map:.4f} {which}_mask_iou {iou:.4f}")
            reporter.progress(35 + 45 * epoch / epochs, f"epoch {epoch}/{epochs}")
        return CellSegmenter(CellDetector(features, fold_standardisation(best[0], mean, std), classes),
                             fold_standardisation(best[1], mean, std))

    def _batch(self, images: list[EncodedScene], features: DetectionFeatures, classes: int,
               p: dict[str, Any], rng: np.random.Generator) -> dict[str, np.ndarray]:
        parts: dict[str, list[np.ndarray]] = {k: [] for k in
                                              ("x", "heat", "weight", "reg", "has_box", "cover")}
        for e in images:
            op = int(rng.integers(8)) if p["augment"] else 0
            cells = dihedral(e.cells.astype(np.float32), features.orientations, op)
            _, h, w = cells.shape
            t = cell_targets(dihedral_boxes(e.boxes, *e.cells.shape[1:], op), e.classes, h, w, classes)
            cover = per_cell(dihedral_map(e.cover, op), h, w)
            has_fg = (cover.sum(axis=1) > 0).reshape(h, w).astype(np.uint8)
            near_fg = cv2.dilate(has_fg, np.ones((3, 3), np.uint8)) > 0
            near = ((t.heat.max(axis=0) > 0.01) | t.has_box | near_fg).ravel()
            far = np.flatnonzero(~near)
            k = min(int(p["negatives_per_image"]), len(far))
            chosen = np.concatenate([np.flatnonzero(near), rng.choice(far, k, replace=False)])
            weight = np.ones(len(chosen), np.float32)
            weight[near.sum():] = len(far) / max(k, 1)
            parts["x"].append(neighbourhoods(features.pyramid(cells)).reshape(h * w, -1)[chosen])
            parts["heat"].append(t.heat.reshape(classes, -1).T[chosen])
            parts["weight"].append(weight[:, None])
            parts["reg"].append(t.regression.reshape(4, -1).T[chosen])
            parts["has_box"].append(t.has_box.ravel()[chosen])
            parts["cover"].append(cover[chosen].astype(np.float32) / 4)
        return {k: np.concatenate(v) for k, v in parts.items()}

    def _fit_refiner(self, segmenter: CellSegmenter, train: list[EncodedScene], val: list[EncodedScene],
                     seed: int, reporter: TrainingReporter) -> CellSegmenter:
        rng = np.random.default_rng([seed, 1])
        xs, ys = [], []
        for e in (e for e in train if e.colours is not None):
            stop_if_asked(reporter)
            features, target = grid_features(segmenter, e)
            chosen = np.flatnonzero(_band(features[0], target).ravel())
            chosen = rng.choice(chosen, min(len(chosen), 1500), replace=False)
            chosen = np.concatenate([chosen, rng.choice(target.size, 150, replace=False)])
            xs.append(features.reshape(REFINE_FEATURES, -1).T[chosen])
            ys.append(target.ravel()[chosen])
        x, y = np.concatenate(xs), np.concatenate(ys).astype(np.float32)[:, None]
        mean, std = x.mean(axis=0), np.maximum(x.std(axis=0), 1e-3)
        x = (x - mean) / std
        refiner = Mlp.create([REFINE_FEATURES, REFINE_HIDDEN, 1], rng)
        adam, losses = Adam(lr=1e-2, weight_decay=0.0), []
        steps = 300
        for step in range(steps):
            stop_if_asked(reporter)
            rows = rng.choice(len(x), min(len(x), 4096), replace=False)
            logits, acts = refiner.forward(x[rows])
            loss, grad = binary_cross_entropy(logits, y[rows], np.ones_like(y[rows]))
            adam.step(refiner, *refiner.backward(acts, grad))
            losses.append(loss)
        refined = CellSegmenter(segmenter.detector, segmenter.mask_head, fold_standardisation(refiner, mean, std))
        checked = [e for e in val if e.colours is not None] or [e for e in train if e.colours is not None]
        before, after = pixel_mask_iou(segmenter, checked), pixel_mask_iou(refined, checked)
        kept = after > before
        reporter.log(f"refinement loss {float(np.mean(losses[-30:])):.4f} mask_iou {before:.4f} -> "
                     f"{after:.4f} ({'kept' if kept else 'dropped'})")
        reporter.progress(88, "mask refinement")
        return refined if kept else segmenter

    def evaluate(self, xml: Any, testing: list[TrainingSample], request: TrainingRequest,
                 reporter: TrainingReporter) -> list[Metric]:
        """Run the exported IR on the testing subset through the inference adapter: COCO mAP."""
        loaded = OpenVINOModel(xml, confidence_threshold=0.0)
        index = {label.id: i for i, label in enumerate(request.labels)}
        sizes, box_truths, mask_truths, box_found, mask_found = [], [], [], [], []
        for sample, image in each_decoded(testing, reporter, 90, 99):
            raw = loaded.raw(image)
            predictions = loaded.decode(raw)
            sizes.append(image.shape[:2])
            polygons = annotation_polygons(list(sample.annotations), index)
            box_truths.append([(c, _polygon_xywh(pts)) for pts, c in polygons])
            mask_truths.append([(c, [pts.ravel().tolist()]) for pts, c in polygons])
            box_found.append([(int(c), float(s), xywh(b)) for b, s, c in
                              zip(raw["boxes"], raw["scores"], raw["labels"])])
            mask_found.append([
                (index[pr["labels"][0]["id"]], pr["labels"][0]["confidence"],
                 [[v for pt in pr["shape"]["points"] for v in (pt["x"], pt["y"])]])
                for pr in predictions
            ])
        m50, m5095 = coco_mask_map(sizes, mask_truths, mask_found, len(index))
        b50, b5095 = coco_map(sizes, box_truths, box_found, len(index))
        reporter.log(f"testing: map_50 {m50:.4f}, map_50_95 {m5095:.4f} (masks); box_map_50 "
                     f"{b50:.4f}, box_map_50_95 {b5095:.4f}")
        return [metric("map_50", m50), metric("map_50_95", m5095),
                metric("box_map_50", b50), metric("box_map_50_95", b5095)]

    def model_info(self, request: TrainingRequest, model: CellSegmenter | None = None) -> dict[str, Any]:
        """The rt_info that makes the IR self-describing."""
        p = {**self.architecture.defaults(), **request.parameters}
        return {
            "model_type": "viewfinder",
            "task_type": "instance_segmentation",
            "architecture": self.architecture.id,
            "labels": [{"id": x.id, "name": x.name, "color": x.color} for x in request.labels],
            "exclusive_labels": True,
            "outputs": {
                "boxes": "[N,4] x1,y1,x2,y2 in input pixels", "scores": "[N]",
                "labels": "[N] index into labels",
                "masks": "[1,H,W] u8, one class-agnostic full-image mask at the input size: "
                         "round(255 * P(foreground)); the mask of detection n is masks[0] cut out "
                         "by boxes[n] and thresholded at mask_threshold",
            },
            "masks": {"layout": "foreground_full_image", "crop": "box", "mask_threshold": 128,
                      "refined": bool(model is not None and model.refiner is not None)},
            "preprocessing": {"input": "image", "element_type": "u8", "layout": "NHWC",
                              "color": "BGR", "resize": f"bilinear, longest side to "
                              f"{p['input_size']}, in the graph", "scale": "1/255 in the graph"},
            "postprocessing": {"nms": "multiclass_nms in the graph", "iou_threshold": 0.5,
                               "score_threshold": 0.05,
                               "polygons": "outside the graph: contours of each cropped mask"},
            "training": {"seed": request.seed, "parameters": p},
        }


def _polygon_xywh(points: np.ndarray) -> list[float]:
    x1, y1 = points.min(axis=0)
    x2, y2 = points.max(axis=0)
    return [float(x1), float(y1), float(x2 - x1), float(y2 - y1)]


def grid_features(segmenter: CellSegmenter, e: EncodedScene) -> tuple[np.ndarray, np.ndarray]:
    """Refinement features [4, 4h, 4w] and the soft foreground target of a kept image."""
    assert e.colours is not None
    fine = segmenter.coarse(e.cells.astype(np.float32))
    return refine_features(e.colours.astype(np.float32), fine), e.cover.astype(np.float32) / 4


def _band(logits: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Grid points where the coarse mask is unsure, or near a true edge."""
    p = sigmoid(logits)
    t = (target >= 0.5).astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    return ((p > 0.03) & (p < 0.97)) | (cv2.dilate(t, kernel) != cv2.erode(t, kernel)) | ((target > 0) & (target < 1))


def pixel_mask_iou(segmenter: CellSegmenter, images: list[EncodedScene]) -> float:
    """Foreground IoU at working pixels (refined if the segmenter has a refiner), pooled over images."""
    inter = union = 0
    for e in images:
        assert e.colours is not None and e.labels is not None
        fine = segmenter.fine_logits(e.colours.astype(np.float32), e.cells.astype(np.float32))
        h, w = e.labels.shape
        predicted = cv2.resize(fine, (w, h), interpolation=cv2.INTER_LINEAR) > 0
        truth = e.labels > 0
        inter += int((predicted & truth).sum())
        union += int((predicted | truth).sum())
    return inter / union if union else 1.0


def coarse_mask_iou(segmenter: CellSegmenter, images: list[EncodedScene]) -> float:
    """Foreground IoU of the stride-2 coarse mask against the stride-2 targets, pooled."""
    inter = union = 0
    for e in images:
        predicted, truth = segmenter.coarse(e.cells.astype(np.float32)) > 0, e.cover >= 2
        inter += int((predicted & truth).sum())
        union += int((predicted | truth).sum())
    return inter / union if union else 1.0
