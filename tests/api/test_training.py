"""Training over HTTP, on SQLite and PostgreSQL: a user uploads and annotates generated images, submits a
train job, follows it, and gets an evaluated OpenVINO model and the dataset revision it was trained on, which
they list, inspect, download and delete. Datasets are tiny and epochs few: these are stories, not benchmarks."""

import io
import time
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from falcon.testing import TestClient

from adapters.inference.openvino_runtime import compile_on_cpu, core, read_rt_info
from application.media_sweep import sweep_media
from benchmarks.training.synthetic import classification_image, detection_scene, segmentation_scene
from entrypoints.bootstrap import Container
from tests.images import decode

SHAPES = ("circle", "square", "triangle")
PER_LABEL = 5  # the fewest that gives each label an image in every subset of the default split
EPOCHS = 3
TERMINAL = ("done", "failed", "cancelled")
SUBSETS = ("training", "validation", "testing")


# --- helpers ----------------------------------------------------------------------------------------------


def eventually(condition: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def create_project(client: TestClient, task_type: str = "classification", name: str = "Shapes",
                   labels: tuple[str, ...] = SHAPES, epochs: int = EPOCHS) -> dict[str, Any]:
    task = {"task_type": task_type, "exclusive_labels": task_type == "classification",
            "labels": [{"name": label} for label in labels]}
    response = client.simulate_post("/api/projects", json={"name": name, "task": task})
    assert response.status_code == 201, response.text
    project = response.json
    response = client.simulate_patch(f"/api/projects/{project['id']}/training_configuration",
                                     json={"training.max_epochs": epochs})
    assert response.status_code == 200, response.text
    return project


def label_ids(project: dict[str, Any]) -> dict[str, str]:
    return {label["name"]: label["id"] for label in project["task"]["labels"]}


def upload(client: TestClient, project_id: str, image: bytes) -> str:
    response = client.simulate_post(f"/api/projects/{project_id}/dataset/items", body=image,
                                    headers={"Content-Type": "image/png"})
    assert response.status_code == 201, response.text
    return str(response.json["id"])


def annotate(client: TestClient, project_id: str, item_id: str, annotations: list[dict[str, Any]]) -> None:
    response = client.simulate_post(f"/api/projects/{project_id}/dataset/items/{item_id}/annotations",
                                    json={"annotations": annotations})
    assert response.status_code == 201, response.text


def add_shapes(client: TestClient, project: dict[str, Any], names: tuple[str, ...] = SHAPES,
               per_label: int = PER_LABEL, first: int = 0) -> dict[str, bytes]:
    """`per_label` annotated 32x32 images of each shape; returns item id → uploaded bytes."""
    ids, uploaded = label_ids(project), {}
    for n in range(first, first + per_label):
        for name in names:
            image = classification_image(np.random.default_rng([SHAPES.index(name), n]), name, 32)
            item_id = upload(client, project["id"], image)
            annotate(client, project["id"], item_id, [{"labels": [{"id": ids[name]}], "shape": {"type": "full_image"}}])
            uploaded[item_id] = image
    return uploaded


def submit_train(client: TestClient, project_id: str, **parameters: Any) -> Any:
    return client.simulate_post("/api/jobs", json={"job_type": "train", "project_id": project_id,
                                                   "parameters": parameters})


def wait_for_job(client: TestClient, job_id: str, timeout: float = 90.0) -> dict[str, Any]:
    return eventually(lambda: (job := client.simulate_get(f"/api/jobs/{job_id}").json)["status"] in TERMINAL and job,
                      f"job {job_id} to finish", timeout)


def train(client: TestClient, project_id: str, **parameters: Any) -> dict[str, Any]:
    """Submit a train job, wait for it to be done and for its model to be listed as trained."""
    response = submit_train(client, project_id, **parameters)
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json["id"])
    assert job["status"] == "done", job
    model_url = f"/api/projects/{project_id}/models/{job['result']['model_id']}"
    eventually(lambda: client.simulate_get(model_url).json.get("status") == "trained", "the model to be listed")
    return job


def log_lines(client: TestClient, job_id: str) -> list[str]:
    """The job's log as its SSE stream sends it (the stream ends after a finished job's last line)."""
    response = client.simulate_get(f"/api/jobs/{job_id}/logs")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    lines, event = [], None
    for line in response.text.splitlines():
        if line.startswith("event: "):
            event = line[len("event: "):]
        elif line.startswith("data: ") and event == "log":
            lines.append(line[len("data: "):])
    return lines


def unzip_model(client: TestClient, project_id: str, model_id: str, folder: Path) -> zipfile.ZipFile:
    response = client.simulate_get(f"/api/projects/{project_id}/models/{model_id}/binary")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    archive.extractall(folder)
    return archive


@pytest.fixture
def shapes(client: TestClient) -> dict[str, Any]:
    """A classification project (exclusive labels circle, square, triangle) with 5 annotated images each."""
    project = create_project(client)
    project["uploaded"] = add_shapes(client, project)
    return project


# --- architectures and refused submissions ------------------------------------------------------------------


def test_architectures_are_listed_per_task_with_their_training_parameters(client: TestClient) -> None:
    everything = client.simulate_get("/api/model_architectures")
    classifiers = client.simulate_get("/api/model_architectures", params={"task_type": "classification"})

    assert everything.status_code == 200 and classifiers.status_code == 200
    assert {"classification", "detection"} <= {a["task_type"] for a in everything.json}
    assert classifiers.json and all(a["task_type"] == "classification" for a in classifiers.json)
    assert [a for a in everything.json if a["task_type"] == "classification"] == classifiers.json
    default = [a for a in classifiers.json if a["default"]]
    assert [a["id"] for a in default] == ["softhog-mlp-classifier"]
    assert default[0]["name"] and default[0]["description"]
    epochs = next(p for p in default[0]["parameters"] if p["key"] == "epochs")
    assert epochs["value_type"] == "int" and epochs["min_value"] <= epochs["default_value"] <= epochs["max_value"]
    detectors = client.simulate_get("/api/model_architectures", params={"task_type": "detection"}).json
    assert [a["id"] for a in detectors if a["default"]] == ["cellnet-detector"]


def test_an_unknown_task_type_is_a_bad_request(client: TestClient) -> None:
    response = client.simulate_get("/api/model_architectures", params={"task_type": "segmentation"})

    assert response.status_code == 400
    assert "task_type" in response.json["detail"]


def test_training_without_enough_annotated_data_is_refused_with_what_is_missing(client: TestClient) -> None:
    project = create_project(client)

    empty = submit_train(client, project["id"])
    add_shapes(client, project, names=("circle", "square"), per_label=6)
    no_triangle = submit_train(client, project["id"])

    assert empty.status_code == 422
    assert empty.json["detail"].startswith("Label 'circle' has no annotated image in the training subset")
    assert no_triangle.status_code == 422, no_triangle.text
    assert no_triangle.json["detail"].startswith("Label 'triangle' has no annotated image in the training subset")
    assert "triangle" in str(no_triangle.json["errors"])
    assert client.simulate_get("/api/jobs", params={"project_id": project["id"]}).json == []
    items = client.simulate_get(f"/api/projects/{project['id']}/dataset/items").json["items"]
    assert {item["subset"] for item in items} == {"unassigned"}  # a refused job writes nothing
    assert client.simulate_get(f"/api/projects/{project['id']}/dataset_revisions").json == []
    assert client.simulate_get(f"/api/projects/{project['id']}/dataset_revisions/items").status_code == 404
    assert client.simulate_get(f"/api/projects/{project['id']}/models").json == []


def test_a_train_job_takes_a_view_or_a_revision_and_an_architecture_of_the_projects_task(
        client: TestClient) -> None:
    pid, some_id = create_project(client)["id"], "7c1c1c1c-1c1c-4c1c-8c1c-1c1c1c1c1c1c"

    both = submit_train(client, pid, dataset_view_id=some_id, dataset_revision_id=some_id)
    unknown_architecture = submit_train(client, pid, model_architecture_id="no-such-net")
    detector = submit_train(client, pid, model_architecture_id="cellnet-detector")
    unknown_revision = submit_train(client, pid, dataset_revision_id=some_id)
    unknown_parameter = submit_train(client, pid, epochs=3)
    no_project = client.simulate_post("/api/jobs", json={"job_type": "train", "parameters": {}})

    assert both.status_code == 422 and "not both" in both.json["detail"]
    assert unknown_architecture.status_code in (404, 422) and "no-such-net" in unknown_architecture.json["detail"]
    assert detector.status_code == 422 and "detection" in detector.json["detail"]
    assert unknown_revision.status_code == 404
    assert unknown_parameter.status_code == 422
    assert no_project.status_code == 422
    assert client.simulate_get("/api/jobs").json == []


# --- a classification model from upload to download ---------------------------------------------------------


def test_a_classification_train_job_runs_to_done_records_the_split_and_an_evaluated_model(
        client: TestClient, shapes: dict[str, Any]) -> None:
    pid = shapes["id"]

    submitted = submit_train(client, pid)
    job = wait_for_job(client, submitted.json["id"])

    assert submitted.status_code == 202 and submitted.headers["location"] == f"/api/jobs/{submitted.json['id']}"
    assert job["status"] == "done" and job["progress"] == 100 and job["error"] is None, job
    result = job["result"]
    epochs = [line for line in log_lines(client, job["id"]) if line.startswith("epoch ")]
    assert [line.split()[1] for line in epochs] == [f"{n}/{EPOCHS}" for n in range(1, EPOCHS + 1)]
    assert all("loss" in line and "val_accuracy" in line for line in epochs)

    model = eventually(lambda: next((m for m in client.simulate_get(f"/api/projects/{pid}/models").json
                                     if m["status"] == "trained"), None), "the trained model")
    assert model["id"] == result["model_id"] and model["dataset_revision_id"] == result["dataset_revision_id"]
    assert model["architecture"] == "softhog-mlp-classifier" and model["task_type"] == "classification"
    assert [label["name"] for label in model["labels"]] == list(SHAPES)
    assert model["training"]["job_id"] == job["id"] and model["training"]["device"] == "cpu"
    assert model["training"]["duration_s"] > 0 and model["training"]["finished_at"]
    [variant] = model["variants"]
    assert variant["format"] == "openvino" and variant["precision"] in ("fp32", "fp16")
    assert variant["size"] > 0 and variant["files_deleted"] is False
    assert {m["name"] for m in model["metrics"]} == {"accuracy", "precision", "recall", "f1"}
    assert all(m["subset"] == "testing" and 0 <= m["value"] <= 1 for m in model["metrics"])
    assert client.simulate_get(f"/api/projects/{pid}/models/{model['id']}").json == model

    [revision] = client.simulate_get(f"/api/projects/{pid}/dataset_revisions").json
    counts = revision["item_counts"]
    assert revision["id"] == model["dataset_revision_id"] and revision["files_deleted"] is False
    assert counts["total"] == 3 * PER_LABEL == sum(counts[s] for s in SUBSETS)
    assert all(counts[s] > 0 for s in SUBSETS) and revision["size"] == sum(map(len, shapes["uploaded"].values()))

    history = client.simulate_get(f"/api/projects/{pid}/history",
                                  params={"kind": "DatasetItem.SubsetAssigned", "limit": 1000}).json
    assert sorted(entry["aggregate_id"] for entry in history) == sorted(shapes["uploaded"])
    assert all(entry["data"]["reason"] == f"split for training job {job['id']}" for entry in history)
    assert all(f"training job {job['id']}" in entry["summary"] for entry in history)
    live = client.simulate_get(f"/api/projects/{pid}/dataset/items", params={"limit": 1000}).json["items"]
    frozen = client.simulate_get(f"/api/projects/{pid}/dataset_revisions/items", params={"limit": 1000}).json
    assert {i["id"]: i["subset"] for i in live} == {i["id"]: i["subset"] for i in frozen["items"]}
    item_history = client.simulate_get(f"/api/projects/{pid}/dataset/items/{live[0]['id']}/history").json
    assert item_history[-1]["kind"] == "DatasetItem.SubsetAssigned"


def test_the_downloaded_model_runs_in_openvino_and_names_its_labels_in_output_order(
        client: TestClient, shapes: dict[str, Any], tmp_path: Path) -> None:
    pid = shapes["id"]
    model_id = train(client, pid)["result"]["model_id"]

    labels = client.simulate_get(f"/api/projects/{pid}/models/{model_id}/labels")
    archive = unzip_model(client, pid, model_id, tmp_path)

    assert labels.status_code == 200 and [label["name"] for label in labels.json] == list(SHAPES)
    assert sorted(archive.namelist()) == ["README.md", "model.bin", "model.xml"]
    assert "circle, square, triangle" in archive.read("README.md").decode()
    ir = core().read_model(str(tmp_path / "model.xml"))
    assert [(label["id"], label["name"]) for label in read_rt_info(ir)["labels"]] == [
        (label["id"], label["name"]) for label in labels.json]
    image = decode(classification_image(np.random.default_rng(99), "square", 40))
    probs = compile_on_cpu(ir)({"image": image[None, :, :30]})["probs"]  # any size: 40 x 30
    assert probs.shape == (1, len(SHAPES)) and abs(float(probs.sum()) - 1) < 1e-4


def test_retraining_an_unchanged_dataset_reuses_its_revision_and_new_annotations_make_a_new_one(
        client: TestClient, shapes: dict[str, Any]) -> None:
    pid = shapes["id"]
    first = train(client, pid)
    second = train(client, pid)
    first_items = client.simulate_get(f"/api/projects/{pid}/dataset_revisions/items", params={"limit": 1000}).json

    newcomers = add_shapes(client, shapes, per_label=1, first=PER_LABEL)
    third = train(client, pid)

    first_revision = first["result"]["dataset_revision_id"]
    assert second["result"]["dataset_revision_id"] == first_revision
    assert any(f"reusing revision {first_revision}" in line for line in log_lines(client, second["id"]))
    assert third["result"]["dataset_revision_id"] != first_revision
    revisions = client.simulate_get(f"/api/projects/{pid}/dataset_revisions").json
    assert [r["id"] for r in revisions] == [third["result"]["dataset_revision_id"], first_revision]
    assert revisions[0]["item_counts"]["total"] == 3 * PER_LABEL + len(newcomers)
    latest = client.simulate_get(f"/api/projects/{pid}/dataset_revisions/items", params={"limit": 1000}).json
    subsets = {item["id"]: item["subset"] for item in latest["items"]}
    assert {item["id"]: item["subset"] for item in first_items["items"]}.items() <= subsets.items()
    assert all(subsets[item_id] in SUBSETS for item_id in newcomers)
    models = client.simulate_get(f"/api/projects/{pid}/models").json
    assert [m["dataset_revision_id"] for m in models] == [third["result"]["dataset_revision_id"],
                                                          first_revision, first_revision]


def test_training_on_a_view_splits_and_freezes_only_the_views_items(client: TestClient,
                                                                   shapes: dict[str, Any]) -> None:
    pid = shapes["id"]
    chosen = list(shapes["uploaded"])[:12]  # 4 of each shape
    view = client.simulate_post(f"/api/projects/{pid}/dataset/views", json={"name": "first four"}).json
    added = client.simulate_post(f"/api/projects/{pid}/dataset/views/{view['id']}/items", json={"items": chosen})
    assert added.status_code == 200 and added.json["item_count"] == 12

    job = train(client, pid, dataset_view_id=view["id"])

    frozen = client.simulate_get(f"/api/projects/{pid}/dataset_revisions/{job['result']['dataset_revision_id']}"
                                 "/items", params={"limit": 1000}).json["items"]
    assert sorted(item["id"] for item in frozen) == sorted(chosen)
    live = client.simulate_get(f"/api/projects/{pid}/dataset/items", params={"limit": 1000}).json["items"]
    assert {item["id"] for item in live if item["subset"] == "unassigned"} == set(shapes["uploaded"]) - set(chosen)


def test_a_model_trained_on_an_earlier_revision_lists_the_labels_of_that_revision(
        client: TestClient, shapes: dict[str, Any], tmp_path: Path) -> None:
    pid = shapes["id"]
    revision_id = train(client, pid)["result"]["dataset_revision_id"]
    triangle = label_ids(shapes)["triangle"]
    assert client.simulate_patch(f"/api/projects/{pid}/labels",
                                 json={"labels_to_remove": [{"id": triangle}]}).status_code == 200

    model_id = train(client, pid, dataset_revision_id=revision_id)["result"]["model_id"]

    unzip_model(client, pid, model_id, tmp_path)
    outputs = core().read_model(str(tmp_path / "model.xml")).output("probs").get_partial_shape()[1].get_length()
    labels = client.simulate_get(f"/api/projects/{pid}/models/{model_id}/labels").json
    assert outputs == len(SHAPES)
    assert [label["name"] for label in labels] == list(SHAPES)


# --- dataset revisions ---------------------------------------------------------------------------------------


def test_a_revision_lists_its_items_and_serves_their_media_even_after_they_leave_the_dataset(
        client: TestClient, container: Container, shapes: dict[str, Any]) -> None:
    pid = shapes["id"]
    rid = train(client, pid)["result"]["dataset_revision_id"]
    latest, this = f"/api/projects/{pid}/dataset_revisions", f"/api/projects/{pid}/dataset_revisions/{rid}"

    page = client.simulate_get(f"{this}/items", params={"limit": 5, "offset": 2}).json
    everything = client.simulate_get(f"{this}/items", params={"limit": 1000, "with_annotations": "true"}).json

    assert page["pagination"] == {"offset": 2, "limit": 5, "count": 5, "total": 3 * PER_LABEL}
    assert page["items"] == [{k: v for k, v in item.items() if k != "annotations"}
                             for item in everything["items"][2:7]]
    assert client.simulate_get(f"{latest}/items", params={"limit": 1000, "with_annotations": "true"}).json == everything
    assert client.simulate_get(this).json == client.simulate_get(latest).json[0]
    item = everything["items"][0]
    assert item["subset"] in SUBSETS and item["version"] >= 3 and (item["width"], item["height"]) == (32, 32)
    assert [lb["name"] for a in item["annotations"] for lb in a["labels"]][0] in SHAPES
    assert client.simulate_get(f"{this}/items/{item['id']}").json == item
    assert client.simulate_get(f"{latest}/items/{item['id']}").json == item
    for base in (this, latest):
        binary = client.simulate_get(f"{base}/items/{item['id']}/binary")
        thumbnail = client.simulate_get(f"{base}/items/{item['id']}/thumbnail")
        assert binary.status_code == 200 and binary.content == shapes["uploaded"][item["id"]]
        assert binary.headers["content-type"] == "image/png"
        assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
        assert thumbnail.content[:2] == b"\xff\xd8"

    assert client.simulate_delete(f"/api/projects/{pid}/dataset/items/{item['id']}").status_code == 204
    sweep_media(container.media, container.read_store, grace_s=0)

    assert client.simulate_get(f"/api/projects/{pid}/dataset/items/{item['id']}/binary").status_code == 404
    kept = client.simulate_get(f"{this}/items/{item['id']}/binary")
    assert kept.status_code == 200 and kept.content == shapes["uploaded"][item["id"]]
    assert client.simulate_get(f"{this}/items/{item['id']}/thumbnail").status_code == 200
    assert client.simulate_get(f"{this}/items", params={"limit": 1}).json["pagination"]["total"] == 3 * PER_LABEL

    unknown = "7c1c1c1c-1c1c-4c1c-8c1c-1c1c1c1c1c1c"
    assert client.simulate_get(f"{latest}/{unknown}").status_code == 404
    assert client.simulate_get(f"{latest}/{unknown}/items").status_code == 404
    assert client.simulate_get(f"{this}/items/{unknown}").status_code == 404
    assert client.simulate_get(f"{this}/items/{unknown}/binary").status_code == 404
    assert client.simulate_get(f"{latest}/not-a-uuid").status_code == 400
    assert client.simulate_get(f"/api/projects/{unknown}/dataset_revisions").status_code == 404


# --- deleting models and revisions --------------------------------------------------------------------------


def test_a_revision_is_kept_while_the_pipelines_model_uses_it_and_deleting_it_frees_what_only_it_held(
        client: TestClient, container: Container, shapes: dict[str, Any]) -> None:
    pid = shapes["id"]
    first = train(client, pid)
    rid, model_id = first["result"]["dataset_revision_id"], first["result"]["model_id"]
    base = f"/api/projects/{pid}/dataset_revisions/{rid}"
    items = client.simulate_get(f"{base}/items", params={"limit": 1000}).json["items"]
    gone, stays = items[0]["id"], items[1]["id"]
    gone_sha = client.simulate_get(f"{base}/items/{gone}/binary").headers["etag"].strip('"')
    assert client.simulate_delete(f"/api/projects/{pid}/dataset/items/{gone}").status_code == 204
    pipeline = f"/api/projects/{pid}/pipeline"
    assert client.simulate_patch(pipeline, json={"model_id": model_id}).json["model"]["id"] == model_id
    for url in (base, f"/api/projects/{pid}/dataset_revisions"):  # by id, and the latest
        refused = client.simulate_delete(url)
        assert refused.status_code == 409 and "pipeline" in refused.json["detail"], refused.text
    assert client.simulate_get(f"{base}/items/{gone}/binary").status_code == 200
    assert client.simulate_patch(pipeline, json={"model_id": None}).json["model"] is None

    deleted = client.simulate_delete(base)

    assert deleted.status_code == 204
    [revision] = client.simulate_get(f"/api/projects/{pid}/dataset_revisions").json
    assert revision["id"] == rid and revision["files_deleted"] is True
    assert not container.media.exists(gone_sha)  # only the revision still held it
    for item_id in (gone, stays):
        assert client.simulate_get(f"{base}/items/{item_id}/binary").status_code == 404
        assert client.simulate_get(f"{base}/items/{item_id}/thumbnail").status_code == 404
    assert client.simulate_get(f"/api/projects/{pid}/dataset/items/{stays}/binary").status_code == 200
    assert client.simulate_get(f"{base}/items").json["pagination"]["total"] == 3 * PER_LABEL  # the record stays
    assert submit_train(client, pid, dataset_revision_id=rid).status_code == 404
    assert client.simulate_get(f"/api/projects/{pid}/models/{model_id}/binary").status_code == 200

    retrained = train(client, pid)  # the dataset is smaller, and a freed revision is never reused anyway

    assert retrained["result"]["dataset_revision_id"] != rid
    assert client.simulate_get(f"/api/projects/{pid}/dataset_revisions").json[0]["item_counts"]["total"] == (
        3 * PER_LABEL - 1)


def test_a_model_is_kept_while_the_pipeline_uses_it_then_its_weights_and_its_record_can_go(
        client: TestClient, container: Container, shapes: dict[str, Any]) -> None:
    pid = shapes["id"]
    model_id = train(client, pid)["result"]["model_id"]
    url = f"/api/projects/{pid}/models/{model_id}"
    trained = client.simulate_get(url).json
    other = create_project(client, name="Elsewhere")["id"]
    for seen_from_elsewhere in (client.simulate_get(f"/api/projects/{other}/models/{model_id}"),
                                client.simulate_delete(f"/api/projects/{other}/models/{model_id}"),
                                client.simulate_patch(f"/api/projects/{other}/pipeline", json={"model_id": model_id})):
        assert seen_from_elsewhere.status_code == 404, seen_from_elsewhere.text
    pipeline = f"/api/projects/{pid}/pipeline"
    assert client.simulate_patch(pipeline, json={"model_id": model_id}).status_code == 200
    for weights_only in ("false", "true"):
        refused = client.simulate_delete(url, params={"weights_only": weights_only})
        assert refused.status_code == 409 and "pipeline" in refused.json["detail"], refused.text
    assert client.simulate_get(f"{url}/binary").status_code == 200
    assert client.simulate_patch(pipeline, json={"model_id": None}).status_code == 200

    weights = client.simulate_delete(url, params={"weights_only": "true"})

    assert weights.status_code == 204
    kept = client.simulate_get(url).json
    assert kept == {**trained, "variants": [{**v, "files_deleted": True} for v in trained["variants"]]}
    assert client.simulate_get(f"{url}/binary").status_code == 404
    assert not (container.config.data_dir / "models" / model_id).exists()
    assert client.simulate_get(f"{url}/labels").status_code == 200
    assert client.simulate_patch(f"/api/projects/{pid}/pipeline", json={"model_id": model_id}).status_code == 409

    assert client.simulate_delete(url).status_code == 204

    assert client.simulate_get(url).status_code == 404
    assert client.simulate_get(f"{url}/labels").status_code == 404
    assert client.simulate_delete(url).status_code == 404
    assert client.simulate_get(f"/api/projects/{pid}/models").json == []
    assert client.simulate_get(f"/api/projects/{pid}/dataset_revisions").json[0]["files_deleted"] is False


# --- cancel, and detection -----------------------------------------------------------------------------------


def test_cancelling_a_running_train_job_ends_it_cancelled_and_fails_its_model(
        client: TestClient, container: Container, shapes: dict[str, Any]) -> None:
    pid = shapes["id"]
    client.simulate_patch(f"/api/projects/{pid}/training_configuration", json={"training.max_epochs": 500})
    job_id = submit_train(client, pid).json["id"]
    eventually(lambda: any(row["line"].startswith("epoch ") for row in container.jobs.log.lines_after(
        uuid.UUID(job_id), 0)), "the first epoch", timeout=60)

    cancelled = client.simulate_post(f"/api/jobs/{job_id}:cancel")
    job = wait_for_job(client, job_id)

    assert cancelled.status_code == 202, cancelled.text
    assert job["status"] == "cancelled" and job["result"] is None, job
    epochs = [line for line in log_lines(client, job_id) if line.startswith("epoch ")]
    assert 1 <= len(epochs) < 500
    [model] = eventually(lambda: [m for m in client.simulate_get(f"/api/projects/{pid}/models").json
                                  if m["status"] != "training"], "the model to fail")
    assert model["status"] == "failed" and model["variants"] == [] and model["metrics"] == []
    assert client.simulate_get(f"/api/projects/{pid}/models/{model['id']}/binary").status_code == 404
    assert client.simulate_patch(f"/api/projects/{pid}/pipeline", json={"model_id": model["id"]}).status_code == 409
    assert client.simulate_post(f"/api/jobs/{job_id}:cancel").status_code == 409


def test_a_model_still_in_training_is_not_deleted_from_under_its_job(
        client: TestClient, container: Container, shapes: dict[str, Any]) -> None:
    pid = shapes["id"]
    client.simulate_patch(f"/api/projects/{pid}/training_configuration", json={"training.max_epochs": 500})
    job_id = submit_train(client, pid).json["id"]
    eventually(lambda: any(row["line"].startswith("epoch ") for row in container.jobs.log.lines_after(
        uuid.UUID(job_id), 0)), "the first epoch", timeout=60)
    [model] = eventually(lambda: client.simulate_get(f"/api/projects/{pid}/models").json, "the model in training")

    refused = client.simulate_delete(f"/api/projects/{pid}/models/{model['id']}")
    client.simulate_post(f"/api/jobs/{job_id}:cancel")
    wait_for_job(client, job_id)

    assert refused.status_code == 409, refused.text
    assert client.simulate_get(f"/api/projects/{pid}/models/{model['id']}").json["status"] == "failed"


def test_a_detection_train_job_produces_a_model_scored_by_coco_map(client: TestClient, tmp_path: Path) -> None:
    project = create_project(client, "detection", "Scenes")
    ids = [label["id"] for label in project["task"]["labels"]]
    for n in range(24):
        image, annotations = detection_scene(np.random.default_rng([5, n]), 160, 120, list(SHAPES))
        item_id = upload(client, project["id"], image)
        annotate(client, project["id"], item_id, [
            {**a, "labels": [{"id": ids[int(a["labels"][0]["id"][1:])]}]} for a in annotations])

    job = train(client, project["id"])

    model = client.simulate_get(f"/api/projects/{project['id']}/models/{job['result']['model_id']}").json
    assert model["architecture"] == "cellnet-detector" and model["task_type"] == "detection"
    assert {m["name"] for m in model["metrics"]} == {"map_50", "map_50_95"}
    assert all(m["subset"] == "testing" and 0 <= m["value"] <= 1 for m in model["metrics"])
    unzip_model(client, project["id"], model["id"], tmp_path)
    compiled = compile_on_cpu(core().read_model(str(tmp_path / "model.xml")))
    outputs = compiled({"image": np.zeros((1, 120, 160, 3), np.uint8)})
    assert {name for output in compiled.outputs for name in output.get_names()} >= {"boxes", "scores", "labels"}
    assert len(outputs[compiled.output("boxes")].shape) == 2


def test_an_instance_segmentation_train_job_produces_a_model_that_outputs_polygons(client: TestClient,
                                                                                  tmp_path: Path) -> None:
    project = create_project(client, "instance_segmentation", "Outlines")
    ids = [label["id"] for label in project["task"]["labels"]]
    for n in range(24):
        image, annotations = segmentation_scene(np.random.default_rng([7, n]), 160, 120, list(SHAPES))
        item_id = upload(client, project["id"], image)
        annotate(client, project["id"], item_id, [
            {**a, "labels": [{"id": ids[int(a["labels"][0]["id"][1:])]}]} for a in annotations])
    client.simulate_patch(f"/api/projects/{project['id']}/training_configuration", json={"training.max_epochs": 4})

    job = train(client, project["id"])

    model = client.simulate_get(f"/api/projects/{project['id']}/models/{job['result']['model_id']}").json
    assert model["architecture"] == "cellnet-segmenter" and model["task_type"] == "instance_segmentation"
    assert {"map_50", "map_50_95"} <= {m["name"] for m in model["metrics"]}
    unzip_model(client, project["id"], model["id"], tmp_path)
    compiled = compile_on_cpu(core().read_model(str(tmp_path / "model.xml")))
    assert {name for output in compiled.outputs for name in output.get_names()} >= {"boxes", "scores", "labels",
                                                                                     "masks"}
