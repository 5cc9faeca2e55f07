"""A DatasetView: a named set of items, filled and emptied idempotently, its name unique per project."""

from collections.abc import Iterator, Sequence
from typing import Any
from uuid import UUID, uuid4

import pytest

from application.commands.views import ViewCommands
from application.errors import ConflictError, NotFoundError
from application.event_store import EventStore
from domain.dataset_view import DatasetView, ViewDeletedError
from domain.name_claim import NameTakenError
from domain.project import NewLabel, Project

USER = "bob"


@pytest.fixture
def store() -> Iterator[EventStore]:
    store = EventStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield store
    store.close()


@pytest.fixture
def views(store: EventStore) -> ViewCommands:
    return ViewCommands(store)


def saved_project(store: EventStore, name: str) -> UUID:
    project = Project.start(name, "detection", False, [NewLabel("nut")], USER)
    store.save(project)
    return project.id


def fresh_view() -> DatasetView:
    view = DatasetView(id=uuid4(), project_id=uuid4(), name="Night shift", user=USER)
    view.collect_events()
    return view


def recorded(view: DatasetView) -> list[str]:
    return [type(event).__name__ for event in view.collect_events()]


def test_adding_items_twice_records_them_once() -> None:
    view, a, b, c = fresh_view(), uuid4(), uuid4(), uuid4()
    view.add_items([a, b, a], USER)
    view.add_items([b, a], USER)
    view.add_items([c, b], USER)
    assert view.item_ids == sorted([a, b, c], key=str)
    events: Sequence[Any] = view.collect_events()
    assert [type(e).__name__ for e in events] == ["ItemsAdded", "ItemsAdded"]
    assert events[1].item_ids == [c]  # only what was new


def test_removing_items_that_are_not_in_the_view_records_nothing() -> None:
    view, a, b = fresh_view(), uuid4(), uuid4()
    view.add_items([a, b], USER)
    view.remove_items([uuid4()], USER)
    view.remove_items([a, uuid4()], USER)
    view.remove_items([a], USER)
    assert view.item_ids == [b]
    assert recorded(view) == ["ItemsAdded", "ItemsRemoved"]


def test_a_deleted_view_refuses_changes() -> None:
    view = fresh_view()
    view.delete(USER)
    for change in (lambda: view.add_items([uuid4()], USER), lambda: view.remove_items([], USER),
                   lambda: view.delete(USER)):
        with pytest.raises(ViewDeletedError):
            change()


def test_view_names_are_unique_per_project_whatever_their_case(store: EventStore, views: ViewCommands) -> None:
    conveyor, shelf = saved_project(store, "Conveyor"), saved_project(store, "Shelf")
    views.create(conveyor, "Night shift", USER)
    with pytest.raises(NameTakenError):
        views.create(conveyor, " NIGHT SHIFT ", USER)
    views.create(shelf, "Night shift", USER)  # another project's namespace


def test_deleting_a_view_frees_its_name(store: EventStore, views: ViewCommands) -> None:
    project = saved_project(store, "Conveyor")
    first = views.create(project, "Night shift", USER)
    views.delete(project, first.id, USER)
    with pytest.raises(NotFoundError):
        views.add_items(project, first.id, [uuid4()], USER)
    second = views.create(project, "night shift", USER)
    assert second.id != first.id


def test_a_view_is_reached_only_through_its_own_project(store: EventStore, views: ViewCommands) -> None:
    conveyor, shelf = saved_project(store, "Conveyor"), saved_project(store, "Shelf")
    view = views.create(conveyor, "Night shift", USER)
    with pytest.raises(NotFoundError):
        views.add_items(shelf, view.id, [uuid4()], USER)
    with pytest.raises(NotFoundError):
        views.create(uuid4(), "Orphan", USER)


def test_a_view_created_with_a_taken_id_is_refused(store: EventStore, views: ViewCommands) -> None:
    project = saved_project(store, "Conveyor")
    with pytest.raises(ConflictError):
        views.create(project, "Same id", USER, id=project)


def test_commands_that_change_nothing_write_nothing(store: EventStore, views: ViewCommands) -> None:
    project, item = saved_project(store, "Conveyor"), uuid4()
    view = views.create(project, "Night shift", USER)
    assert views.add_items(project, view.id, [item], USER).position > 0
    assert views.add_items(project, view.id, [item], USER).position == 0
    assert views.remove_items(project, view.id, [uuid4()], USER).position == 0
