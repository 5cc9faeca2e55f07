"""Hand-written fakes of the training ports."""

from __future__ import annotations

from application.ports.training import TrainingReporter


class FakeReporter(TrainingReporter):
    """Records progress and log lines; asks to stop after `stop_after` checks."""

    def __init__(self, stop_after: int | None = None) -> None:
        self.percents: list[float] = []
        self.lines: list[str] = []
        self.checks = 0
        self.stop_after = stop_after

    def progress(self, percent: float, message: str) -> None:
        self.percents.append(percent)

    def log(self, line: str) -> None:
        self.lines.append(line)

    def should_stop(self) -> bool:
        self.checks += 1
        return self.stop_after is not None and self.checks > self.stop_after
