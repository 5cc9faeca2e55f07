"""API tests: Falcon's TestClient on the full app, with the engine running in a thread."""

from collections.abc import Iterator

import pytest
from falcon.testing import TestClient

from entrypoints.bootstrap import Container, bootstrap
from entrypoints.config import Config
from entrypoints.engine import Engine
from entrypoints.http.app import create_app


@pytest.fixture
def container(config: Config) -> Iterator[Container]:
    container = bootstrap(config)
    engine = Engine(container).start_in_thread()
    yield container
    engine.stop()
    container.close()


@pytest.fixture
def client(container: Container) -> TestClient:
    return TestClient(create_app(container))


@pytest.fixture
def project(client: TestClient) -> dict:
    """A detection project with labels 'nut' and 'bolt'."""
    response = client.simulate_post("/api/projects", json={
        "name": "Conveyor", "task": {"task_type": "detection",
                                     "labels": [{"name": "nut", "hotkey": "n"}, {"name": "bolt"}]}})
    assert response.status_code == 201, response.text
    return response.json
