"""A project's pipeline configuration over HTTP, on both persistence modes."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import pytest
from falcon.testing import Result, TestClient

T = TypeVar("T")
UNKNOWN_ID = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
IDLE: dict[str, Any] = {"project_id": None, "status": "idle", "source": None, "sink": None, "model": None,
        "data_collection": {"max_dataset_size": None, "policies": []}, "error": None}


def pipeline_url(project: dict) -> str:
    return f"/api/projects/{project['id']}/pipeline"


def configure(client: TestClient, project: dict, **changes: Any) -> Result:
    return client.simulate_patch(pipeline_url(project), json=changes)


def at_once(*calls: Callable[[], T]) -> list[T]:
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls), timeout=10)

    def run(call: Callable[[], T]) -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def new_source(client: TestClient, name: str) -> dict:
    response = client.simulate_post("/api/sources", json={"name": name, "source_type": "video_file",
                                                           "video_path": f"/videos/{name}.mp4"})
    assert response.status_code == 201, response.text
    return response.json


def new_sink(client: TestClient, name: str) -> dict:
    response = client.simulate_post("/api/sinks", json={"name": name, "sink_type": "folder", "folder_path": "/o"})
    assert response.status_code == 201, response.text
    return response.json


def new_project(client: TestClient, name: str) -> dict:
    response = client.simulate_post("/api/projects", json={
        "name": name, "task": {"task_type": "detection", "labels": [{"name": "nut"}]}})
    assert response.status_code == 201, response.text
    return response.json


def test_a_new_project_has_an_idle_pipeline_pointing_nowhere(client: TestClient, project: dict) -> None:
    response = client.simulate_get(pipeline_url(project))
    assert response.status_code == 200
    documented = {k: v for k, v in response.json.items() if k in IDLE}
    assert documented == {**IDLE, "project_id": project["id"]}


def test_the_pipeline_of_an_unknown_project_is_404_and_a_malformed_id_400(client: TestClient) -> None:
    assert client.simulate_get(f"/api/projects/{UNKNOWN_ID}/pipeline").status_code == 404
    assert client.simulate_patch(f"/api/projects/{UNKNOWN_ID}/pipeline", json={"source_id": None}).status_code == 404
    assert client.simulate_get("/api/projects/nope/pipeline").status_code == 400


def test_choosing_a_source_and_a_sink_embeds_them_in_the_pipeline(client: TestClient, project: dict) -> None:
    source, sink = new_source(client, "gate"), new_sink(client, "out")
    response = configure(client, project, source_id=source["id"], sink_id=sink["id"])
    assert response.status_code == 200, response.text
    assert response.json["source"] == source and response.json["sink"] == sink
    assert client.simulate_get(pipeline_url(project)).json == response.json


def test_a_later_change_of_the_source_shows_in_the_pipeline(client: TestClient, project: dict) -> None:
    source = new_source(client, "gate")
    configure(client, project, source_id=source["id"])
    client.simulate_patch(f"/api/sources/{source['id']}", json={"loop": True})
    assert client.simulate_get(pipeline_url(project)).json["source"] == {**source, "loop": True}


def test_fields_left_out_of_a_patch_keep_their_value(client: TestClient, project: dict) -> None:
    source, sink = new_source(client, "gate"), new_sink(client, "out")
    configure(client, project, source_id=source["id"])
    response = configure(client, project, sink_id=sink["id"])
    assert response.json["source"] == source and response.json["sink"] == sink
    policies = {"max_dataset_size": 100, "policies": [{"type": "fixed_rate", "enabled": True, "rate": 0.5}]}
    response = configure(client, project, data_collection=policies)
    assert (response.json["source"], response.json["sink"]) == (source, sink)


def test_switching_sources_lets_go_of_the_old_one(client: TestClient, project: dict) -> None:
    first, second = new_source(client, "first"), new_source(client, "second")
    configure(client, project, source_id=first["id"])
    response = configure(client, project, source_id=second["id"])
    assert response.status_code == 200 and response.json["source"] == second
    assert client.simulate_delete(f"/api/sources/{second['id']}").status_code == 409
    assert client.simulate_delete(f"/api/sources/{first['id']}").status_code == 204


def test_switching_sinks_lets_go_of_the_old_one(client: TestClient, project: dict) -> None:
    first, second = new_sink(client, "first"), new_sink(client, "second")
    configure(client, project, sink_id=first["id"])
    configure(client, project, sink_id=second["id"])
    assert client.simulate_delete(f"/api/sinks/{second['id']}").status_code == 409
    assert client.simulate_delete(f"/api/sinks/{first['id']}").status_code == 204


def test_null_detaches_the_source_and_the_sink(client: TestClient, project: dict) -> None:
    source, sink = new_source(client, "gate"), new_sink(client, "out")
    configure(client, project, source_id=source["id"], sink_id=sink["id"])
    response = configure(client, project, source_id=None, sink_id=None)
    assert response.status_code == 200 and (response.json["source"], response.json["sink"]) == (None, None)
    assert client.simulate_delete(f"/api/sources/{source['id']}").status_code == 204
    assert client.simulate_delete(f"/api/sinks/{sink['id']}").status_code == 204


def test_choosing_the_same_source_again_changes_nothing(client: TestClient, project: dict) -> None:
    source = new_source(client, "gate")
    first = configure(client, project, source_id=source["id"])
    again = configure(client, project, source_id=source["id"])
    assert again.status_code == 200 and again.json == first.json
    configure(client, project, source_id=None)
    assert client.simulate_delete(f"/api/sources/{source['id']}").status_code == 204


def test_one_source_can_feed_two_projects_and_is_freed_only_by_both(client: TestClient, project: dict) -> None:
    source, other = new_source(client, "gate"), new_project(client, "Other")
    configure(client, project, source_id=source["id"])
    configure(client, other, source_id=source["id"])
    configure(client, project, source_id=None)
    assert client.simulate_delete(f"/api/sources/{source['id']}").status_code == 409
    configure(client, other, source_id=None)
    assert client.simulate_delete(f"/api/sources/{source['id']}").status_code == 204


@pytest.mark.parametrize("field", ["source_id", "sink_id", "model_id"])
def test_an_unknown_reference_is_404_and_changes_nothing(client: TestClient, project: dict, field: str) -> None:
    before = client.simulate_get(pipeline_url(project)).json
    response = configure(client, project, **{field: UNKNOWN_ID})
    assert response.status_code == 404
    assert response.json["detail"]
    assert client.simulate_get(pipeline_url(project)).json == before


def test_a_deleted_source_cannot_be_chosen(client: TestClient, project: dict) -> None:
    source = new_source(client, "gate")
    client.simulate_delete(f"/api/sources/{source['id']}")
    assert configure(client, project, source_id=source["id"]).status_code == 404


def test_a_sink_is_not_a_source(client: TestClient, project: dict) -> None:
    sink = new_sink(client, "out")
    assert configure(client, project, source_id=sink["id"]).status_code == 404
    assert client.simulate_delete(f"/api/sinks/{sink['id']}").status_code == 204


def test_a_refused_patch_attaches_nothing(client: TestClient, project: dict) -> None:
    source = new_source(client, "gate")
    response = configure(client, project, source_id=source["id"], model_id=UNKNOWN_ID)
    assert response.status_code == 404
    assert client.simulate_get(pipeline_url(project)).json["source"] is None
    assert client.simulate_delete(f"/api/sources/{source['id']}").status_code == 204


def test_malformed_references_and_unknown_fields_are_422(client: TestClient, project: dict) -> None:
    for body, field in (({"source_id": "not-a-uuid"}, "source_id"), ({"sink_id": 7}, "sink_id"),
                        ({"status": "running"}, "status")):
        response = configure(client, project, **body)
        assert response.status_code == 422, response.text
        assert field in response.json["errors"]


def test_collection_policies_are_stored_with_their_defaults(client: TestClient, project: dict) -> None:
    response = configure(client, project, data_collection={"max_dataset_size": 500, "policies": [
        {"type": "fixed_rate", "rate": 0.5},
        {"type": "confidence_threshold", "enabled": False, "confidence_threshold": 0.4,
         "min_sampling_interval": 2.0}]})
    assert response.status_code == 200, response.text
    assert response.json["data_collection"] == {"max_dataset_size": 500, "policies": [
        {"type": "fixed_rate", "enabled": True, "rate": 0.5},
        {"type": "confidence_threshold", "enabled": False, "confidence_threshold": 0.4,
         "min_sampling_interval": 2.0}]}
    assert client.simulate_get(pipeline_url(project)).json["data_collection"] == response.json["data_collection"]


def test_confidence_threshold_bounds_are_inclusive(client: TestClient, project: dict) -> None:
    for threshold in (0, 1):
        response = configure(client, project, data_collection={"policies": [
            {"type": "confidence_threshold", "confidence_threshold": threshold}]})
        assert response.status_code == 200, response.text
        assert response.json["data_collection"]["policies"][0]["confidence_threshold"] == threshold


@pytest.mark.parametrize("data_collection", [
    {"policies": [{"type": "fixed_rate", "rate": 0}]},
    {"policies": [{"type": "fixed_rate", "rate": -1}]},
    {"policies": [{"type": "fixed_rate"}]},
    {"policies": [{"type": "confidence_threshold", "confidence_threshold": 1.5}]},
    {"policies": [{"type": "confidence_threshold", "confidence_threshold": -0.1}]},
    {"policies": [{"type": "confidence_threshold", "confidence_threshold": 0.5, "min_sampling_interval": 0}]},
    {"policies": [{"type": "every_frame"}]},
    {"policies": [{"rate": 1}]},
    {"policies": ["fixed_rate"]},
    {"policies": [{"type": "fixed_rate", "rate": 1, "burst": 3}]},
    {"max_dataset_size": 0},
    {"max_dataset_size": "lots"},
    {"retention": "forever"},
])
def test_invalid_collection_policies_are_422_and_change_nothing(client: TestClient, project: dict,
                                                                data_collection: dict) -> None:
    before = client.simulate_get(pipeline_url(project)).json
    response = configure(client, project, data_collection=data_collection)
    assert response.status_code == 422, response.text
    assert "data_collection" in response.json["errors"] and response.json["detail"]
    assert client.simulate_get(pipeline_url(project)).json == before


def test_deleting_a_project_frees_its_source_and_sink(client: TestClient, project: dict) -> None:
    source, sink = new_source(client, "gate"), new_sink(client, "out")
    configure(client, project, source_id=source["id"], sink_id=sink["id"])
    assert client.simulate_delete(f"/api/projects/{project['id']}").status_code == 204
    assert client.simulate_get(pipeline_url(project)).status_code == 404
    assert client.simulate_delete(f"/api/sources/{source['id']}").status_code == 204
    assert client.simulate_delete(f"/api/sinks/{sink['id']}").status_code == 204


def test_a_deleted_project_cannot_be_configured(client: TestClient, project: dict) -> None:
    source = new_source(client, "gate")
    client.simulate_delete(f"/api/projects/{project['id']}")
    assert configure(client, project, source_id=source["id"]).status_code == 404
    assert client.simulate_delete(f"/api/sources/{source['id']}").status_code == 204


def test_a_project_listing_shows_no_active_pipeline_before_one_runs(client: TestClient, project: dict) -> None:
    configure(client, project, source_id=new_source(client, "gate")["id"])
    assert [p["active_pipeline"] for p in client.simulate_get("/api/projects").json] == [False]


def test_a_source_deleted_while_being_attached_is_never_both_deleted_and_used(client: TestClient,
                                                                              project: dict) -> None:
    for round_ in range(5):
        source = new_source(client, f"gate {round_}")
        url = f"/api/sources/{source['id']}"
        attaching, deleting = at_once(partial(configure, client, project, source_id=source["id"]),
                                      partial(client.simulate_delete, url))
        attached, deleted = attaching.status_code, deleting.status_code
        assert (attached, deleted) in ((200, 409), (404, 204)), (attached, deleted)
        shown = client.simulate_get(pipeline_url(project)).json["source"]
        still_there = client.simulate_get(url).status_code == 200
        if attached == 200:
            assert shown == source and still_there
            configure(client, project, source_id=None)
        else:
            assert shown is None and not still_there
