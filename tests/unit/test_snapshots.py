"""Snapshots: taken every 50 events, and an aggregate loads the same from them as from its events."""

from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import project_aggregate

from application.event_store import SNAPSHOT_INTERVAL, EventStore
from domain.labels import DuplicateLabelError
from domain.name_claim import NameClaim
from domain.pipeline import Pipeline
from domain.project import LabelEdit, NewLabel, Project
from domain.source import Source

USER = "alice"


def snapshots_of(store: EventStore, aggregate_id: UUID) -> list[Any]:
    assert store.snapshots is not None, "snapshotting is enabled by snapshotting_intervals"
    return list(store.snapshots.get(aggregate_id))


def snapshot_versions(store: EventStore, aggregate_id: UUID) -> list[int]:
    return [snapshot.originator_version for snapshot in snapshots_of(store, aggregate_id)]


def replayed_from_events_only(store: EventStore, aggregate_id: UUID, version: int | None = None) -> Any:
    return project_aggregate(None, store.events.get(aggregate_id, lte=version))


def busy_project(store: EventStore, events: int) -> Project:
    """A project with labels (hotkeys, colours) and training overrides, saved one event at a time."""
    project = Project.start("Conveyor", "detection", False, [NewLabel("nut", hotkey="n"), NewLabel("bolt")], USER)
    store.save(project)
    nut = project.labels[0]
    while project.version < events:
        step = project.version
        if step % 3 == 0:
            project.configure_training({"training.max_epochs": step, "training.learning_rate": step / 1000}, USER)
        elif step % 3 == 1:
            project.change_labels([], [LabelEdit(nut.id, new_name=f"nut {step}", new_color="#0A0B0C")], [], USER)
        else:
            project.change_labels([NewLabel(f"extra {step}", hotkey=str(step))], [], [], USER)
        store.save(project)
    return project


def test_a_snapshot_is_taken_at_every_fiftieth_event(store: EventStore) -> None:
    project = busy_project(store, 2 * SNAPSHOT_INTERVAL + 7)
    assert SNAPSHOT_INTERVAL == 50
    assert snapshot_versions(store, project.id) == [50, 100]


def test_a_short_stream_has_no_snapshot(store: EventStore) -> None:
    project = busy_project(store, SNAPSHOT_INTERVAL - 1)
    assert snapshot_versions(store, project.id) == []


def test_a_snapshot_taken_in_the_middle_of_a_save_is_still_taken(store: EventStore) -> None:
    project = busy_project(store, SNAPSHOT_INTERVAL - 2)
    for i in range(5):  # events 49..53 saved at once
        project.rename(f"Conveyor {i}", USER)
    store.save(project)
    assert snapshot_versions(store, project.id) == [50]


def test_a_project_loads_from_its_snapshot_exactly_as_from_its_events(store: EventStore) -> None:
    project = busy_project(store, SNAPSHOT_INTERVAL + 12)
    loaded: Project = store.repository.get(project.id)
    assert loaded == replayed_from_events_only(store, project.id) == project
    assert loaded.labels == project.labels and loaded.training_configuration == project.training_configuration


def test_the_snapshot_holds_the_state_at_its_version(store: EventStore) -> None:
    project = busy_project(store, SNAPSHOT_INTERVAL + 3)
    [snapshot] = snapshots_of(store, project.id)
    assert snapshot.mutate(None) == replayed_from_events_only(store, project.id, version=SNAPSHOT_INTERVAL)


def test_a_project_loaded_from_a_snapshot_keeps_enforcing_its_rules(store: EventStore) -> None:
    project = busy_project(store, SNAPSHOT_INTERVAL)
    loaded: Project = store.repository.get(project.id)
    duplicate = loaded.labels[-1].name.upper()
    with pytest.raises(DuplicateLabelError):
        loaded.change_labels([NewLabel(duplicate)], [], [], USER)
    loaded.rename("Shelf", USER)
    store.save(loaded)
    assert store.repository.get(project.id).version == SNAPSHOT_INTERVAL + 1


def test_sources_pipelines_and_name_claims_load_identically_from_snapshots(store: EventStore) -> None:
    source = Source(id=uuid4(), name="Gate", type="video_file", config={"video_path": "/v.mp4", "loop": False},
                    user=USER)
    pipeline = Pipeline(project_id=uuid4(), user=USER)
    claim = NameClaim(kind="source", name="Gate", scope="", owner_id=source.id, user=USER)
    store.save(source, pipeline, claim)
    owner = source.id
    for i in range(SNAPSHOT_INTERVAL + 5):
        source.reconfigure(f"Gate {i}", "video_file", {"video_path": f"/v{i}.mp4", "loop": i % 2 == 0}, USER)
        if i % 2:
            source.attach(pipeline.id, USER)
            pipeline.configure(USER, source_id=source.id, data_collection={
                "max_dataset_size": i, "policies": [{"type": "fixed_rate", "enabled": True, "rate": 0.5}]})
            owner = uuid4()
            claim.claim(owner, f"gate {i}", USER)
        else:
            source.detach(pipeline.id, USER)
            pipeline.configure(USER, source_id=None, sink_id=uuid4())
            claim.release(owner, USER)
        store.save(source, pipeline, claim)
    for aggregate in (source, pipeline, claim):
        assert snapshot_versions(store, aggregate.id)[:1] == [SNAPSHOT_INTERVAL]
        assert store.repository.get(aggregate.id) == replayed_from_events_only(store, aggregate.id) == aggregate
