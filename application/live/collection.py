"""Which frames go back into the dataset: capture requests and the data-collection policies."""

import time
from typing import Any


class Collector:
    """Decides, frame by frame, whether to collect it (capture, fixed rate, low confidence)."""

    def __init__(self, clock: Any = time.monotonic) -> None:
        self.clock = clock
        self.captures_handled: int | None = None
        self.last_fixed = -float("inf")
        self.last_uncertain = -float("inf")

    def wants(self, captures_requested: int, data_collection: dict[str, Any], predictions: list[dict[str, Any]],
              dataset_size: int) -> str | None:
        """'capture', 'fixed_rate', 'confidence_threshold' or None."""
        if self.captures_handled is None:
            self.captures_handled = captures_requested  # requests from before this run are not replayed
        if captures_requested > self.captures_handled:
            self.captures_handled = captures_requested
            return "capture"
        limit = data_collection.get("max_dataset_size")
        if limit is not None and dataset_size >= limit:
            return None
        now = self.clock()
        for policy in data_collection.get("policies", []):
            if not policy.get("enabled", True):
                continue
            if policy["type"] == "fixed_rate" and now - self.last_fixed >= 1 / policy["rate"]:
                self.last_fixed = now
                return "fixed_rate"
            if policy["type"] == "confidence_threshold" and now - self.last_uncertain >= policy[
                    "min_sampling_interval"] and top_confidence(predictions) < policy["confidence_threshold"]:
                self.last_uncertain = now
                return "confidence_threshold"
        return None


def top_confidence(predictions: list[dict[str, Any]]) -> float:
    return max((label.get("confidence", 0.0) for p in predictions for label in p["labels"]), default=0.0)
