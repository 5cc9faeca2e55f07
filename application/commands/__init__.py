"""Command handlers: load aggregate(s), call one method, save; return what was written."""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import ParamSpec, TypeVar
from uuid import UUID

from application.event_store import ConcurrentWriteError

P = ParamSpec("P")
R = TypeVar("R")

ATTEMPTS = 8


@dataclass(frozen=True)
class Written:
    """What a command wrote: the aggregate it is about and the log position of its last event."""

    id: UUID
    position: int


def retrying(command: Callable[P, R]) -> Callable[P, R]:
    """Re-run a command that lost an optimistic-concurrency race, reloading fresh state."""

    @wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(ATTEMPTS):
            try:
                return command(*args, **kwargs)
            except ConcurrentWriteError:
                if attempt == ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, 0.005 * 2**attempt))
        raise AssertionError("unreachable")

    return run
