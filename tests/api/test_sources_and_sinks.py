"""Sources and sinks over HTTP, on both persistence modes: CRUD, names, YAML export and import."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import pytest
import yaml  # type: ignore[import-untyped]
from falcon.testing import Result, TestClient

from entrypoints.bootstrap import Container

T = TypeVar("T")
SOURCES = {  # minimal create body → what the API answers (without the id)
    "usb_camera": ({"name": "Gate", "source_type": "usb_camera"},
                   {"name": "Gate", "source_type": "usb_camera", "device_id": 0, "codec": None}),
    "ip_camera": ({"name": "Gate", "source_type": "ip_camera", "stream_url": "rtsp://10.0.0.7:554/stream1"},
                  {"name": "Gate", "source_type": "ip_camera", "stream_url": "rtsp://10.0.0.7:554/stream1",
                   "auth_required": False}),
    "video_file": ({"name": "Gate", "source_type": "video_file", "video_path": "/videos/belt.mp4"},
                   {"name": "Gate", "source_type": "video_file", "video_path": "/videos/belt.mp4", "loop": False}),
    "images_folder": ({"name": "Gate", "source_type": "images_folder", "images_folder_path": "/images"},
                      {"name": "Gate", "source_type": "images_folder", "images_folder_path": "/images",
                       "ignore_existing_images": False}),
}
COMMON_SINK_DEFAULTS = {"output_formats": ["predictions"], "rate_limit": None}
SINKS = {
    "folder": ({"name": "Out", "sink_type": "folder", "folder_path": "/out"},
               {"name": "Out", "sink_type": "folder", "folder_path": "/out", **COMMON_SINK_DEFAULTS}),
    "mqtt": ({"name": "Out", "sink_type": "mqtt", "broker_host": "broker.local", "topic": "factory/line1"},
             {"name": "Out", "sink_type": "mqtt", "broker_host": "broker.local", "broker_port": 1883,
              "topic": "factory/line1", "auth_required": False, **COMMON_SINK_DEFAULTS}),
    "webhook": ({"name": "Out", "sink_type": "webhook", "webhook_url": "https://hooks.example.com/vf"},
                {"name": "Out", "sink_type": "webhook", "webhook_url": "https://hooks.example.com/vf",
                 "http_method": "POST", "headers": {}, "timeout": 10, **COMMON_SINK_DEFAULTS}),
    "ros": ({"name": "Out", "sink_type": "ros", "topic": "/viewfinder/predictions"},
            {"name": "Out", "sink_type": "ros", "topic": "/viewfinder/predictions", **COMMON_SINK_DEFAULTS}),
}
EXAMPLE = {"source": SOURCES["video_file"][0], "sink": SINKS["webhook"][0]}
KINDS = ("source", "sink")


def create(client: TestClient, kind: str, body: dict[str, Any], **headers: str) -> Result:
    return client.simulate_post(f"/api/{kind}s", json=body, headers=headers or None)


def created(client: TestClient, kind: str, **changes: Any) -> dict[str, Any]:
    response = create(client, kind, {**EXAMPLE[kind], **changes})
    assert response.status_code == 201, response.text
    return response.json


def without_id(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != "id"}


def listed(client: TestClient, kind: str) -> list[dict[str, Any]]:
    return client.simulate_get(f"/api/{kind}s").json


def multipart(data: bytes, field: str = "file") -> tuple[bytes, dict[str, str]]:
    boundary = "viewfinder-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"config.yaml\"\r\n"
            "Content-Type: application/x-yaml\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def at_once(*calls: Callable[[], T]) -> list[T]:
    """Run the calls in threads released together; their results in order."""
    barrier = threading.Barrier(len(calls), timeout=10)

    def run(call: Callable[[], T]) -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def attach(client: TestClient, project: dict, kind: str, resource_id: str | None) -> None:
    response = client.simulate_patch(f"/api/projects/{project['id']}/pipeline", json={f"{kind}_id": resource_id})
    assert response.status_code == 200, response.text


# Creating


@pytest.mark.parametrize("source_type", SOURCES)
def test_every_source_type_is_created_with_its_defaults(client: TestClient, source_type: str) -> None:
    body, expected = SOURCES[source_type]
    response = create(client, "source", body)
    assert response.status_code == 201, response.text
    assert without_id(response.json) == expected
    assert response.headers["location"] == f"/api/sources/{response.json['id']}"
    assert UUID(response.json["id"])
    assert client.simulate_get(response.headers["location"]).json == response.json
    assert listed(client, "source") == [response.json]


@pytest.mark.parametrize("sink_type", SINKS)
def test_every_sink_type_is_created_with_its_defaults(client: TestClient, sink_type: str) -> None:
    body, expected = SINKS[sink_type]
    response = create(client, "sink", body)
    assert response.status_code == 201, response.text
    assert without_id(response.json) == expected
    assert response.headers["location"] == f"/api/sinks/{response.json['id']}"
    assert client.simulate_get(response.headers["location"]).json == response.json
    assert listed(client, "sink") == [response.json]


def test_given_settings_replace_the_defaults(client: TestClient) -> None:
    body = {"name": "Gate", "source_type": "usb_camera", "device_id": 2, "codec": "MJPG"}
    response = create(client, "source", body)
    assert response.status_code == 201, response.text
    assert without_id(response.json) == body


def test_a_webhook_sink_keeps_every_setting_given(client: TestClient) -> None:
    body = {"name": "Hook", "sink_type": "webhook", "webhook_url": "http://10.0.0.9:8080/in", "http_method": "PUT",
            "headers": {"X-Line": "1"}, "timeout": 2.5, "output_formats": ["image_original", "predictions"],
            "rate_limit": 0.5}
    response = create(client, "sink", body)
    assert response.status_code == 201, response.text
    assert without_id(response.json) == body


@pytest.mark.parametrize(("body", "field"), [
    ({"source_type": "ip_camera", "stream_url": "rtsp://admin:secret@10.0.0.7/stream"}, "stream_url"),
    ({"source_type": "ip_camera", "stream_url": "ftp://10.0.0.7/stream"}, "stream_url"),
    ({"source_type": "ip_camera"}, "stream_url"),
    ({"source_type": "usb_camera", "device_id": -1}, "device_id"),
    ({"source_type": "usb_camera", "codec": "MJPEG"}, "codec"),
    ({"source_type": "video_file", "video_path": ""}, "video_path"),
    ({"source_type": "images_folder", "images_folder_path": "/i", "ignore_existing_images": "maybe"},
     "ignore_existing_images"),
    ({"source_type": "usb_camera", "password": "hunter2"}, "password"),
    ({"source_type": "usb_camera", "name": "   "}, "name"),
])
def test_invalid_source_settings_are_422_with_field_errors(client: TestClient, body: dict, field: str) -> None:
    response = create(client, "source", {"name": "Gate", **body})
    assert response.status_code == 422, response.text
    assert field in response.json["errors"] and response.json["detail"]
    assert listed(client, "source") == []


@pytest.mark.parametrize(("body", "field"), [
    ({"sink_type": "webhook", "webhook_url": "https://h.example.com/", "http_method": "GET"}, "http_method"),
    ({"sink_type": "webhook", "webhook_url": "https://u:p@h.example.com/"}, "webhook_url"),
    ({"sink_type": "webhook", "webhook_url": "https://h.example.com/", "timeout": 0}, "timeout"),
    ({"sink_type": "mqtt", "broker_host": "b", "topic": "factory/#"}, "topic"),
    ({"sink_type": "mqtt", "broker_host": "b", "topic": "factory/+/line"}, "topic"),
    ({"sink_type": "mqtt", "broker_host": "b", "topic": "t", "broker_port": 70000}, "broker_port"),
    ({"sink_type": "folder", "folder_path": "/o", "rate_limit": 0}, "rate_limit"),
    ({"sink_type": "folder", "folder_path": "/o", "rate_limit": -1}, "rate_limit"),
    ({"sink_type": "folder", "folder_path": "/o", "output_formats": ["predictions", "predictions"]},
     "output_formats"),
    ({"sink_type": "folder", "folder_path": "/o", "output_formats": ["video"]}, "output_formats"),
    ({"sink_type": "folder", "folder_path": "/o", "output_formats": []}, "output_formats"),
    ({"sink_type": "ros", "topic": "not a topic"}, "topic"),
    ({"sink_type": "folder", "folder_path": "/o", "colour": "red"}, "colour"),
])
def test_invalid_sink_settings_are_422_with_field_errors(client: TestClient, body: dict, field: str) -> None:
    response = create(client, "sink", {"name": "Out", **body})
    assert response.status_code == 422, response.text
    assert field in response.json["errors"] and response.json["detail"]
    assert listed(client, "sink") == []


@pytest.mark.parametrize("kind", KINDS)
def test_an_unknown_or_missing_type_is_422(client: TestClient, kind: str) -> None:
    for body in ({"name": "X", f"{kind}_type": "carrier_pigeon"}, {"name": "X"}):
        response = create(client, kind, body)
        assert response.status_code == 422, response.text
        assert f"{kind}_type" in response.json["errors"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_body_that_is_not_a_json_object_is_400(client: TestClient, kind: str) -> None:
    for body in ("{nope", "[]", "", '"a string"'):
        response = client.simulate_post(f"/api/{kind}s", body=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json["detail"]


@pytest.mark.parametrize("kind", KINDS)
def test_names_are_unique_among_a_kind_regardless_of_case(client: TestClient, kind: str) -> None:
    first = created(client, kind, name="Line 1")
    response = create(client, kind, {**EXAMPLE[kind], "name": "  line   1 "})
    assert response.status_code == 409
    assert "already exists" in response.json["detail"]
    assert listed(client, kind) == [first]


def test_a_source_and_a_sink_may_share_a_name(client: TestClient) -> None:
    created(client, "source", name="Line 1")
    created(client, "sink", name="Line 1")


@pytest.mark.parametrize("kind", KINDS)
def test_a_create_body_may_carry_its_own_id_once(client: TestClient, kind: str) -> None:
    own = "0b5d3c1e-8f65-4ac6-9d1d-2f5b6f0e7a11"
    assert created(client, kind, id=own)["id"] == own
    response = create(client, kind, {**EXAMPLE[kind], "id": own, "name": "Another"})
    assert response.status_code == 409


def test_the_caller_identity_is_recorded_with_each_change(client: TestClient, container: Container) -> None:
    source = create(client, "source", EXAMPLE["source"], **{"X-User": "ines@plant-3"}).json
    client.simulate_patch(f"/api/sources/{source['id']}", json={"loop": True})
    users = [event.user for event in container.store.history_of(UUID(source["id"]))]
    assert users == ["ines@plant-3", "anonymous"]


# Changing


@pytest.mark.parametrize("kind", KINDS)
def test_a_patch_changes_only_the_fields_it_names(client: TestClient, kind: str) -> None:
    resource = created(client, kind)
    change: dict[str, Any] = {"loop": True} if kind == "source" else {
        "timeout": 3, "output_formats": ["image_with_predictions"]}
    response = client.simulate_patch(f"/api/{kind}s/{resource['id']}", json=change)
    assert response.status_code == 200, response.text
    assert response.json == {**resource, **change}
    assert client.simulate_get(f"/api/{kind}s/{resource['id']}").json == response.json


@pytest.mark.parametrize("kind", KINDS)
def test_a_patch_repeating_the_type_is_fine_but_changing_it_is_400(client: TestClient, kind: str) -> None:
    resource = created(client, kind)
    url = f"/api/{kind}s/{resource['id']}"
    same = client.simulate_patch(url, json={f"{kind}_type": resource[f"{kind}_type"], "name": "Renamed"})
    assert same.status_code == 200 and same.json["name"] == "Renamed"
    other = {"source": "usb_camera", "sink": "folder"}[kind]
    changed = client.simulate_patch(url, json={f"{kind}_type": other})
    assert changed.status_code == 400
    assert "cannot change" in changed.json["detail"]
    assert client.simulate_get(url).json == same.json


@pytest.mark.parametrize("kind", KINDS)
def test_a_renamed_resource_frees_its_old_name(client: TestClient, kind: str) -> None:
    resource = created(client, kind, name="Line 1")
    renamed = client.simulate_patch(f"/api/{kind}s/{resource['id']}", json={"name": "Line 2"})
    assert renamed.status_code == 200 and renamed.json["name"] == "Line 2"
    assert created(client, kind, name="line 1")["name"] == "line 1"
    assert create(client, kind, {**EXAMPLE[kind], "name": "LINE 2"}).status_code == 409


@pytest.mark.parametrize("kind", KINDS)
def test_renaming_onto_a_taken_name_is_409_and_changes_nothing(client: TestClient, kind: str) -> None:
    first = created(client, kind, name="Line 1")
    second = created(client, kind, name="Line 2")
    response = client.simulate_patch(f"/api/{kind}s/{second['id']}", json={"name": "LINE 1", **(
        {"loop": True} if kind == "source" else {"timeout": 1})})
    assert response.status_code == 409
    assert listed(client, kind) == [first, second]


@pytest.mark.parametrize("kind", KINDS)
def test_a_patch_is_validated_like_a_create(client: TestClient, kind: str) -> None:
    resource = created(client, kind)
    url = f"/api/{kind}s/{resource['id']}"
    bad = {"source": {"loop": "sometimes"}, "sink": {"http_method": "GET"}}[kind]
    response = client.simulate_patch(url, json=bad)
    assert response.status_code == 422 and set(response.json["errors"]) == set(bad)
    assert client.simulate_patch(url, json={"unknown": 1}).status_code == 422
    assert client.simulate_patch(url, json={"id": "0b5d3c1e-8f65-4ac6-9d1d-2f5b6f0e7a11"}).status_code == 400
    assert client.simulate_get(url).json == resource


def test_an_ip_camera_cannot_be_given_credentials_by_patch_either(client: TestClient) -> None:
    camera = create(client, "source", SOURCES["ip_camera"][0]).json
    response = client.simulate_patch(f"/api/sources/{camera['id']}",
                                     json={"stream_url": "rtsp://admin:secret@10.0.0.7/stream"})
    assert response.status_code == 422 and "stream_url" in response.json["errors"]
    assert "secret" not in client.simulate_get(f"/api/sources/{camera['id']}").text


# Deleting


@pytest.mark.parametrize("kind", KINDS)
def test_a_deleted_resource_is_gone_and_its_name_free(client: TestClient, kind: str) -> None:
    resource = created(client, kind)
    url = f"/api/{kind}s/{resource['id']}"
    deleted = client.simulate_delete(url)
    assert deleted.status_code == 204 and not deleted.content
    for response in (client.simulate_get(url), client.simulate_delete(url),
                     client.simulate_patch(url, json={"name": "x"}), client.simulate_post(f"{url}:export")):
        assert response.status_code == 404 and response.json["detail"]
    assert listed(client, kind) == []
    assert created(client, kind)["id"] != resource["id"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_malformed_id_is_400_and_an_unknown_one_404(client: TestClient, kind: str) -> None:
    assert client.simulate_get(f"/api/{kind}s/not-a-uuid").status_code == 400
    assert client.simulate_get(f"/api/{kind}s/7c9e6679-7425-40de-944b-e07fc1f90ae7").status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_a_resource_used_by_a_pipeline_cannot_be_deleted(client: TestClient, project: dict, kind: str) -> None:
    resource = created(client, kind)
    url = f"/api/{kind}s/{resource['id']}"
    attach(client, project, kind, resource["id"])
    refused = client.simulate_delete(url)
    assert refused.status_code == 409
    assert "used by" in refused.json["detail"]
    assert client.simulate_get(url).json == resource
    attach(client, project, kind, None)
    assert client.simulate_delete(url).status_code == 204


@pytest.mark.parametrize("kind", KINDS)
def test_a_resource_in_use_can_still_be_reconfigured(client: TestClient, project: dict, kind: str) -> None:
    resource = created(client, kind)
    attach(client, project, kind, resource["id"])
    response = client.simulate_patch(f"/api/{kind}s/{resource['id']}", json={"name": "Still in use"})
    assert response.status_code == 200
    pipeline = client.simulate_get(f"/api/projects/{project['id']}/pipeline").json
    assert pipeline[kind]["name"] == "Still in use"


# Export and import


def export(client: TestClient, kind: str, resource_id: str) -> Result:
    response = client.simulate_post(f"/api/{kind}s/{resource_id}:export")
    assert response.status_code == 200, response.text
    return response


@pytest.mark.parametrize("kind", KINDS)
def test_export_is_a_yaml_attachment_of_the_config_without_its_id(client: TestClient, kind: str) -> None:
    resource = created(client, kind)
    response = export(client, kind, resource["id"])
    assert response.headers["content-type"].startswith("application/x-yaml")
    assert response.headers["content-disposition"].startswith("attachment")
    assert ".yaml" in response.headers["content-disposition"]
    assert yaml.safe_load(response.text) == without_id(resource)
    assert resource["id"] not in response.text


@pytest.mark.parametrize("source_type", SOURCES)
def test_every_source_type_round_trips_through_yaml(client: TestClient, source_type: str) -> None:
    original = create(client, "source", SOURCES[source_type][0]).json
    exported = export(client, "source", original["id"]).content
    assert client.simulate_delete(f"/api/sources/{original['id']}").status_code == 204
    imported = client.simulate_post("/api/sources:import", body=exported,
                                    headers={"Content-Type": "application/x-yaml"})
    assert imported.status_code == 201, imported.text
    assert imported.json["id"] != original["id"]
    assert without_id(imported.json) == without_id(original)
    assert imported.headers["location"] == f"/api/sources/{imported.json['id']}"


@pytest.mark.parametrize("sink_type", SINKS)
def test_every_sink_type_round_trips_through_yaml(client: TestClient, sink_type: str) -> None:
    body = {**SINKS[sink_type][0], "output_formats": ["image_with_predictions", "predictions"], "rate_limit": 2.5}
    original = create(client, "sink", body).json
    exported = export(client, "sink", original["id"]).content
    assert client.simulate_delete(f"/api/sinks/{original['id']}").status_code == 204
    imported = client.simulate_post("/api/sinks:import", body=exported)
    assert imported.status_code == 201, imported.text
    assert without_id(imported.json) == without_id(original)


EXPORTABLE = [*(("source", body) for body, _ in SOURCES.values()), *(("sink", body) for body, _ in SINKS.values())]


@pytest.mark.parametrize(("kind", "body"), EXPORTABLE)
def test_exporting_an_imported_config_writes_the_same_file(client: TestClient, kind: str, body: dict) -> None:
    original = create(client, kind, body)
    exported = export(client, kind, original.json["id"]).text
    client.simulate_delete(f"/api/{kind}s/{original.json['id']}")
    imported = client.simulate_post(f"/api/{kind}s:import", body=exported)
    assert imported.status_code == 201, imported.text
    assert export(client, kind, imported.json["id"]).text == exported
    assert imported.text.replace(imported.json["id"], "") == original.text.replace(original.json["id"], "")


@pytest.mark.parametrize("kind", KINDS)
def test_import_takes_the_yaml_as_a_multipart_file_too(client: TestClient, kind: str) -> None:
    original = created(client, kind, name="Line 1")
    exported = export(client, kind, original["id"]).content
    client.simulate_patch(f"/api/{kind}s/{original['id']}", json={"name": "Line 1 (old)"})
    body, headers = multipart(exported)
    imported = client.simulate_post(f"/api/{kind}s:import", body=body, headers=headers)
    assert imported.status_code == 201, imported.text
    assert without_id(imported.json) == without_id(original)
    assert [r["name"] for r in listed(client, kind)] == ["Line 1 (old)", "Line 1"]


@pytest.mark.parametrize("kind", KINDS)
def test_importing_a_config_whose_name_is_taken_is_409(client: TestClient, kind: str) -> None:
    original = created(client, kind)
    exported = export(client, kind, original["id"]).content
    assert client.simulate_post(f"/api/{kind}s:import", body=exported).status_code == 409
    assert listed(client, kind) == [original]


@pytest.mark.parametrize("kind", KINDS)
def test_an_imported_config_is_validated_like_a_create(client: TestClient, kind: str) -> None:
    document = {"source": "name: Gate\nsource_type: ip_camera\nstream_url: rtsp://u:p@cam/1\n",
                "sink": "name: Out\nsink_type: mqtt\nbroker_host: b\ntopic: 'line/#'\n"}[kind]
    response = client.simulate_post(f"/api/{kind}s:import", body=document.encode())
    assert response.status_code == 422
    assert {"source": "stream_url", "sink": "topic"}[kind] in response.json["errors"]
    assert listed(client, kind) == []


def test_a_multipart_form_without_a_file_field_is_400(client: TestClient) -> None:
    body, headers = multipart(b"name: Gate\nsource_type: usb_camera\n", field="config")
    response = client.simulate_post("/api/sources:import", body=body, headers=headers)
    assert response.status_code == 400 and "file" in response.json["detail"]


def billion_laughs(header: str) -> bytes:
    lines = [header, 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [{','.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines).encode()


def hostile_documents(kind: str, marker: Path) -> dict[str, bytes]:
    header = {"source": "name: Gate\nsource_type: usb_camera", "sink": "name: Out\nsink_type: ros\ntopic: /t"}[kind]
    return {
        "python object tag": f"{header}\ncodec: !!python/object/apply:os.system ['touch {marker}']\n".encode(),
        "python name tag": f"{header}\ncodec: !!python/name:os.system\n".encode(),
        "alias bomb": billion_laughs(header),
        "anchor and alias": f"base: &base {{name: Gate}}\n<<: *base\n{header.split(chr(10), 1)[1]}\n".encode(),
        "lone anchor": f"{header.replace('name: ', 'name: &n ', 1)}\n".encode(),
        "sequence": f"- {header.replace(chr(10), chr(10) + '  ')}\n".encode(),
        "scalar": b"just a string\n",
        "empty document": b"",
        "two documents": f"{header}\n---\n{header}\n".encode(),
        "broken syntax": f"{header}\nname: [unclosed\n".encode(),
        "latin-1 bytes": f"{header}\n".replace("Gate", "Caf\xe9").replace("Out", "Caf\xe9").encode("latin-1"),
        "utf-16": f"{header}\n".encode("utf-16"),
    }


HOSTILE = list(hostile_documents("source", Path("/x")))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_yaml_is_refused_and_nothing_is_stored(client: TestClient, container: Container, tmp_path: Path,
                                                       kind: str, hostile: str) -> None:
    marker = tmp_path / "pwned"
    document = hostile_documents(kind, marker)[hostile]
    before = container.store.max_position()
    for body, headers in ((document, {"Content-Type": "application/x-yaml"}), multipart(document)):
        response = client.simulate_post(f"/api/{kind}s:import", body=body, headers=headers)
        assert 400 <= response.status_code < 500, response.text
        assert response.json["detail"]
    assert container.store.max_position() == before and listed(client, kind) == []
    assert not marker.exists()


@pytest.mark.parametrize("kind", KINDS)
def test_deeply_nested_yaml_is_refused_with_a_4xx(client: TestClient, container: Container, kind: str) -> None:
    for document in (b"name: " + b"[" * 5000 + b"]" * 5000, b"name: " + b"{a: " * 3000 + b"1" + b"}" * 3000):
        response = client.simulate_post(f"/api/{kind}s:import", body=document)
        assert 400 <= response.status_code < 500, response.text
    assert container.store.max_position() == 0


@pytest.mark.parametrize("kind", KINDS)
def test_a_config_file_over_64_kib_is_413(client: TestClient, container: Container, kind: str) -> None:
    header = {"source": "name: Gate\nsource_type: usb_camera\n", "sink": "name: Out\nsink_type: ros\ntopic: /t\n"}
    document = header[kind].encode() + b"# padding\n" * (64 * 1024 // 10 + 1)
    assert len(document) > 64 * 1024
    raw = client.simulate_post(f"/api/{kind}s:import", body=document)
    assert raw.status_code == 413 and raw.json["detail"]
    body, headers = multipart(document)
    form = client.simulate_post(f"/api/{kind}s:import", body=body, headers=headers)
    assert form.status_code == 413 and form.json["detail"]
    assert container.store.max_position() == 0

    just_fits = header[kind].encode() + b"#" * (64 * 1024 - len(header[kind]))
    assert client.simulate_post(f"/api/{kind}s:import", body=just_fits).status_code == 201


@pytest.mark.parametrize("kind", KINDS)
def test_concurrent_creates_of_one_name_leave_exactly_one(client: TestClient, kind: str) -> None:
    spellings = ["Line 1", "line 1", "LINE 1", " Line  1 ", "line 1", "Line 1"]
    statuses = at_once(*(partial(create, client, kind, {**EXAMPLE[kind], "name": name}) for name in spellings))
    assert sorted(r.status_code for r in statuses) == [201] + [409] * (len(spellings) - 1)
    assert len(listed(client, kind)) == 1


def patch_status(client: TestClient, url: str, change: dict) -> int:
    return client.simulate_patch(url, json=change).status_code


@pytest.mark.parametrize("kind", KINDS)
def test_a_rename_racing_other_patches_of_the_same_resource_survives(client: TestClient, kind: str) -> None:
    resource = created(client, kind)
    url = f"/api/{kind}s/{resource['id']}"
    setting, value = {"source": ("video_path", "/videos/{}.mp4"), "sink": ("webhook_url", "http://h/{}")}[kind]
    for round_ in range(5):
        changes = [{"name": f"Renamed {round_}"}, *({setting: value.format(f"{round_}-{i}")} for i in range(5))]
        statuses = at_once(*(partial(patch_status, client, url, change) for change in changes))
        assert statuses == [200] * len(changes)
        final = client.simulate_get(url).json
        assert final["name"] == f"Renamed {round_}"
        assert final[setting] in {change.get(setting) for change in changes}
