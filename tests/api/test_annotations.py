"""Annotations over HTTP, on both persistence modes: task rules, label changes, point-in-time reads."""

import time
from datetime import datetime, timedelta
from typing import Any

from falcon.testing import TestClient

from tests import images


def new_project(client: TestClient, name: str, task_type: str, labels: list[str], exclusive: bool = False) -> dict:
    response = client.simulate_post("/api/projects", json={"name": name, "task": {
        "task_type": task_type, "exclusive_labels": exclusive, "labels": [{"name": n} for n in labels]}})
    assert response.status_code == 201, response.text
    return response.json


def label_ids(project: dict) -> dict[str, str]:
    return {label["name"]: label["id"] for label in project["task"]["labels"]}


def uploaded(client: TestClient, project: dict, width: int = 200, height: int = 100, seed: int = 0) -> dict:
    response = client.simulate_post(f"/api/projects/{project['id']}/dataset/items",
                                    body=images.png(width, height, seed), headers={"Content-Type": "image/png"})
    assert response.status_code == 201, response.text
    return response.json


def url(project: dict, item: dict, suffix: str = "/annotations") -> str:
    return f"/api/projects/{project['id']}/dataset/items/{item['id']}{suffix}"


def rectangle(label_id: str, x: float = 10, y: float = 10, width: float = 50, height: float = 40,
              **label: Any) -> dict[str, Any]:
    return {"labels": [{"id": label_id, **label}],
            "shape": {"type": "rectangle", "x": x, "y": y, "width": width, "height": height}}


def polygon(label_id: str, *points: tuple[float, float]) -> dict[str, Any]:
    return {"labels": [{"id": label_id}], "shape": {"type": "polygon", "points": [{"x": x, "y": y}
                                                                                 for x, y in points]}}


def full_image(*ids: str) -> dict[str, Any]:
    return {"labels": [{"id": i} for i in ids], "shape": {"type": "full_image"}}


def post(client: TestClient, project: dict, item: dict, annotations: list[dict[str, Any]], user: str = "ann") -> Any:
    return client.simulate_post(url(project, item), json={"annotations": annotations}, headers={"X-User": user})


def annotated(client: TestClient, project: dict, item: dict, annotations: list[dict[str, Any]]) -> dict:
    response = post(client, project, item, annotations)
    assert response.status_code == 201, response.text
    return response.json


def error_paths(errors: Any, prefix: str = "") -> set[str]:
    """Field paths of an `errors` object, whether nested (marshmallow) or already dotted."""
    if not isinstance(errors, dict):
        return {prefix}
    return {path for key, value in errors.items() for path in error_paths(value, f"{prefix}.{key}" if prefix
                                                                          else str(key))}


def refused(client: TestClient, project: dict, item: dict, annotations: list[dict[str, Any]]) -> set[str]:
    response = post(client, project, item, annotations)
    assert response.status_code == 422, response.text
    assert response.json["detail"]
    return error_paths(response.json["errors"])


def names(annotations: list[dict[str, Any]]) -> list[list[str | None]]:
    return [[label["name"] for label in a["labels"]] for a in annotations]


def history_kinds(client: TestClient, project: dict, item: dict) -> list[str]:
    return [entry["kind"] for entry in client.simulate_get(url(project, item, "/history")).json]


def eventually(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the condition did not become true in time"
        time.sleep(0.02)


# Writing, reading, replacing, clearing


def test_posting_annotations_replaces_them_and_delete_clears_them(client: TestClient, project: dict) -> None:
    item, ids = uploaded(client, project), label_ids(project)
    first = annotated(client, project, item, [rectangle(ids["nut"], confidence=0.75), rectangle(ids["bolt"], x=100)])
    assert first["user_reviewed"] is True and first["updated_at"]
    assert names(first["annotations"]) == [["nut"], ["bolt"]]
    nut = first["annotations"][0]["labels"][0]
    assert nut == {"id": ids["nut"], "name": "nut", "color": project["task"]["labels"][0]["color"],
                   "confidence": 0.75}
    assert first["annotations"][1]["shape"] == {"type": "rectangle", "x": 100, "y": 10, "width": 50, "height": 40}
    fetched = client.simulate_get(url(project, item)).json
    assert fetched["annotations"] == first["annotations"] and fetched["annotated"] is True

    second = annotated(client, project, item, [rectangle(ids["bolt"], x=0, y=0, width=200, height=100)])
    assert names(second["annotations"]) == [["bolt"]]
    assert client.simulate_get(url(project, item)).json["annotations"] == second["annotations"]

    cleared = client.simulate_delete(url(project, item))
    assert cleared.status_code == 204
    after = client.simulate_get(url(project, item)).json
    assert after["annotations"] == [] and after["annotated"] is False
    assert client.simulate_get(url(project, item, "")).json["annotated"] is False
    assert client.simulate_delete(url(project, item)).status_code == 204  # clearing twice is harmless


def test_a_detection_project_takes_rectangles_inside_the_image(client: TestClient, project: dict) -> None:
    item, ids = uploaded(client, project, width=200, height=100), label_ids(project)
    kept = annotated(client, project, item, [rectangle(ids["nut"])])["annotations"]
    stranger = "00000000-0000-0000-0000-0000000000aa"
    cases = [
        ([rectangle(ids["nut"]), polygon(ids["nut"], (0, 0), (5, 0), (5, 5))], "annotations.1.shape"),
        ([full_image(ids["nut"])], "annotations.0.shape"),
        ([rectangle(ids["nut"], x=160, width=41)], "annotations.0.shape"),  # 201 > 200
        ([rectangle(ids["nut"], y=-1)], "annotations.0.shape"),
        ([rectangle(ids["nut"]), rectangle(ids["nut"], width=0)], "annotations.1.shape"),
        ([rectangle(ids["nut"]), rectangle(stranger)], "annotations.1.labels"),
        ([rectangle(ids["nut"], confidence=1.5)], "annotations.0.labels.0.confidence"),
        ([{"labels": [], "shape": {"type": "rectangle", "x": 0, "y": 0, "width": 1, "height": 1}}],
         "annotations.0.labels"),
        ([{"labels": [{"id": ids["nut"]}], "shape": {"type": "circle", "r": 3}}], "annotations.0.shape"),
        ([{"labels": [{"id": ids["nut"]}], "shape": {"type": "rectangle", "x": 0}}], "annotations.0.shape"),
        ([{"labels": [{"id": "nut"}], "shape": {"type": "full_image"}}], "annotations.0.labels.0.id"),
    ]
    for annotations, path in cases:
        paths = refused(client, project, item, annotations)
        assert any(p.startswith(path) for p in paths), (path, paths)
    assert client.simulate_get(url(project, item)).json["annotations"] == kept
    assert history_kinds(client, project, item) == ["DatasetItem.Created", "DatasetItem.AnnotationsReplaced"]


def test_rule_errors_and_schema_errors_name_an_annotation_the_same_way(client: TestClient, project: dict) -> None:
    item, nut = uploaded(client, project, width=200, height=100), label_ids(project)["nut"]
    schema_error = post(client, project, item, [rectangle(nut, confidence=2)]).json["errors"]
    assert set(schema_error["annotations"]["0"]) == {"labels"}
    rule_error = post(client, project, item, [rectangle(nut, x=190)]).json["errors"]
    assert set(rule_error) == {"annotations"} and set(rule_error["annotations"]["0"]) == {"shape"}


def test_a_malformed_annotation_body_is_refused(client: TestClient, project: dict) -> None:
    item = uploaded(client, project)
    assert client.simulate_post(url(project, item), body="{not json").status_code == 400
    assert client.simulate_post(url(project, item), json=[]).status_code == 400
    assert client.simulate_post(url(project, item), json={}).status_code == 422
    assert client.simulate_post(url(project, item), json={"annotations": [], "extra": 1}).status_code == 422
    unknown = {"id": "00000000-0000-0000-0000-000000000001"}
    assert client.simulate_post(url(project, unknown), json={"annotations": []}).status_code == 404
    assert client.simulate_get(url(project, unknown)).status_code == 404
    assert client.simulate_delete(url(project, unknown)).status_code == 404


def test_a_classification_item_takes_one_full_image_annotation(client: TestClient) -> None:
    project = new_project(client, "Parts", "classification", ["good", "scratched", "dented"])
    item, ids = uploaded(client, project), label_ids(project)
    both = annotated(client, project, item, [full_image(ids["scratched"], ids["dented"])])
    assert names(both["annotations"]) == [["scratched", "dented"]]
    assert "annotations" in refused(client, project, item, [])
    assert "annotations" in refused(client, project, item, [full_image(ids["good"]), full_image(ids["dented"])])
    assert "annotations.0.shape" in refused(client, project, item, [rectangle(ids["good"])])
    assert client.simulate_get(url(project, item)).json["annotations"] == both["annotations"]


def test_exclusive_labels_take_one_label_per_shape(client: TestClient) -> None:
    project = new_project(client, "Pass or fail", "classification", ["pass", "fail"], exclusive=True)
    item, ids = uploaded(client, project), label_ids(project)
    assert "annotations.0.labels" in refused(client, project, item, [full_image(ids["pass"], ids["fail"])])
    assert names(annotated(client, project, item, [full_image(ids["fail"])])["annotations"]) == [["fail"]]


def test_an_instance_segmentation_project_takes_polygons(client: TestClient) -> None:
    project = new_project(client, "Fruit", "instance_segmentation", ["apple"])
    item, apple = uploaded(client, project, width=200, height=100), label_ids(project)["apple"]
    triangle = polygon(apple, (0, 0), (200, 0), (100, 100))
    assert annotated(client, project, item, [triangle])["annotations"][0]["shape"] == triangle["shape"]
    assert "annotations.0.shape" in refused(client, project, item, [polygon(apple, (0, 0), (10, 10))])
    assert "annotations.0.shape" in refused(client, project, item, [polygon(apple, (0, 0), (10, 0), (5, 101))])
    assert "annotations.1.shape" in refused(client, project, item, [triangle, rectangle(apple)])


# Label changes


def test_renaming_a_label_is_visible_at_once_in_every_annotation(client: TestClient, project: dict) -> None:
    items, ids = [uploaded(client, project, seed=i) for i in range(2)], label_ids(project)
    for item in items:
        annotated(client, project, item, [rectangle(ids["nut"])])
    response = client.simulate_patch(f"/api/projects/{project['id']}/labels", json={
        "labels_to_edit": [{"id": ids["nut"], "new_name": "hex nut", "new_color": "#123456"}]})
    assert response.status_code == 200, response.text
    for item in items:
        [label] = client.simulate_get(url(project, item)).json["annotations"][0]["labels"]
        assert (label["id"], label["name"], label["color"]) == (ids["nut"], "hex nut", "#123456")
    listed = client.simulate_get(f"/api/projects/{project['id']}/dataset/items",
                                 params={"with_annotations": "true"}).json["items"]
    assert {label["name"] for item in listed for a in item["annotations"] for label in a["labels"]} == {"hex nut"}


def test_removing_a_label_strips_it_from_annotations_but_not_from_history(client: TestClient,
                                                                          project: dict) -> None:
    item, ids = uploaded(client, project), label_ids(project)
    annotated(client, project, item, [rectangle(ids["nut"]), rectangle(ids["bolt"], x=100),
                                      {"labels": [{"id": ids["nut"]}, {"id": ids["bolt"]}],
                                       "shape": {"type": "rectangle", "x": 0, "y": 0, "width": 5, "height": 5}}])
    removed = client.simulate_patch(f"/api/projects/{project['id']}/labels", headers={"X-User": "erin"},
                                    json={"labels_to_remove": [{"id": ids["bolt"]}]})
    assert removed.status_code == 200, removed.text

    right_after = client.simulate_get(url(project, item)).json
    assert names(right_after["annotations"]) == [["nut"], ["nut"]]

    eventually(lambda: "DatasetItem.LabelStripped" in history_kinds(client, project, item))
    history = client.simulate_get(url(project, item, "/history")).json
    stripped = history[-1]
    assert stripped["kind"] == "DatasetItem.LabelStripped" and stripped["user"] == "erin"
    assert stripped["data"]["label_id"] == ids["bolt"]
    latest = client.simulate_get(url(project, item), params={"version": str(stripped["version"])}).json
    assert names(latest["annotations"]) == [["nut"], ["nut"]] and latest["version"] == stripped["version"]
    assert client.simulate_get(url(project, item)).json["annotations"] == latest["annotations"]
    assert client.simulate_get(f"/api/projects/{project['id']}/dataset/items",
                               params={"labels": ids["bolt"]}).json["items"] == []

    before = client.simulate_get(url(project, item), params={"version": "2"}).json
    assert [[label["id"] for label in a["labels"]] for a in before["annotations"]] == [
        [ids["nut"]], [ids["bolt"]], [ids["nut"], ids["bolt"]]]
    assert before["version"] == 2


# Point-in-time reads


def test_annotations_are_readable_as_they_were_at_a_version_or_a_moment(client: TestClient,
                                                                        project: dict) -> None:
    item, ids = uploaded(client, project), label_ids(project)
    first = annotated(client, project, item, [rectangle(ids["nut"])])
    second = annotated(client, project, item, [rectangle(ids["bolt"]), rectangle(ids["bolt"], x=100)])
    client.simulate_delete(url(project, item))

    def at(**params: str) -> Any:
        return client.simulate_get(url(project, item), params=params)

    assert at(version="1").json["annotations"] == [] and at(version="1").json["annotated"] is False
    assert at(version="2").json["annotations"] == first["annotations"]
    assert at(version="3").json["annotations"] == second["annotations"]
    assert at(version="4").json["annotated"] is False
    assert at(as_of=first["updated_at"]).json["annotations"] == first["annotations"]
    assert at(as_of=first["updated_at"]).json["version"] == 2
    assert at(as_of=second["updated_at"]).json["annotations"] == second["annotations"]
    later = (datetime.fromisoformat(second["updated_at"]) + timedelta(days=1)).isoformat()
    assert at(as_of=later).json["version"] == 4
    before_creation = (datetime.fromisoformat(item["created_at"]) - timedelta(seconds=1)).isoformat()
    assert at(as_of=before_creation).status_code == 404

    for params in ({"version": "0"}, {"version": "5"}, {"version": "two"}, {"as_of": "last tuesday"},
                   {"as_of": "2026-01-01T00:00:00"}, {"version": "2", "as_of": first["updated_at"]}):
        response = at(**params)
        assert response.status_code == 400, (params, response.text)
        assert response.json["detail"]
    unknown = {"id": "00000000-0000-0000-0000-000000000001"}
    assert client.simulate_get(url(project, unknown), params={"version": "1"}).status_code == 404


def test_a_classification_item_stripped_of_its_only_label_is_no_longer_annotated(client: TestClient) -> None:
    project = new_project(client, "Parts", "classification", ["good", "scratched"])
    item, ids = uploaded(client, project), label_ids(project)
    annotated(client, project, item, [full_image(ids["scratched"])])
    removed = client.simulate_patch(f"/api/projects/{project['id']}/labels",
                                    json={"labels_to_remove": [{"id": ids["scratched"]}]})
    assert removed.status_code == 200, removed.text
    eventually(lambda: "DatasetItem.LabelStripped" in history_kinds(client, project, item))
    after = client.simulate_get(url(project, item)).json
    assert after["annotations"] == []
    assert after["annotated"] is False, "an annotated classification item must carry one full_image annotation"
