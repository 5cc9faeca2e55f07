"""Runs a Viewfinder OpenVINO IR on BGR frames and returns predictions in the API shape."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def _batch(image_bgr: np.ndarray) -> np.ndarray:
    if image_bgr.dtype != np.uint8 or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
        raise InvalidInputError("expected an HxWx3 uint8 BGR image")
    return np.ascontiguousarray(image_bgr[None])
