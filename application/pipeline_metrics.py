"""Live pipeline metrics over a window of time, rolled up per second (pure Python)."""

from __future__ import annotations

import math
import random
import threading
from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from application.errors import BadRequestError

MAX_WINDOW_S = 3600


@dataclass
class _Second:
    """One second of counters and (a bounded sample of) its latencies."""

    samples: array = field(default_factory=lambda: array("d"))
    inferred: int = 0
    latency_sum: float = 0.0
    latency_min: float = math.inf
    latency_max: float = -math.inf
    latest: tuple[float, float] = (-math.inf, 0.0)
    read: int = 0
    dispatched: int = 0
    dropped: int = 0


def _weighted_percentile(samples: list[tuple[float, float]], total: float, q: float) -> float:
    """Nearest-rank percentile of sorted (value, weight) pairs."""
    threshold, cumulative = q * total, 0.0
    for value, weight in samples:
        cumulative += weight
        if cumulative >= threshold - 1e-9:
            return value
    return samples[-1][0]


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def merge_second_rows(a: dict[str, Any], b: dict[str, Any], max_samples: int = 256) -> dict[str, Any]:
    """One second counted by two runtimes (one ended, the next began): the counts add up."""
    def pick(f: Any, key: str) -> Any:
        values = [row[key] for row in (a, b) if row[key] is not None]
        return f(values) if values else None

    latest = max((a, b), key=lambda row: -math.inf if row["latest_at"] is None else row["latest_at"])
    return {"second": a["second"], "samples": (a["samples"] + b["samples"])[:max_samples],
            **{key: a[key] + b[key] for key in ("inferred", "latency_sum", "read", "dispatched", "dropped")},
            "latency_min": pick(min, "latency_min"), "latency_max": pick(max, "latency_max"),
            "latest_at": latest["latest_at"], "latest_ms": latest["latest_ms"]}


class PipelineMetrics:
    """Frames read, inferred, dispatched and dropped, and inference latencies, per second."""

    def __init__(self, retention_s: int = MAX_WINDOW_S, samples_per_second: int = 256) -> None:
        self._retention_s = retention_s
        self._samples_per_second = samples_per_second
        self._seconds: dict[int, _Second] = {}
        self._first: float | None = None
        self._lock = threading.Lock()
        self._random = random.Random(0)

    def _second(self, timestamp: float) -> _Second:
        if self._first is None or timestamp < self._first:
            self._first = timestamp
        key = math.floor(timestamp)
        bucket = self._seconds.get(key)
        if bucket is None:
            bucket = self._seconds[key] = _Second()
            oldest_kept = key - self._retention_s
            for stale in [k for k in self._seconds if k < oldest_kept]:
                del self._seconds[stale]
        return bucket

    def record(self, latency_ms: float, timestamp: float) -> None:
        """One inferred frame and its latency."""
        with self._lock:
            bucket = self._second(timestamp)
            bucket.inferred += 1
            bucket.latency_sum += latency_ms
            bucket.latency_min = min(bucket.latency_min, latency_ms)
            bucket.latency_max = max(bucket.latency_max, latency_ms)
            if timestamp >= bucket.latest[0]:
                bucket.latest = (timestamp, latency_ms)
            if len(bucket.samples) < self._samples_per_second:
                bucket.samples.append(latency_ms)
            else:  # reservoir sampling keeps a uniform sample of a busy second
                slot = self._random.randrange(bucket.inferred)
                if slot < self._samples_per_second:
                    bucket.samples[slot] = latency_ms

    def record_read(self, timestamp: float, count: int = 1) -> None:
        """Frames read from the source."""
        with self._lock:
            self._second(timestamp).read += count

    def record_dispatched(self, timestamp: float, count: int = 1) -> None:
        """Frames handed to the sink."""
        with self._lock:
            self._second(timestamp).dispatched += count

    def record_dropped(self, timestamp: float, count: int = 1) -> None:
        """Frames dropped (by a live source or the sink's queue)."""
        with self._lock:
            self._second(timestamp).dropped += count

    def completed_seconds(self, after: int, now: float) -> list[dict[str, Any]]:
        """Seconds in (after, now) that are over, as plain rows (to share them with other processes)."""
        with self._lock:
            keys = sorted(k for k in self._seconds if after < k < math.floor(now))
            return [{"second": k, "inferred": b.inferred, "latency_sum": b.latency_sum,
                     "latency_min": b.latency_min if b.inferred else None,
                     "latency_max": b.latency_max if b.inferred else None,
                     "latest_at": b.latest[0] if b.inferred else None, "latest_ms": b.latest[1],
                     "samples": list(b.samples), "read": b.read, "dispatched": b.dispatched, "dropped": b.dropped}
                    for k, b in ((k, self._seconds[k]) for k in keys)]

    @classmethod
    def from_rows(cls, rows: list[dict[str, Any]], first: float | None) -> "PipelineMetrics":
        """Metrics rebuilt from rows that `completed_seconds` produced (in another process)."""
        metrics = cls()
        for row in rows:
            metrics._seconds[int(row["second"])] = _Second(
                samples=array("d", row["samples"]), inferred=row["inferred"], latency_sum=row["latency_sum"],
                latency_min=math.inf if row["latency_min"] is None else row["latency_min"],
                latency_max=-math.inf if row["latency_max"] is None else row["latency_max"],
                latest=(-math.inf if row["latest_at"] is None else row["latest_at"], row["latest_ms"]),
                read=row["read"], dispatched=row["dispatched"], dropped=row["dropped"])
        metrics._first = first
        return metrics

    def snapshot(self, time_window_s: float, now: float) -> dict[str, Any]:
        """The metrics of (now - time_window_s, now], to the second, in the API shape."""
        if not 1 <= time_window_s <= MAX_WINDOW_S:
            raise BadRequestError(f"time_window must be between 1 and {MAX_WINDOW_S} seconds.")
        start = now - time_window_s
        with self._lock:
            # a second belongs to the window when most of it does (windows are whole seconds)
            seconds = [b for k, b in self._seconds.items() if start < k + 0.5 and k <= now]
            first = self._first
        inferred = sum(b.inferred for b in seconds)
        elapsed = time_window_s if first is None else min(time_window_s, now - first)
        return {
            "time_window": {"start": _iso(start), "end": _iso(now), "time_window": time_window_s},
            "inference": {
                "latency": self._latency(seconds),
                "throughput": {
                    "avg_fps": round(inferred / max(elapsed, 1.0), 3),
                    "max_fps": max((b.inferred for b in seconds), default=0),
                    "total_frames": inferred,
                },
            },
            "frames": {
                "read": sum(b.read for b in seconds),
                "inferred": inferred,
                "dispatched": sum(b.dispatched for b in seconds),
                "dropped": sum(b.dropped for b in seconds),
            },
        }

    @staticmethod
    def _latency(seconds: list[_Second]) -> dict[str, float | None]:
        measured = [b for b in seconds if b.inferred]
        if not measured:
            keys = ("avg_ms", "min_ms", "max_ms", "p50_ms", "p95_ms", "p99_ms", "latest_ms")
            return dict.fromkeys(keys)
        total = sum(b.inferred for b in measured)
        weighted = sorted(
            (value, b.inferred / len(b.samples)) for b in measured for value in b.samples
        )
        return {
            "avg_ms": round(sum(b.latency_sum for b in measured) / total, 3),
            "min_ms": round(min(b.latency_min for b in measured), 3),
            "max_ms": round(max(b.latency_max for b in measured), 3),
            "p50_ms": round(_weighted_percentile(weighted, total, 0.50), 3),
            "p95_ms": round(_weighted_percentile(weighted, total, 0.95), 3),
            "p99_ms": round(_weighted_percentile(weighted, total, 0.99), 3),
            "latest_ms": round(max(b.latest for b in measured)[1], 3),
        }
