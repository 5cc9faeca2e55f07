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
    assigned = {}
    for members in groups.values():
        members.sort(key=lambda item_id: _rank(seed, item_id))
        counts = quotas(len(members), percents)
        subsets = ["training"] * counts[0] + ["validation"] * counts[1] + ["testing"] * counts[2]
        assigned.update(zip(members, subsets, strict=True))
    return assigned


def quotas(n: int, percents: tuple[int, int, int]) -> tuple[int, int, int]:
    """Items per subset for a stratum of n: proportional, but from 3 items on every subset gets one."""
    if n < 3:
        return (n, 0, 0) if n < 2 else (1, 0, 1)
    validation = max(1, round(n * percents[1] / 100))
    testing = max(1, round(n * percents[2] / 100))
    while validation + testing > n - 1:
        if validation >= testing:
            validation -= 1
        else:
            testing -= 1
    return n - validation - testing, validation, testing
