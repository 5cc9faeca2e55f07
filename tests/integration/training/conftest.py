"""Fixtures for the trainer stories."""

from __future__ import annotations

import pytest
from training_fakes import FakeReporter


@pytest.fixture
def reporter() -> FakeReporter:
    return FakeReporter()
