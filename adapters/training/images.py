"""Decoding, resizing and sorting the samples a trainer is given."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import cv2
import numpy as np

from application.ports.training import (
    InsufficientTrainingDataError,
    LabelSpec,
    TrainingCancelledError,
    TrainingReporter,
    TrainingSample,
)


def decode_bgr(sample: TrainingSample) -> np.ndarray:
    """Load and decode a sample's image as HxWx3 uint8 BGR."""
    data = np.frombuffer(sample.load_image(), dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise InsufficientTrainingDataError(f"item {sample.item_id} is not a readable image")
    return image


def resize_f32(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear resize in float32, exactly what the exported graph does (no u8 rounding)."""
    return cv2.resize(image.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)


def fit_longest_side(height: int, width: int, size: int) -> tuple[int, int]:
    """Return (new_h, new_w) so the longest side becomes `size`, rounded half up like the graph."""
    longest = max(height, width)
    return (2 * height * size + longest) // (2 * longest), (2 * width * size + longest) // (2 * longest)


def subset(samples: Sequence[TrainingSample], name: str) -> list[TrainingSample]:
    """Return the samples of one subset, in their given order."""
    return [s for s in samples if s.subset == name]


def label_ids(annotation: dict) -> list[str]:
    """Return the label ids of one annotation."""
    return [str(label["id"]) for label in annotation.get("labels", [])]


def check_every_label_trained(
    labels: Sequence[LabelSpec], training: Sequence[TrainingSample], minimum: int = 1
) -> None:
    """Refuse to train when a label has fewer than `minimum` annotated training images."""
    if not labels:
        raise InsufficientTrainingDataError("the project has no labels to train")
    counts = {label.id: 0 for label in labels}
    for sample in training:
        for label_id in {i for a in sample.annotations for i in label_ids(a)}:
            if label_id in counts:
                counts[label_id] += 1
    missing = {label.name: counts[label.id] for label in labels if counts[label.id] < minimum}
    if missing:
        name, count = next(iter(missing.items()))
        raise InsufficientTrainingDataError(
            f"label '{name}' has {count} annotated image(s) in the training subset; "
            f"at least {minimum} needed",
            errors={f"labels.{n}": f"{c} training image(s)" for n, c in missing.items()},
        )


def stop_if_asked(reporter: TrainingReporter) -> None:
    """Raise TrainingCancelledError when the reporter says stop."""
    if reporter.should_stop():
        raise TrainingCancelledError("training was cancelled")


def each_decoded(
    samples: Sequence[TrainingSample], reporter: TrainingReporter, start: float, end: float
) -> Iterator[tuple[TrainingSample, np.ndarray]]:
    """Decode samples one at a time, reporting progress between start and end percent."""
    step = max(len(samples) // 20, 1)
    for index, sample in enumerate(samples):
        stop_if_asked(reporter)
        if index % step == 0:
            percent = start + (end - start) * index / max(len(samples), 1)
            reporter.progress(percent, f"reading images {index}/{len(samples)}")
        yield sample, decode_bgr(sample)
