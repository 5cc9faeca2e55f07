"""Pipeline metrics over a window of time: latency percentiles, throughput, frame counters."""

from __future__ import annotations

import pytest

from application.errors import BadRequestError
from application.pipeline_metrics import PipelineMetrics

T0 = 1_700_000_000.0


def test_percentiles_are_nearest_rank_over_the_frames_of_the_window() -> None:
    metrics = PipelineMetrics()
    for index, latency in enumerate(range(100, 0, -1)):  # 100 ms .. 1 ms over 10 s
        metrics.record(float(latency), T0 + index * 0.1)
    latency = metrics.snapshot(60, now=T0 + 10)["inference"]["latency"]
    assert latency == {"avg_ms": 50.5, "min_ms": 1.0, "max_ms": 100.0, "p50_ms": 50.0,
                       "p95_ms": 95.0, "p99_ms": 99.0, "latest_ms": 1.0}  # fmt: skip


def test_frames_outside_the_window_do_not_count() -> None:
    metrics = PipelineMetrics()
    metrics.record(500.0, T0)  # a slow start, two minutes ago
    for second in range(110, 120):
        metrics.record(10.0, T0 + second + 0.5)
    snapshot = metrics.snapshot(60, now=T0 + 120)
    assert snapshot["inference"]["latency"]["max_ms"] == 10.0
    assert snapshot["frames"]["inferred"] == 10
    assert metrics.snapshot(3600, now=T0 + 120)["inference"]["latency"]["max_ms"] == 500.0


def test_throughput_is_the_windows_average_and_its_busiest_second() -> None:
    metrics = PipelineMetrics()
    for second in range(100):
        for frame in range(30 if second != 50 else 45):
            metrics.record(5.0, T0 + second + frame / 50)
    throughput = metrics.snapshot(10, now=T0 + 100)["inference"]["throughput"]
    assert throughput == {"avg_fps": 30.0, "max_fps": 30, "total_frames": 300}
    throughput = metrics.snapshot(60, now=T0 + 100)["inference"]["throughput"]
    assert throughput["max_fps"] == 45 and throughput["total_frames"] == 60 * 30 + 15


def test_a_young_pipeline_averages_over_its_lifetime_not_the_whole_window() -> None:
    metrics = PipelineMetrics()
    for frame in range(100):
        metrics.record(5.0, T0 + frame / 20)  # 20 fps for 5 s
    assert metrics.snapshot(60, now=T0 + 5)["inference"]["throughput"]["avg_fps"] == 20.0


def test_frames_read_dispatched_and_dropped_are_summed_over_the_window() -> None:
    metrics = PipelineMetrics()
    metrics.record_read(T0, 40)
    metrics.record_read(T0 + 30)
    metrics.record(7.0, T0 + 30)
    metrics.record_dispatched(T0 + 30)
    metrics.record_dropped(T0 + 31, 3)
    frames = metrics.snapshot(10, now=T0 + 35)["frames"]
    assert frames == {"read": 1, "inferred": 1, "dispatched": 1, "dropped": 3}


def test_an_empty_window_has_no_latency_and_no_frames() -> None:
    snapshot = PipelineMetrics().snapshot(60, now=T0)
    assert set(snapshot["inference"]["latency"].values()) == {None}
    assert snapshot["inference"]["throughput"] == {"avg_fps": 0.0, "max_fps": 0,
                                                   "total_frames": 0}  # fmt: skip
    window = {"start": "2023-11-14T22:12:20Z", "end": "2023-11-14T22:13:20Z", "time_window": 60}
    assert snapshot["time_window"] == window


@pytest.mark.parametrize("window", [0, 0.5, 3601, -5])
def test_the_window_must_be_between_1_and_3600_seconds(window: float) -> None:
    with pytest.raises(BadRequestError, match="between 1 and 3600 seconds"):
        PipelineMetrics().snapshot(window, now=T0)


def test_memory_is_bounded_to_an_hour_of_rollups_and_a_sample_per_second() -> None:
    metrics = PipelineMetrics(samples_per_second=64)
    for second in range(7200):
        metrics.record(1.0, T0 + second)
    for frame in range(5000):  # one very busy second: latencies 0..4999 ms
        metrics.record(float(frame), T0 + 7200 + frame / 5000)
    assert len(metrics._seconds) <= 3601
    assert max(len(bucket.samples) for bucket in metrics._seconds.values()) == 64
    latency = metrics.snapshot(1, now=T0 + 7200.9999)["inference"]["latency"]
    assert (latency["min_ms"], latency["max_ms"], latency["avg_ms"]) == (0.0, 4999.0, 2499.5)
    assert 1500 < latency["p50_ms"] < 3500  # estimated from the sample
