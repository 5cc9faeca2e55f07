"""Deterministic, label-stratified assignment of annotated items to training/validation/testing."""

import hashlib
from collections import defaultdict
from typing import Any


def _rank(seed: int, item_id: str) -> str:
    return hashlib.sha256(f"{seed}:{item_id}".encode()).hexdigest()


def stratum(annotations: list[dict[str, Any]], frequency: dict[str, int]) -> str:
    """An item's stratum: its rarest label (so rare labels reach every subset)."""
    labels = {str(label["id"]) for a in annotations for label in a["labels"]}
    return min(labels, key=lambda label: (frequency.get(label, 0), label)) if labels else ""


def split(items: list[dict[str, Any]], percents: tuple[int, int, int], seed: int) -> dict[str, str]:
    """item id → subset for the given items (each with `id` and `annotations`), same input → same output."""
    frequency: dict[str, int] = defaultdict(int)
    for item in items:
        for label in {str(lb["id"]) for a in item["annotations"] for lb in a["labels"]}:
            frequency[label] += 1
    groups: dict[str, list[str]] = defaultdict(list)
    for item in items:
        groups[stratum(item["annotations"], frequency)].append(str(item["id"]))
    training, validation, _ = percents
    assigned = {}
    for members in groups.values():
        members.sort(key=lambda item_id: _rank(seed, item_id))
        for index, item_id in enumerate(members):
            position = 100 * (index + 0.5) / len(members)
            assigned[item_id] = ("training" if position < training else
                                 "validation" if position < training + validation else "testing")
    return assigned
