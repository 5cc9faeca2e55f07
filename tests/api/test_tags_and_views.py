"""Tags and views over HTTP, on both persistence modes."""

from collections.abc import Sequence
from typing import Any

from falcon.testing import Result, TestClient

from tests import images

UNKNOWN = "00000000-0000-0000-0000-00000000beef"


def base(project: dict) -> str:
    return f"/api/projects/{project['id']}/dataset"


def uploaded_items(client: TestClient, project: dict, count: int) -> list[str]:
    created = []
    for seed in range(count):
        response = client.simulate_post(f"{base(project)}/items", body=images.png(seed=seed),
                                        headers={"Content-Type": "image/png"})
        assert response.status_code == 201, response.text
        created.append(response.json["id"])
    return created


def retag(client: TestClient, project: dict, items: list[str], add: Sequence[str] = (),
          remove: Sequence[str] = ()) -> Result:
    return client.simulate_patch(f"{base(project)}/items/tags",
                                 json={"items": items, "add": list(add), "remove": list(remove)})


def tags_of(client: TestClient, project: dict, item_id: str) -> list[str]:
    response = client.simulate_get(f"{base(project)}/items/{item_id}/tags")
    assert response.status_code == 200, response.text
    return response.json


def counts(client: TestClient, project: dict) -> dict[str, int]:
    return {entry["tag"]: entry["count"] for entry in client.simulate_get(f"{base(project)}/tags").json}


def item_ids(page: dict) -> list[str]:
    return [item["id"] for item in page["items"]]


def other_project(client: TestClient) -> dict:
    response = client.simulate_post("/api/projects", json={
        "name": "Shelf", "task": {"task_type": "detection", "labels": [{"name": "can"}]}})
    assert response.status_code == 201, response.text
    return response.json


# Tags


def test_tags_are_added_and_removed_over_many_items_in_one_request(client: TestClient, project: dict) -> None:
    items = uploaded_items(client, project, 4)
    response = retag(client, project, items, add=["dock", " night "])
    assert response.status_code == 200, response.text
    assert {e["tag"]: e["count"] for e in response.json} == {"dock": 4, "night": 4}

    response = retag(client, project, items[:2], add=["reviewed"], remove=["night", "never-there"])
    assert response.status_code == 200, response.text
    assert counts(client, project) == {"dock": 4, "night": 2, "reviewed": 2}
    assert [tags_of(client, project, i) for i in items] == [["dock", "reviewed"]] * 2 + [["dock", "night"]] * 2
    listed = client.simulate_get(f"{base(project)}/items").json["items"]
    assert [item["tags"] for item in listed] == [["dock", "reviewed"]] * 2 + [["dock", "night"]] * 2
    assert item_ids(client.simulate_get(f"{base(project)}/items", params={"tags": "reviewed"}).json) == items[:2]
    assert item_ids(client.simulate_get(f"{base(project)}/items", params={"tags": "night,reviewed"}).json) == items

    retag(client, project, items, remove=["dock", "night", "reviewed"])
    assert counts(client, project) == {} and tags_of(client, project, items[0]) == []


def test_invalid_tags_are_refused_and_change_nothing(client: TestClient, project: dict) -> None:
    items = uploaded_items(client, project, 2)
    retag(client, project, items, add=["dock"])
    for bad in ("", "   ", "x" * 51, "front,back"):
        response = retag(client, project, items, add=["night", bad])
        assert response.status_code == 422, (bad, response.text)
        assert "tags" in str(response.json.get("errors")) or "add" in str(response.json.get("errors")), bad
    assert retag(client, project, items, remove=["y" * 51]).status_code == 422
    both = retag(client, project, items, add=["dock", "night"], remove=["night"])
    assert both.status_code == 422 and "both added and removed" in both.json["detail"]
    assert retag(client, project, [], add=["dock"]).status_code == 422
    assert retag(client, project, ["not-an-id"], add=["dock"]).status_code == 422
    assert client.simulate_patch(f"{base(project)}/items/tags", json={"add": ["dock"]}).status_code == 422
    assert client.simulate_patch(f"{base(project)}/items/tags", body="[").status_code == 400
    assert client.simulate_get(f"{base(project)}/items/{UNKNOWN}/tags").status_code == 404
    assert client.simulate_get(f"/api/projects/{UNKNOWN}/dataset/tags").status_code == 404
    assert counts(client, project) == {"dock": 2}


def test_a_bulk_tag_change_naming_an_unknown_item_changes_nothing(client: TestClient, project: dict) -> None:
    items = uploaded_items(client, project, 3)
    response = retag(client, project, [items[0], UNKNOWN, items[2]], add=["dock"])
    assert response.status_code == 404, response.text
    assert counts(client, project) == {}
    assert all(tags_of(client, project, i) == [] for i in items)
    foreign = uploaded_items(client, other_project(client), 1)
    assert retag(client, project, [items[0], *foreign], add=["dock"]).status_code == 404
    assert counts(client, project) == {}


# Views


def create_view(client: TestClient, project: dict, name: str) -> Result:
    return client.simulate_post(f"{base(project)}/views", json={"name": name})


def view_items(client: TestClient, project: dict, view: dict, **params: Any) -> dict:
    response = client.simulate_get(f"{base(project)}/views/{view['id']}/items",
                                   params={k: str(v) for k, v in params.items()})
    assert response.status_code == 200, response.text
    return response.json


def change(client: TestClient, method: str, project: dict, view: dict, body: dict) -> Result:
    return client.simulate_request(method, f"{base(project)}/views/{view['id']}/items", json=body)


def test_view_names_are_unique_per_project_and_views_stay_in_their_project(client: TestClient, project: dict) -> None:
    created = create_view(client, project, "Night shift")
    assert created.status_code == 201, created.text
    view = created.json
    assert set(view) == {"id", "name", "created_at", "item_count"}
    assert (view["name"], view["item_count"]) == ("Night shift", 0)
    assert created.headers["location"] == f"{base(project)}/views/{view['id']}"
    duplicate = create_view(client, project, "NIGHT SHIFT")
    assert duplicate.status_code == 409 and duplicate.json["detail"]
    other = other_project(client)
    assert create_view(client, other, "Night shift").status_code == 201
    assert client.simulate_get(f"{base(other)}/views/{view['id']}").status_code == 404
    assert client.simulate_delete(f"{base(other)}/views/{view['id']}").status_code == 404
    assert client.simulate_get(f"{base(project)}/views/not-an-id").status_code == 400
    assert client.simulate_get(f"{base(project)}/views/{UNKNOWN}").status_code == 404
    assert create_view(client, project, "").status_code == 422
    assert create_view(client, {"id": UNKNOWN}, "Orphan").status_code == 404
    assert [v["name"] for v in client.simulate_get(f"{base(project)}/views").json] == ["Night shift"]
    assert client.simulate_get(f"{base(project)}/views/{view['id']}").json == view


def test_items_join_and_leave_a_view_by_id(client: TestClient, project: dict) -> None:
    items = uploaded_items(client, project, 4)
    view = create_view(client, project, "Hard cases").json
    added = change(client, "POST", project, view, {"items": items[:3]})
    assert added.status_code == 200, added.text
    assert added.json["item_count"] == 3
    assert change(client, "POST", project, view, {"items": items[1:3]}).json["item_count"] == 3  # idempotent
    assert item_ids(view_items(client, project, view)) == items[:3]

    removed = change(client, "DELETE", project, view, {"items": [items[0], items[3]]})
    assert removed.status_code == 200 and removed.json["item_count"] == 2
    assert item_ids(view_items(client, project, view)) == items[1:3]
    assert [v["item_count"] for v in client.simulate_get(f"{base(project)}/views").json] == [2]

    unknown = change(client, "POST", project, view, {"items": [items[0], UNKNOWN]})
    assert unknown.status_code == 422 and "items" in unknown.json["errors"]
    foreign = uploaded_items(client, other_project(client), 1)
    assert change(client, "POST", project, view, {"items": foreign}).status_code == 422
    assert item_ids(view_items(client, project, view)) == items[1:3]
    bodies: list[dict[str, Any]] = [{}, {"items": items, "filter": {}}, {"items": []}, {"items": ["nope"]}]
    for body in bodies:
        assert change(client, "POST", project, view, body).status_code == 422, body


def test_items_join_and_leave_a_view_by_filter(client: TestClient, project: dict) -> None:
    items = uploaded_items(client, project, 5)
    nut = project["task"]["labels"][0]["id"]
    for item_id in items[:2]:
        client.simulate_post(f"{base(project)}/items/{item_id}/annotations", json={"annotations": [
            {"labels": [{"id": nut}], "shape": {"type": "rectangle", "x": 0, "y": 0, "width": 4, "height": 4}}]})
    retag(client, project, items[1:4], add=["dock"])
    view = create_view(client, project, "Dock").json

    assert change(client, "POST", project, view, {"filter": {"tags": ["dock"]}}).json["item_count"] == 3
    assert change(client, "POST", project, view, {"filter": {"labels": [nut]}}).json["item_count"] == 4
    assert item_ids(view_items(client, project, view)) == items[:4]
    assert change(client, "DELETE", project, view, {"filter": {"annotated": True}}).json["item_count"] == 2
    assert item_ids(view_items(client, project, view)) == items[2:4]
    assert change(client, "POST", project, view, {"filter": {"subset": "unassigned"}}).json["item_count"] == 5
    assert change(client, "POST", project, view, {"filter": {"subset": "holdout"}}).status_code == 422
    assert change(client, "POST", project, view, {"filter": {"created_after": "2020-01-01"}}).status_code == 422


def test_view_items_are_listed_a_page_at_a_time_with_the_item_filters(client: TestClient, project: dict) -> None:
    items = uploaded_items(client, project, 5)
    retag(client, project, items[::2], add=["even"])
    view = create_view(client, project, "Most").json
    change(client, "POST", project, view, {"items": items[:4]})
    page = view_items(client, project, view, limit=2, offset=1)
    assert item_ids(page) == items[1:3]
    assert page["pagination"] == {"offset": 1, "limit": 2, "count": 2, "total": 4}
    assert item_ids(view_items(client, project, view, tags="even")) == [items[0], items[2]]
    assert item_ids(view_items(client, project, view, sort="-created_at")) == items[3::-1]
    assert item_ids(view_items(client, project, view, annotated="true")) == []
    assert "annotations" in view_items(client, project, view, with_annotations="true")["items"][0]
    bad = client.simulate_get(f"{base(project)}/views/{view['id']}/items", params={"limit": "0"})
    assert bad.status_code == 400


def test_a_deleted_view_is_gone_and_frees_its_name(client: TestClient, project: dict) -> None:
    items = uploaded_items(client, project, 1)
    view = create_view(client, project, "Temporary").json
    change(client, "POST", project, view, {"items": items})
    assert client.simulate_delete(f"{base(project)}/views/{view['id']}").status_code == 204
    for path in ("", "/items"):
        assert client.simulate_get(f"{base(project)}/views/{view['id']}{path}").status_code == 404, path
    assert client.simulate_delete(f"{base(project)}/views/{view['id']}").status_code == 404
    assert change(client, "POST", project, view, {"items": items}).status_code == 404
    assert client.simulate_get(f"{base(project)}/views").json == []
    assert create_view(client, project, "temporary").status_code == 201
    assert client.simulate_get(f"{base(project)}/items/{items[0]}").status_code == 200  # items stay
