"""Projections on the real read stores (SQLite file and PostgreSQL): rebuild, resume, atomicity."""

from typing import Any

import pytest

from application.ports.read_store import Transaction
from application.projections import Projection, handles
from application.projections.projector import Projector
from domain.project import NewLabel, Project
from entrypoints.bootstrap import Container, bootstrap
from entrypoints.config import Config


@pytest.fixture
def container(config: Config) -> Container:
    container = bootstrap(config)
    yield container
    container.close()


def _write_history(container: Container) -> None:
    """A little of everything: creates, renames, label changes, attach/detach, deletes."""
    user = "tester"
    project = container.projects.create("Line 1", "detection", False, [NewLabel("nut"), NewLabel("bolt")], user)
    other = container.projects.create("Line 2", "classification", True, [NewLabel("ok"), NewLabel("ko")], user)
    source = container.sources.create("cam", "usb_camera", {"device_id": 0, "codec": None}, user)
    sink = container.sinks.create("out", "folder", {"folder_path": "/tmp/x", "output_formats": ["predictions"],
                                                    "rate_limit": None}, user)
    container.pipelines.configure(project.id, {"source_id": source.id, "sink_id": sink.id}, user)
    container.projects.rename(project.id, "Line 1b", user)
    container.projects.change_labels(project.id, [NewLabel("washer", hotkey="w")], [], [], user)
    container.projects.configure_training(project.id, {"training.max_epochs": 5}, user)
    container.pipelines.configure(project.id, {"source_id": None}, user)
    container.sources.delete(source.id, user)
    container.projects.delete(other.id, user)


def _dump(container: Container) -> dict[str, list[dict[str, Any]]]:
    tables = [t for p in container.projector.projections for t in p.tables]
    return {t: container.read_store.query(f"SELECT * FROM {t} ORDER BY 1") for t in tables}


def test_a_rebuild_from_zero_yields_identical_rows(container: Container) -> None:
    _write_history(container)
    container.projector.catch_up()
    before = _dump(container)
    assert before["rm_projects"] and before["rm_sinks"] and before["rm_pipelines"]
    replayed = container.projector.rebuild()
    assert replayed == container.store.max_position()
    assert _dump(container) == before


def test_projection_resumes_where_it_stopped_after_a_restart(container: Container) -> None:
    _write_history(container)
    first = Projector(container.store, container.read_store, container.projector.projections, batch_size=3)
    names = [p.name for p in first.projections]
    first.run_once()
    assert {first.positions()[name] for name in names} == {3}
    restarted = Projector(container.store, container.read_store, container.projector.projections, batch_size=3)
    restarted.catch_up()
    head = container.store.max_position()
    assert {restarted.positions()[name] for name in names} == {head}
    assert [p["name"] for p in container.read_store.query("SELECT name FROM rm_projects")] == ["Line 1b"]


class ExplodingProjection(Projection):
    """Writes a row, then fails on the second event: nothing of the batch may stay."""

    name = "exploding"
    tables = ("rm_exploding",)
    schema = ("CREATE TABLE IF NOT EXISTS rm_exploding (id TEXT PRIMARY KEY)",)

    def __init__(self) -> None:
        self.seen = 0

    @handles(Project.Event)
    def any_event(self, event: Any, tx: Transaction) -> None:
        self.seen += 1
        tx.execute("INSERT INTO rm_exploding (id) VALUES (?)", (f"{event.originator_id}-{event.originator_version}",))
        if self.seen == 2:
            raise RuntimeError("boom")


def test_rows_and_tracking_position_are_written_atomically(container: Container) -> None:
    _write_history(container)
    projector = Projector(container.store, container.read_store, [ExplodingProjection()])
    projector.set_up()
    with pytest.raises(RuntimeError):
        projector.run_once()
    assert projector.positions()["exploding"] == 0
    assert container.read_store.query("SELECT * FROM rm_exploding") == []
    projector.run_once()  # the handler fails only once: the retry processes the whole batch
    assert projector.positions()["exploding"] == container.store.max_position()


def test_waiting_for_a_position_returns_once_every_projection_reached_it(container: Container) -> None:
    written = container.projects.create("P", "detection", False, [NewLabel("a")], "u")
    assert container.projector.wait_for(written.position, timeout=0.05) is False
    container.projector.catch_up()
    assert container.projector.wait_for(written.position, timeout=0.05) is True
