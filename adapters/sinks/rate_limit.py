"""Rate limiting of dispatched frames."""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimiter:
    """Lets at most `rate_hz` events per second through on average; None lets all through."""

    def __init__(self, rate_hz: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        if rate_hz is not None and rate_hz <= 0:
            raise ValueError("rate_hz must be positive or None")
        self._interval = 0.0 if rate_hz is None else 1.0 / rate_hz
        self._clock = clock
        self._next: float | None = None

    def allow(self) -> bool:
        """True if an event may pass now; passing books the next slot."""
        if not self._interval:
            return True
        now = self._clock()
        if self._next is not None and now < self._next:
            return False
        # Keep the long-run average at the rate even when frames and slots do not align,
        # but never let a pause turn into a burst closer than half an interval.
        booked = now if self._next is None else self._next
        self._next = max(booked + self._interval, now + self._interval / 2)
        return True
