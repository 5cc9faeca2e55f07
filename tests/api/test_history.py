"""The audit log over HTTP, on both persistence modes: every event, who caused it, and filters."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from falcon.testing import TestClient

from tests import images

ENTRY_KEYS = {"position", "timestamp", "user", "kind", "aggregate_id", "version", "summary", "data"}


def as_user(user: str) -> dict[str, str]:
    return {"X-User": user}


def history(client: TestClient, project: dict, **params: Any) -> list[dict[str, Any]]:
    response = client.simulate_get(f"/api/projects/{project['id']}/history",
                                   params={k: str(v) for k, v in params.items()})
    assert response.status_code == 200, response.text
    return response.json


def a_day_of_work(client: TestClient) -> dict[str, Any]:
    """Alice sets up a project, Bob uploads, Carol annotates and tags, Dave organises and deletes."""
    project = client.simulate_post("/api/projects", headers=as_user("alice"), json={
        "name": "Packing line", "task": {"task_type": "detection", "labels": [{"name": "nut"}, {"name": "bolt"}]}}).json
    base = f"/api/projects/{project['id']}/dataset"
    items = [client.simulate_post(f"{base}/items", body=images.png(seed=i), headers={
        "Content-Type": "image/png", "X-User": "bob"}).json for i in range(2)]
    nut = project["task"]["labels"][0]["id"]
    client.simulate_post(f"{base}/items/{items[0]['id']}/annotations", headers=as_user("carol"), json={
        "annotations": [{"labels": [{"id": nut}], "shape": {"type": "rectangle", "x": 1, "y": 2, "width": 3,
                                                             "height": 4}}]})
    client.simulate_patch(f"{base}/items/tags", headers=as_user("carol"),
                          json={"items": [items[0]["id"], items[1]["id"]], "add": ["dock"]})
    view = client.simulate_post(f"{base}/views", headers=as_user("dave"), json={"name": "Dock"}).json
    client.simulate_post(f"{base}/views/{view['id']}/items", headers=as_user("dave"),
                         json={"items": [items[1]["id"]]})
    client.simulate_delete(f"{base}/items/{items[1]['id']}", headers=as_user("dave"))
    return {"project": project, "items": items, "view": view, "base": base}


def test_the_history_shows_every_change_with_who_made_it(client: TestClient) -> None:
    day = a_day_of_work(client)
    project, (kept, deleted), view = day["project"], day["items"], day["view"]
    entries = history(client, project)
    assert all(set(entry) == ENTRY_KEYS for entry in entries)
    positions = [entry["position"] for entry in entries]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    timestamps = [datetime.fromisoformat(entry["timestamp"]) for entry in entries]
    assert timestamps == sorted(timestamps) and all(t.tzinfo is not None for t in timestamps)

    dataset = [(e["user"], e["kind"], e["aggregate_id"], e["version"]) for e in entries
               if e["kind"].startswith("Dataset")]
    assert dataset == [
        ("bob", "DatasetItem.Created", kept["id"], 1),
        ("bob", "DatasetItem.Created", deleted["id"], 1),
        ("carol", "DatasetItem.AnnotationsReplaced", kept["id"], 2),
        ("carol", "DatasetItem.TagsChanged", kept["id"], 3),
        ("carol", "DatasetItem.TagsChanged", deleted["id"], 2),
        ("dave", "DatasetView.Created", view["id"], 1),
        ("dave", "DatasetView.ItemsAdded", view["id"], 2),
        ("dave", "DatasetItem.Deleted", deleted["id"], 3),
    ]
    first = entries[0]
    assert (first["user"], first["kind"], first["aggregate_id"]) == ("alice", "Project.Created", project["id"])
    assert first["summary"].startswith("alice created project 'Packing line'")

    by_kind = {e["kind"]: e for e in entries}
    annotated = by_kind["DatasetItem.AnnotationsReplaced"]
    assert annotated["summary"] == "carol annotated the item with 1 shape"
    assert annotated["data"]["annotations"][0]["shape"] == {"type": "rectangle", "x": 1, "y": 2, "width": 3,
                                                            "height": 4}
    assert annotated["data"]["user_reviewed"] is True
    assert by_kind["DatasetItem.TagsChanged"]["summary"] == "carol changed tags: +dock"
    assert by_kind["DatasetItem.TagsChanged"]["data"] == {"added": ["dock"], "removed": []}
    assert by_kind["DatasetView.ItemsAdded"]["data"] == {"item_ids": [deleted["id"]]}
    assert by_kind["DatasetItem.Deleted"]["summary"] == "dave deleted the item"
    created = next(e for e in entries if e["kind"] == "DatasetItem.Created")
    assert created["data"]["media"]["width"] == 64 and "64x48 png" in created["summary"]


def test_a_caller_without_a_name_is_anonymous_and_a_malformed_name_is_refused(client: TestClient,
                                                                              project: dict) -> None:
    views = f"/api/projects/{project['id']}/dataset/views"
    assert client.simulate_post(views, json={"name": "x"}, headers={"X-User": "robert'); DROP"}).status_code == 400
    assert client.simulate_post(views, json={"name": "y"}).status_code == 201
    assert [e["user"] for e in history(client, project, kind="DatasetView.Created")] == ["anonymous"]


def test_the_history_is_filtered_by_kind_item_and_time_and_paged(client: TestClient) -> None:
    day = a_day_of_work(client)
    project, (kept, deleted) = day["project"], day["items"]
    everything = history(client, project)

    assert [e["aggregate_id"] for e in history(client, project, kind="DatasetItem.Created")] == [
        kept["id"], deleted["id"]]
    assert history(client, project, kind="NoSuch.Event") == []
    assert [e["kind"] for e in history(client, project, item_id=deleted["id"])] == [
        "DatasetItem.Created", "DatasetItem.TagsChanged", "DatasetItem.Deleted"]
    assert [e["kind"] for e in history(client, project, item_id=kept["id"], kind="DatasetItem.TagsChanged")] == [
        "DatasetItem.TagsChanged"]

    middle = everything[len(everything) // 2]
    moment = datetime.fromisoformat(middle["timestamp"]).astimezone(UTC)
    zulu = moment.isoformat().replace("+00:00", "Z")
    since = history(client, project, since=zulu)
    until = history(client, project, until=zulu)
    assert since[0]["position"] <= middle["position"] <= since[-1]["position"]
    assert all(e["position"] < middle["position"] for e in until)
    assert [e["position"] for e in until + since] == [e["position"] for e in everything]
    assert history(client, project, since=(moment + timedelta(days=1)).isoformat()) == []

    assert history(client, project, offset=2, limit=3) == everything[2:5]
    assert history(client, project, offset=len(everything)) == []

    for params in ({"since": "recently"}, {"until": "2026-01-01T00:00:00"}, {"item_id": "nope"},
                   {"limit": 0}, {"limit": 1001}, {"offset": -1}):
        response = client.simulate_get(f"/api/projects/{project['id']}/history", params=params)
        assert response.status_code == 400, (params, response.text)


def test_an_item_history_lists_its_own_events_even_after_deletion(client: TestClient) -> None:
    day = a_day_of_work(client)
    base, (kept, deleted) = day["base"], day["items"]
    kept_history = client.simulate_get(f"{base}/items/{kept['id']}/history").json
    assert [(e["version"], e["kind"], e["user"]) for e in kept_history] == [
        (1, "DatasetItem.Created", "bob"), (2, "DatasetItem.AnnotationsReplaced", "carol"),
        (3, "DatasetItem.TagsChanged", "carol")]
    assert {e["aggregate_id"] for e in kept_history} == {kept["id"]}
    deleted_history = client.simulate_get(f"{base}/items/{deleted['id']}/history")
    assert deleted_history.status_code == 200
    assert [e["kind"] for e in deleted_history.json][-1] == "DatasetItem.Deleted"
    assert client.simulate_get(f"{base}/items/{kept['id']}/history", params={"limit": "1", "offset": "1"}).json == [
        kept_history[1]]
    assert client.simulate_get(f"{base}/items/00000000-0000-0000-0000-000000000001/history").status_code == 404


def test_histories_of_projects_are_kept_apart(client: TestClient, project: dict) -> None:
    day = a_day_of_work(client)
    theirs = {day["project"]["id"], day["view"]["id"], *(item["id"] for item in day["items"])}
    ours = history(client, project)
    assert [e["kind"] for e in ours] == ["Project.Created", "Pipeline.Created"]
    assert not {e["aggregate_id"] for e in ours} & theirs
    foreign = client.simulate_get(f"/api/projects/{project['id']}/dataset/items/{day['items'][0]['id']}/history")
    assert foreign.status_code == 404
    assert client.simulate_get("/api/projects/00000000-0000-0000-0000-000000000001/history").status_code == 404


def test_a_history_window_in_another_time_zone_means_the_same_instant(client: TestClient, project: dict) -> None:
    created = datetime.fromisoformat(history(client, project)[0]["timestamp"])
    an_hour_before = (created - timedelta(hours=1)).astimezone(timezone(timedelta(hours=5)))
    assert history(client, project, since=an_hour_before.isoformat()) != []
