"""Runs a Viewfinder OpenVINO IR on BGR frames and returns predictions in the API shape."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from adapters.inference.openvino_runtime import compile_on_cpu, core, openvino, read_rt_info
from application.errors import InvalidInputError
from application.ports.inference import InferenceModel, Prediction
from application.ports.training import LabelSpec


class InvalidModelError(InvalidInputError):
    """Raised when a file is not a self-describing Viewfinder model."""


class OpenVINOModel(InferenceModel):
    """An IR read and compiled once; `infer` is synchronous and thread-safe per request."""

    def __init__(self, xml_path: Path, f32: bool = True, confidence_threshold: float = 0.3) -> None:
        model = core().read_model(str(xml_path))
        try:
            self.info = read_rt_info(model)
        except (KeyError, RuntimeError) as error:
            raise InvalidModelError(f"{xml_path.name} has no Viewfinder runtime info") from error
        self.labels = [LabelSpec(**label) for label in self.info["labels"]]
        self.task_type = self.info["task_type"]
        self.architecture = self.info["architecture"]
        self.confidence_threshold = confidence_threshold
        self.compiled = compile_on_cpu(model, f32=f32)

    def infer(self, image_bgr: np.ndarray) -> list[Prediction]:
        """Run on one HxWx3 uint8 BGR frame."""
        return self.decode(self.raw(image_bgr))

    def raw(self, image_bgr: np.ndarray) -> dict[str, np.ndarray]:
        """Return the model's named outputs for one frame."""
        request = self.compiled.create_infer_request()
        request.infer({"image": _batch(image_bgr)})
        return {name: request.get_tensor(name).data.copy() for name in self._output_names()}

    def decode(self, outputs: dict[str, np.ndarray]) -> list[Prediction]:
        """Turn raw outputs into API predictions."""
        if self.task_type == "classification":
            return self._classification(outputs["probs"][0])
        if "masks" in outputs:
            return self._instances(outputs)
        return [
            self._box(box, float(score), int(label))
            for box, score, label in zip(outputs["boxes"], outputs["scores"], outputs["labels"])
            if score >= self.confidence_threshold
        ]

    def _output_names(self) -> list[str]:
        return [next(iter(output.get_names())) for output in self.compiled.outputs]

    def _classification(self, probs: np.ndarray) -> list[Prediction]:
        if self.info.get("exclusive_labels", True):
            chosen = [int(probs.argmax())]
        else:
            chosen = [i for i, p in enumerate(probs) if p >= 0.5]
        labels = [self._label(i, float(probs[i])) for i in chosen]
        return [{"labels": labels, "shape": {"type": "full_image"}}] if labels else []

    def _box(self, box: np.ndarray, score: float, label: int) -> Prediction:
        x1, y1, x2, y2 = (float(v) for v in box)
        shape = {"type": "rectangle", "x": x1, "y": y1, "width": x2 - x1, "height": y2 - y1}
        return {"labels": [self._label(label, score)], "shape": shape}

    def _instances(self, outputs: dict[str, np.ndarray]) -> list[Prediction]:
        """Instance segmentation. `masks` is either [1, H, W] u8, one class-agnostic full-image
        mask (rt_info masks.layout "foreground_full_image", what the default trainer exports), or
        [C, H, W] with one full-image mask per label; either way a detection's mask is the (its
        label's) mask cut out by its box. It becomes a polygon in image pixels (cv2.findContours
        + approxPolyDP, see mask_polygon), or the box's outline when the mask is empty there."""
        threshold = int(self.info.get("masks", {}).get("mask_threshold", 128))
        masks = outputs["masks"]
        predictions = []
        for box, score, label in zip(outputs["boxes"], outputs["scores"], outputs["labels"]):
            if score < self.confidence_threshold:
                continue
            points = mask_polygon(masks[int(label) if len(masks) > 1 else 0], box, threshold)
            if points is None:
                x1, y1, x2, y2 = (float(v) for v in box)
                points = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])
            shape = {"type": "polygon",
                     "points": [{"x": round(float(x), 2), "y": round(float(y), 2)} for x, y in points]}
            predictions.append({"labels": [self._label(int(label), float(score))], "shape": shape})
        return predictions

    def _label(self, index: int, confidence: float) -> dict[str, Any]:
        label = self.labels[index]
        return {"id": label.id, "name": label.name, "confidence": round(confidence, 6)}


class AsyncOpenVINOModel:
    """Pipelined inference for live streams: submit frames, get predictions in a callback."""

    def __init__(self, model: OpenVINOModel, jobs: int = 2) -> None:
        self.model = model
        self.queue = openvino().AsyncInferQueue(model.compiled, jobs)
        self.queue.set_callback(self._done)

    def submit(self, image_bgr: np.ndarray, on_result: Callable[[list[Prediction]], None]) -> None:
        """Queue one frame; `on_result` runs on an OpenVINO thread when it is done."""
        self.queue.start_async({"image": _batch(image_bgr)}, on_result)

    def wait(self) -> None:
        """Block until every submitted frame is done."""
        self.queue.wait_all()

    def _done(self, request: Any, on_result: Callable[[list[Prediction]], None]) -> None:
        names = self.model._output_names()
        on_result(self.model.decode({n: request.get_tensor(n).data.copy() for n in names}))


def mask_polygon(mask: np.ndarray, box: np.ndarray, threshold: int = 128,
                 tolerance: float = 0.5, upsample: int = 4) -> np.ndarray | None:
    """The outline [K, 2] (continuous pixel coordinates) of the object a box holds in a mask.

    The mask is cut out around the box (plus a 10 % margin), upsampled up to 4x for sub-pixel
    edges, thresholded; the connected part with most pixels inside the box is traced
    (cv2.findContours) and simplified (cv2.approxPolyDP, `tolerance` pixels). None when empty.
    """
    height, width = mask.shape
    x1, y1, x2, y2 = (float(v) for v in box)
    margin = max(2.0, 0.1 * max(x2 - x1, y2 - y1))
    c0, r0 = max(int(np.floor(x1 - margin)), 0), max(int(np.floor(y1 - margin)), 0)
    c1, r1 = min(int(np.ceil(x2 + margin)), width), min(int(np.ceil(y2 + margin)), height)
    if c1 - c0 < 2 or r1 - r0 < 2:
        return None
    crop = mask[r0:r1, c0:c1].astype(np.float32)
    k = int(np.clip(256 // max(crop.shape), 1, upsample))
    if k > 1:
        crop = cv2.resize(crop, None, fx=k, fy=k, interpolation=cv2.INTER_LINEAR)
    count, parts = cv2.connectedComponents((crop >= threshold).astype(np.uint8), connectivity=8)
    if count < 2:
        return None
    inside = parts[max(int((y1 - r0) * k), 0) : int(np.ceil((y2 - r0) * k)),
                   max(int((x1 - c0) * k), 0) : int(np.ceil((x2 - c0) * k))]
    votes = np.bincount(inside.ravel(), minlength=count)[1:]
    if not votes.any():
        return None
    chosen = (parts == int(votes.argmax()) + 1).astype(np.uint8)
    contours, _ = cv2.findContours(chosen, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    contour = max(contours, key=len)
    points = cv2.approxPolyDP(contour, tolerance * k, True)[:, 0].astype(np.float64)
    if len(points) < 3:
        return None
    return (points + 0.5) / k + [c0, r0]


def _batch(image_bgr: np.ndarray) -> np.ndarray:
    if image_bgr.dtype != np.uint8 or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
        raise InvalidInputError("expected an HxWx3 uint8 BGR image")
    return np.ascontiguousarray(image_bgr[None])
