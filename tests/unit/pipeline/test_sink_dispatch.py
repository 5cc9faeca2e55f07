"""Rate limiting and decoupled dispatch: a slow or failing sink never stalls the pipeline."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from adapters.sinks import DecoupledSink, RateLimiter
from application.ports.frames import Frame
from application.ports.sinks import FrameSink, PredictionPayload, SinkUnavailableError


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeSink(FrameSink):
    """Records deliveries; can be held (slow peer) or made to fail."""

    def __init__(self, failing: bool = False) -> None:
        self.delivered: list[int] = []
        self.release = threading.Event()
        self.release.set()
        self.entered = threading.Event()
        self.failing = failing
        self.closed = False

    def send(self, frame: Frame, jpeg: bytes | None, prediction: PredictionPayload) -> None:
        self.entered.set()
        self.release.wait(5)
        if self.failing:
            raise SinkUnavailableError("The peer is down.")
        self.delivered.append(frame.sequence)

    def close(self) -> None:
        self.closed = True


def frame(sequence: int) -> Frame:
    return Frame(sequence, 0.0, np.zeros((2, 2, 3), np.uint8), 2, 2)


def test_no_rate_limit_lets_everything_through() -> None:
    limiter = RateLimiter(None)
    assert all(limiter.allow() for _ in range(100))


def test_a_rate_limit_keeps_the_average_at_the_rate_even_when_frames_do_not_align() -> None:
    clock = FakeClock()
    limiter = RateLimiter(12, clock)
    passed = 0
    for _ in range(300):  # 10 s of 30 fps
        passed += limiter.allow()
        clock.now += 1 / 30
    assert 118 <= passed <= 121


def test_a_pause_does_not_turn_into_a_burst() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1, clock)
    assert limiter.allow()
    clock.now += 60
    assert limiter.allow()
    clock.now += 0.1
    assert not limiter.allow()
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_a_slow_sink_never_stalls_the_caller_and_its_drops_are_counted() -> None:
    inner = FakeSink()
    inner.release.clear()
    sink = DecoupledSink(inner, capacity=3)
    sink.send(frame(1), None, {})
    assert inner.entered.wait(5)  # the worker is now stuck delivering frame 1
    started = time.perf_counter()
    for sequence in range(2, 11):
        sink.send(frame(sequence), None, {})
    assert time.perf_counter() - started < 0.1
    inner.release.set()
    assert sink.flush(5)
    sink.close()
    stats = sink.stats
    # the first frame was taken by the worker, frames 2..7 were pushed out by newer ones
    assert inner.delivered == [1, 8, 9, 10]
    assert (stats.dispatched, stats.dropped) == (4, 6) and inner.closed


def test_a_failing_sink_is_reported_but_never_raises_to_the_caller() -> None:
    inner = FakeSink(failing=True)
    sink = DecoupledSink(inner)
    sink.send(frame(1), None, {})
    assert sink.flush(5)
    assert sink.stats.failed == 1 and sink.last_error == "The peer is down."
    inner.failing = False
    sink.send(frame(2), None, {})
    assert sink.flush(5)
    assert sink.last_error is None and sink.stats.dispatched == 1
    sink.close()


def test_rate_limited_frames_are_skipped_before_the_queue_and_not_counted_as_drops() -> None:
    clock = FakeClock()
    inner = FakeSink()
    sink = DecoupledSink(inner, RateLimiter(2, clock))
    for sequence in range(1, 11):
        sink.send(frame(sequence), None, {})
        clock.now += 0.125
    sink.close()
    assert inner.delivered == [1, 5, 9]
    assert (sink.stats.rate_limited, sink.stats.dropped) == (7, 0)


def test_closing_delivers_what_is_queued_and_later_sends_are_ignored() -> None:
    inner = FakeSink()
    sink = DecoupledSink(inner)
    for sequence in range(1, 4):
        sink.send(frame(sequence), None, {})
    sink.close()
    sink.send(frame(4), None, {})
    assert inner.delivered == [1, 2, 3]
