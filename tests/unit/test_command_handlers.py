"""Command handlers on the in-memory event store: names, pipelines, and concurrent writers."""

from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.commands import ATTEMPTS
from application.commands.connections import ConnectionCommands
from application.commands.pipelines import PipelineCommands
from application.commands.projects import ProjectCommands
from application.errors import ConflictError, NotFoundError
from application.event_store import ConcurrentWriteError, EventStore
from domain.aggregate import Aggregate
from domain.connection import ConnectionInUseError
from domain.errors import InvalidValueError
from domain.labels import DuplicateLabelError
from domain.name_claim import NameClaim, NameTakenError
from domain.pipeline import Pipeline
from domain.project import LabelEdit, NewLabel, Project
from domain.sink import Sink
from domain.source import Source

USER = "alice"
RIVAL = "bob"
IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


class RacingEventStore(EventStore):
    """An event store in which another writer saves right after a command reads an aggregate."""

    def __init__(self) -> None:
        super().__init__(env=IN_MEMORY)
        self.rivals: list[Callable[[], None]] = []
        self.commits = 0
        self.striking = False

    def strike_after_next_read(self, rival: Callable[[], None], times: int = 1) -> None:
        self.rivals.extend([rival] * times)

    def _strike(self) -> None:
        if self.rivals and not self.striking:  # a rival's own reads do not strike again
            self.striking = True
            try:
                self.rivals.pop(0)()
            finally:
                self.striking = False

    def load(self, cls: Any, aggregate_id: UUID, what: str | None = None) -> Any:
        aggregate = super().load(cls, aggregate_id, what)
        self._strike()
        return aggregate

    def find(self, aggregate_id: UUID) -> Aggregate | None:
        found = super().find(aggregate_id)
        self._strike()
        return found

    def commit(self, *aggregates: Aggregate | None) -> int:
        self.commits += 1
        return super().commit(*aggregates)


@pytest.fixture
def racing() -> Iterator[RacingEventStore]:
    store = RacingEventStore()
    yield store
    store.close()


def create_conveyor(store: EventStore, name: str = "Conveyor") -> UUID:
    return ProjectCommands(store).create(name, "detection", False, [NewLabel("nut"), NewLabel("bolt")], USER).id


def claim_owner(store: EventStore, kind: str, name: str) -> UUID | None:
    claim = store.find(NameClaim.create_id(kind, name))
    return claim.owner_id if isinstance(claim, NameClaim) else None


# Projects and their names


def test_creating_a_project_claims_its_name_and_creates_its_idle_pipeline(store: EventStore) -> None:
    project_id = create_conveyor(store)
    assert claim_owner(store, "project", " conveyor ") == project_id
    pipeline = store.load(Pipeline, Pipeline.create_id(project_id))
    assert pipeline.project_id == project_id and not pipeline.enabled
    with pytest.raises(NameTakenError):
        create_conveyor(store, "CONVEYOR")


def test_a_project_created_with_a_used_id_is_refused(store: EventStore) -> None:
    project_id = create_conveyor(store)
    with pytest.raises(ConflictError):
        ProjectCommands(store).create("Other", "detection", False, [NewLabel("a")], USER, id=project_id)
    assert claim_owner(store, "project", "Other") is None


def test_the_written_position_is_the_last_event_in_the_log(store: EventStore) -> None:
    first = ProjectCommands(store).create("A", "detection", False, [NewLabel("a")], USER)
    second = ProjectCommands(store).create("B", "detection", False, [NewLabel("a")], USER)
    assert first.position == 3 and second.position == 6 == store.max_position()
    unchanged = ProjectCommands(store).rename(second.id, "B", USER)
    assert unchanged.position == 0


def test_renaming_a_project_frees_its_old_name(store: EventStore) -> None:
    commands = ProjectCommands(store)
    project_id = create_conveyor(store)
    commands.rename(project_id, "Shelf", USER)
    assert store.load(Project, project_id).name == "Shelf"
    assert claim_owner(store, "project", "Conveyor") is None
    assert claim_owner(store, "project", "shelf") == project_id
    other = create_conveyor(store, "Conveyor")
    with pytest.raises(NameTakenError):
        commands.rename(other, "SHELF", USER)
    assert store.load(Project, other).name == "Conveyor"


def test_changing_only_the_case_of_a_name_keeps_its_claim(store: EventStore) -> None:
    project_id = create_conveyor(store)
    claim_version = store.load(NameClaim, NameClaim.create_id("project", "Conveyor")).version
    ProjectCommands(store).rename(project_id, "CONVEYOR", USER)
    assert store.load(Project, project_id).name == "CONVEYOR"
    assert store.load(NameClaim, NameClaim.create_id("project", "Conveyor")).version == claim_version


def test_deleting_a_project_frees_its_name_pipeline_source_and_sink(store: EventStore) -> None:
    sources, sinks = ConnectionCommands(store, Source), ConnectionCommands(store, Sink)
    source_id = sources.create("Gate", "usb_camera", {"device_id": 0, "codec": None}, USER).id
    sink_id = sinks.create("Out", "folder", {"folder_path": "/out"}, USER).id
    project_id = create_conveyor(store)
    PipelineCommands(store).configure(project_id, {"source_id": source_id, "sink_id": sink_id}, USER)
    with pytest.raises(ConnectionInUseError):
        sources.delete(source_id, USER)

    ProjectCommands(store).delete(project_id, USER)

    for cls, aggregate_id in ((Project, project_id), (Pipeline, Pipeline.create_id(project_id))):
        with pytest.raises(NotFoundError):
            store.load(cls, aggregate_id)
    assert claim_owner(store, "project", "Conveyor") is None
    sources.delete(source_id, USER)
    sinks.delete(sink_id, USER)
    with pytest.raises(NotFoundError):
        ProjectCommands(store).delete(project_id, USER)


def test_unknown_projects_are_not_found(store: EventStore) -> None:
    commands = ProjectCommands(store)
    with pytest.raises(NotFoundError):
        commands.rename(uuid4(), "x", USER)
    with pytest.raises(NotFoundError):
        commands.change_labels(uuid4(), [NewLabel("a")], [], [], USER)
    with pytest.raises(NotFoundError):
        store.load(Project, Pipeline.create_id(create_conveyor(store)))  # a pipeline is not a project


# Sources and sinks and their names


def test_sources_and_sinks_have_separate_unique_names(store: EventStore) -> None:
    sources, sinks = ConnectionCommands(store, Source), ConnectionCommands(store, Sink)
    source_id = sources.create("Gate", "usb_camera", {}, USER).id
    sink_id = sinks.create("gate", "ros", {"topic": "/gate"}, USER).id
    assert claim_owner(store, "source", "GATE") == source_id and claim_owner(store, "sink", "GATE") == sink_id
    with pytest.raises(NameTakenError):
        sources.create(" gate ", "video_file", {"video_path": "/v.mp4"}, USER)


def test_reconfiguring_a_source_renames_it_and_merges_its_settings(store: EventStore) -> None:
    sources = ConnectionCommands(store, Source)
    source_id = sources.create("Gate", "video_file", {"video_path": "/a.mp4", "loop": False}, USER).id
    sources.reconfigure(source_id, {"name": "Dock", "loop": True}, USER)
    source = store.load(Source, source_id)
    assert (source.name, source.config) == ("Dock", {"video_path": "/a.mp4", "loop": True})
    assert claim_owner(store, "source", "Gate") is None and claim_owner(store, "source", "Dock") == source_id
    sources.create("Gate", "usb_camera", {}, USER)


def test_a_deleted_source_frees_its_name_and_is_gone(store: EventStore) -> None:
    sources = ConnectionCommands(store, Source)
    source_id = sources.create("Gate", "usb_camera", {}, USER).id
    sources.delete(source_id, USER)
    with pytest.raises(NotFoundError):
        sources.reconfigure(source_id, {"device_id": 1}, USER)
    with pytest.raises(NotFoundError):
        sources.delete(source_id, USER)
    assert sources.create("gate", "usb_camera", {}, USER).id != source_id


def test_a_source_of_an_unknown_type_is_refused_before_anything_is_claimed(store: EventStore) -> None:
    with pytest.raises(InvalidValueError) as raised:
        ConnectionCommands(store, Source).create("Gate", "webhook", {}, USER)
    assert "Unknown source type" in raised.value.detail
    assert store.max_position() == 0


def test_pointing_a_pipeline_at_a_sink_as_its_source_is_not_found(store: EventStore) -> None:
    sink_id = ConnectionCommands(store, Sink).create("Out", "folder", {"folder_path": "/o"}, USER).id
    project_id = create_conveyor(store)
    with pytest.raises(NotFoundError):
        PipelineCommands(store).configure(project_id, {"source_id": sink_id}, USER)
    with pytest.raises(NotFoundError):
        PipelineCommands(store).configure(project_id, {"model_id": uuid4()}, USER)
    assert store.load(Pipeline, Pipeline.create_id(project_id)).source_id is None


# Concurrent writers


def test_a_rename_that_loses_a_race_with_a_label_change_is_retried_and_both_survive(
        racing: RacingEventStore) -> None:
    project_id = create_conveyor(racing)
    commands = ProjectCommands(racing)

    def add_a_label_meanwhile() -> None:
        copy = racing.load(Project, project_id)
        copy.change_labels([NewLabel("washer")], [], [], RIVAL)
        racing.save(copy)

    racing.strike_after_next_read(add_a_label_meanwhile)
    racing.commits = 0
    commands.rename(project_id, "Shelf", USER)

    assert racing.commits == 2
    project = racing.load(Project, project_id)
    assert project.name == "Shelf"
    assert [label.name for label in project.labels] == ["nut", "bolt", "washer"]
    assert [(type(e).__name__, e.user) for e in racing.history_of(project_id)][-2:] == [
        ("LabelAdded", RIVAL), ("Renamed", USER)]
    assert claim_owner(racing, "project", "Shelf") == project_id


def test_two_label_changes_racing_each_other_are_both_kept(racing: RacingEventStore) -> None:
    project_id = create_conveyor(racing)
    nut = racing.load(Project, project_id).labels[0]

    def recolour_nut_meanwhile() -> None:
        copy = racing.load(Project, project_id)
        copy.change_labels([], [LabelEdit(nut.id, new_color="#000000")], [], RIVAL)
        racing.save(copy)

    racing.strike_after_next_read(recolour_nut_meanwhile)
    ProjectCommands(racing).change_labels(project_id, [], [LabelEdit(nut.id, new_hotkey="n")], [], USER)

    edited = racing.load(Project, project_id).label(nut.id)
    assert (edited.color, edited.hotkey) == ("#000000", "n")


def test_a_label_change_retried_after_a_race_is_checked_against_the_new_state(racing: RacingEventStore) -> None:
    project_id = create_conveyor(racing)

    def add_washer_meanwhile() -> None:
        copy = racing.load(Project, project_id)
        copy.change_labels([NewLabel("washer", hotkey="w")], [], [], RIVAL)
        racing.save(copy)

    racing.strike_after_next_read(add_washer_meanwhile)
    with pytest.raises(DuplicateLabelError):
        ProjectCommands(racing).change_labels(project_id, [NewLabel("Washer")], [], [], USER)
    assert [label.name for label in racing.load(Project, project_id).labels] == ["nut", "bolt", "washer"]


def test_two_projects_racing_for_one_name_leave_exactly_one_owner(racing: RacingEventStore) -> None:
    winner, loser = uuid4(), uuid4()

    def create_the_winner_meanwhile() -> None:
        ProjectCommands(racing).create("Conveyor", "detection", False, [NewLabel("a")], RIVAL, id=winner)

    racing.strike_after_next_read(create_the_winner_meanwhile)
    with pytest.raises(NameTakenError):
        ProjectCommands(racing).create("conveyor", "detection", False, [NewLabel("a")], USER, id=loser)

    assert claim_owner(racing, "project", "Conveyor") == winner
    assert not racing.exists(loser) and not racing.exists(Pipeline.create_id(loser))


def test_attaching_a_source_that_races_a_reconfiguration_keeps_both(racing: RacingEventStore) -> None:
    sources = ConnectionCommands(racing, Source)
    source_id = sources.create("Gate", "video_file", {"video_path": "/a.mp4", "loop": False}, USER).id
    project_id = create_conveyor(racing)

    def loop_the_video_meanwhile() -> None:
        copy = racing.load(Source, source_id)
        copy.reconfigure(copy.name, copy.type, {**copy.config, "loop": True}, RIVAL)
        racing.save(copy)

    # reads: the project, the pipeline, then the source — strike after the source is read
    racing.strike_after_next_read(lambda: None, times=2)
    racing.strike_after_next_read(loop_the_video_meanwhile)
    racing.commits = 0
    PipelineCommands(racing).configure(project_id, {"source_id": source_id}, USER)

    assert racing.commits == 2
    source = racing.load(Source, source_id)
    assert source.config["loop"] is True and source.used_by == [Pipeline.create_id(project_id)]
    assert racing.load(Pipeline, Pipeline.create_id(project_id)).source_id == source_id


def test_renaming_a_source_that_races_an_attach_is_retried_with_the_new_name(racing: RacingEventStore) -> None:
    sources = ConnectionCommands(racing, Source)
    source_id = sources.create("Gate", "usb_camera", {"device_id": 0, "codec": None}, USER).id
    project_id = create_conveyor(racing)

    def attach_it_meanwhile() -> None:
        PipelineCommands(racing).configure(project_id, {"source_id": source_id}, RIVAL)

    racing.strike_after_next_read(attach_it_meanwhile)
    sources.reconfigure(source_id, {"name": "Dock", "device_id": 1}, USER)

    source = racing.load(Source, source_id)
    assert source.used_by == [Pipeline.create_id(project_id)]
    assert (source.name, source.config["device_id"]) == ("Dock", 1)
    assert claim_owner(racing, "source", "Dock") == source_id


def test_a_writer_that_keeps_losing_gives_up_with_a_conflict(racing: RacingEventStore) -> None:
    project_id = create_conveyor(racing)

    def bump_the_epochs_meanwhile() -> None:
        copy = racing.load(Project, project_id)
        copy.configure_training({"training.max_epochs": copy.training_configuration.get("training.max_epochs", 1) + 1},
                                RIVAL)
        racing.save(copy)

    racing.strike_after_next_read(bump_the_epochs_meanwhile, times=ATTEMPTS)
    racing.commits = 0
    with pytest.raises(ConcurrentWriteError) as raised:
        ProjectCommands(racing).configure_training(project_id, {"training.batch_size": 8}, USER)

    assert isinstance(raised.value, ConflictError)
    assert racing.commits == ATTEMPTS
    assert "training.batch_size" not in racing.load(Project, project_id).training_configuration
