"""Projects over HTTP, on both persistence modes."""

from falcon.testing import TestClient


def test_a_created_project_is_listed_and_readable(client: TestClient, project: dict) -> None:
    assert [p["id"] for p in client.simulate_get("/api/projects").json] == [project["id"]]
    fetched = client.simulate_get(f"/api/projects/{project['id']}").json
    assert fetched == project
    assert [label["name"] for label in fetched["task"]["labels"]] == ["nut", "bolt"]
    assert all(label["color"].startswith("#") for label in fetched["task"]["labels"])


def test_project_names_are_unique_regardless_of_case(client: TestClient, project: dict) -> None:
    response = client.simulate_post("/api/projects", json={
        "name": " conveyor ", "task": {"task_type": "classification", "labels": [{"name": "a"}]}})
    assert response.status_code == 409
    assert "already exists" in response.json["detail"]


def test_a_renamed_project_frees_its_old_name(client: TestClient, project: dict) -> None:
    renamed = client.simulate_patch(f"/api/projects/{project['id']}", json={"name": "Shelf"})
    assert renamed.status_code == 200 and renamed.json["name"] == "Shelf"
    again = client.simulate_post("/api/projects", json={
        "name": "Conveyor", "task": {"task_type": "detection", "labels": [{"name": "a"}]}})
    assert again.status_code == 201


def test_labels_are_added_edited_and_removed_in_one_request(client: TestClient, project: dict) -> None:
    nut, bolt = project["task"]["labels"]
    response = client.simulate_patch(f"/api/projects/{project['id']}/labels", json={
        "labels_to_add": [{"name": "washer", "color": "#00ff00", "hotkey": "w"}],
        "labels_to_edit": [{"id": nut["id"], "new_name": "hex nut", "new_color": "#112233"}],
        "labels_to_remove": [{"id": bolt["id"]}]})
    assert response.status_code == 200, response.text
    labels = {label["name"]: label for label in response.json["labels"]}
    assert set(labels) == {"hex nut", "washer"}
    assert labels["hex nut"]["id"] == nut["id"] and labels["hex nut"]["color"] == "#112233"
    assert labels["washer"]["color"] == "#00FF00"


def test_label_names_and_hotkeys_stay_unique(client: TestClient, project: dict) -> None:
    url = f"/api/projects/{project['id']}/labels"
    assert client.simulate_patch(url, json={"labels_to_add": [{"name": "NUT"}]}).status_code == 409
    assert client.simulate_patch(url, json={"labels_to_add": [{"name": "x", "hotkey": "N"}]}).status_code == 409
    assert len(client.simulate_get(f"/api/projects/{project['id']}").json["task"]["labels"]) == 2


def test_a_project_keeps_at_least_one_label(client: TestClient, project: dict) -> None:
    ids = [{"id": label["id"]} for label in project["task"]["labels"]]
    response = client.simulate_patch(f"/api/projects/{project['id']}/labels", json={"labels_to_remove": ids})
    assert response.status_code == 409
    assert "at least 1 label" in response.json["detail"]


def test_exclusive_classification_needs_two_labels(client: TestClient) -> None:
    response = client.simulate_post("/api/projects", json={
        "name": "Pass/fail", "task": {"task_type": "classification", "exclusive_labels": True,
                                      "labels": [{"name": "ok"}]}})
    assert response.status_code == 409


def test_an_unknown_label_id_is_refused_with_422(client: TestClient, project: dict) -> None:
    response = client.simulate_patch(f"/api/projects/{project['id']}/labels", json={
        "labels_to_remove": [{"id": "00000000-0000-0000-0000-000000000001"}]})
    assert response.status_code == 422


def test_invalid_bodies_get_field_errors(client: TestClient) -> None:
    response = client.simulate_post("/api/projects", json={
        "name": "", "task": {"task_type": "segmentation", "labels": [{"name": "x", "color": "red"}]}})
    assert response.status_code == 422
    errors = response.json["errors"]
    assert "name" in errors and "task_type" in errors["task"] and "color" in errors["task"]["labels"]["0"]


def test_malformed_json_and_ids_are_400_and_unknown_ids_404(client: TestClient) -> None:
    assert client.simulate_post("/api/projects", body="{nope").status_code == 400
    assert client.simulate_post("/api/projects", body="[1, 2]").status_code == 400
    assert client.simulate_get("/api/projects/not-a-uuid").status_code == 400
    assert client.simulate_get("/api/projects/a:b").status_code == 400
    missing = client.simulate_get("/api/projects/7c9e6679-7425-40de-944b-e07fc1f90ae7")
    assert missing.status_code == 404 and "detail" in missing.json


def test_a_create_body_may_carry_its_own_id_once(client: TestClient) -> None:
    body = {"id": "7c9e6679-7425-40de-944b-e07fc1f90ae7", "name": "Own id",
            "task": {"task_type": "detection", "labels": [{"name": "a"}]}}
    first = client.simulate_post("/api/projects", json=body)
    assert first.status_code == 201 and first.json["id"] == body["id"]
    assert first.headers["location"] == f"/api/projects/{body['id']}"
    assert client.simulate_post("/api/projects", json={**body, "name": "Other"}).status_code == 409


def test_a_deleted_project_is_gone_and_its_name_free(client: TestClient, project: dict) -> None:
    assert client.simulate_delete(f"/api/projects/{project['id']}").status_code == 204
    assert client.simulate_get(f"/api/projects/{project['id']}").status_code == 404
    assert client.simulate_delete(f"/api/projects/{project['id']}").status_code == 404
    again = client.simulate_post("/api/projects", json={
        "name": "Conveyor", "task": {"task_type": "detection", "labels": [{"name": "a"}]}})
    assert again.status_code == 201


def test_training_configuration_is_a_tree_with_defaults(client: TestClient, project: dict) -> None:
    tree = client.simulate_get(f"/api/projects/{project['id']}/training_configuration").json
    groups = {group["key"]: group for group in tree["parameters"]}
    assert set(groups) == {"dataset_preparation", "training", "evaluation"}
    epochs = next(p for p in groups["training"]["parameters"] if p["key"] == "max_epochs")
    assert epochs["value"] == epochs["default_value"] == 30 and epochs["value_type"] == "int"


def test_training_configuration_changes_are_validated(client: TestClient, project: dict) -> None:
    url = f"/api/projects/{project['id']}/training_configuration"
    bad = client.simulate_patch(url, json={"training.max_epochs": 0, "training.nope": 1})
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"training.max_epochs", "training.nope"}
    split = client.simulate_patch(url, json={"dataset_preparation.subset_split.training": 90})
    assert split.status_code == 422
    good = client.simulate_patch(url, json={"training.max_epochs": 12,
                                            "dataset_preparation.subset_split.training": 60,
                                            "dataset_preparation.subset_split.validation": 30})
    assert good.status_code == 200
    training = next(g for g in good.json["parameters"] if g["key"] == "training")
    assert next(p for p in training["parameters"] if p["key"] == "max_epochs")["value"] == 12
