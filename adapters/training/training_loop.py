"""Pieces of the training loop every trainer shares: batches, cancellation, epoch reports."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from adapters.training.images import stop_if_asked
from application.ports.training import TrainingReporter


def minibatches(count: int, size: int, rng: np.random.Generator,
                reporter: TrainingReporter) -> Iterator[np.ndarray]:
    """Yield shuffled index batches, checking for cancellation before each step."""
    order = rng.permutation(count)
    for start in range(0, count, size):
        stop_if_asked(reporter)
        yield order[start : start + size]


def report_epoch(reporter: TrainingReporter, epoch: int, epochs: int, loss: float,
                 metric_name: str, metric_value: float, start: float, end: float) -> None:
    """Log one line per epoch and move progress from start to end percent."""
    reporter.log(f"epoch {epoch}/{epochs} loss {loss:.4f} {metric_name} {metric_value:.4f}")
    reporter.progress(start + (end - start) * epoch / epochs, f"epoch {epoch}/{epochs}")
