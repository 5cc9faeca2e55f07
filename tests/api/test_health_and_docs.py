"""Health, the OpenAPI document and its docs page, and the HTTP edge's handling of bad requests."""

import re
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from falcon import inspect
from falcon.testing import TestClient

from entrypoints.bootstrap import bootstrap
from entrypoints.config import Config
from entrypoints.engine import Engine
from entrypoints.http.app import create_app


def test_health_reports_every_part_ok_on_a_fresh_store(client: TestClient, config: Config) -> None:
    response = client.simulate_get("/api/health")
    assert response.status_code == 200
    health = response.json
    assert health["status"] == "ok"
    assert health["event_store"] == {"ok": True, "kind": "postgresql" if config.database_url else "sqlite",
                                     "position": 0}
    assert health["broker"] == {"ok": True, "kind": "embedded"}
    assert {"sources", "sinks", "projects", "pipelines"} <= set(health["read_models"]["lag"])
    assert set(health["read_models"]["lag"].values()) == {0}


def test_health_shows_no_read_model_lag_right_after_a_write(client: TestClient, project: dict) -> None:
    client.simulate_post("/api/sources", json={"name": "Gate", "source_type": "usb_camera"})
    health = client.simulate_get("/api/health").json
    assert health["event_store"]["position"] >= 4  # project, its name, its pipeline, the source, ...
    assert health["read_models"]["ok"] is True and health["read_models"]["max_lag"] == 0
    assert set(health["read_models"]["lag"].values()) == {0}


def test_health_shows_the_lag_of_read_models_that_fall_behind(config: Config) -> None:
    container = bootstrap(replace(config, consistency_timeout_s=0.05))  # no engine: nothing projects events
    try:
        client = TestClient(create_app(container))
        response = client.simulate_post("/api/sources", json={"name": "Gate", "source_type": "usb_camera"})
        assert response.status_code == 202  # saved, not yet visible: said honestly
        lag = client.simulate_get("/api/health").json["read_models"]["lag"]
        assert {"sources", "sinks", "projects", "pipelines"} <= set(lag)
        assert set(lag.values()) == {2}  # the source and its name claim
        engine = Engine(container).start_in_thread()
        try:
            assert caught_up(client)
        finally:
            engine.stop()
    finally:
        container.close()


def caught_up(client: TestClient, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if client.simulate_get("/api/health").json["read_models"]["max_lag"] == 0:
            return True
        time.sleep(0.01)
    return False


# The OpenAPI document


def normalised(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def app_routes(client: TestClient) -> dict[str, set[str]]:
    """Path (placeholders normalised) → HTTP methods the app answers, from Falcon's router."""
    routes: dict[str, set[str]] = {}
    for route in inspect.inspect_app(client.app).routes:
        methods = {m.method.lower() for m in route.methods if not m.internal}
        routes.setdefault(normalised(route.path), set()).update(methods)
    return routes


def test_openapi_is_an_openapi_3_document(client: TestClient) -> None:
    response = client.simulate_get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document = response.json
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] and document["info"]["version"]
    assert {"Error", "UsbCamera", "IpCamera", "VideoFile", "ImagesFolder", "FolderSink", "MqttSink",
            "WebhookSink", "RosSink"} <= set(document["components"]["schemas"])


def documented_routes(client: TestClient) -> dict[str, set[str]]:
    paths = client.simulate_get("/api/openapi.json").json["paths"]
    return {normalised(path): {m for m in operations if m in ("get", "post", "put", "patch", "delete")}
            for path, operations in paths.items()}


FOUNDATION_ROUTES = {
    **{route: methods for kind in ("sources", "sinks") for route, methods in {
        f"/api/{kind}": {"get", "post"}, f"/api/{kind}:import": {"post"},
        f"/api/{kind}/{{}}": {"get", "patch", "delete"}, f"/api/{kind}/{{}}:export": {"post"}}.items()},
    "/api/projects": {"get", "post"}, "/api/projects/{}": {"get", "patch", "delete"},
    "/api/projects/{}/labels": {"get", "patch"}, "/api/projects/{}/training_configuration": {"get", "patch"},
    "/api/projects/{}/pipeline": {"get", "patch"}, "/api/health": {"get"},
}


def test_openapi_documents_the_configuration_endpoints_the_app_serves(client: TestClient) -> None:
    served, documented = app_routes(client), documented_routes(client)
    for path, methods in FOUNDATION_ROUTES.items():
        assert methods <= served.get(path, set()), f"the app does not serve {path}"
        assert documented.get(path) == served[path], f"{path} is not documented with every method"


def test_openapi_documents_every_route_of_the_app_and_nothing_else(client: TestClient) -> None:
    served, documented = app_routes(client), documented_routes(client)
    for own in ("/api/openapi.json", "/api/docs"):  # the documentation itself need not be listed
        served.pop(own)
        documented.pop(own, None)
    undocumented = {path: sorted(methods - documented.get(path, set()))
                    for path, methods in served.items() if methods - documented.get(path, set())}
    assert undocumented == {}
    assert set(documented) <= set(served)


def test_openapi_describes_request_bodies_and_path_ids(client: TestClient) -> None:
    paths = client.simulate_get("/api/openapi.json").json["paths"]
    create_source = paths["/api/sources"]["post"]
    refs = [s["$ref"] for s in create_source["requestBody"]["content"]["application/json"]["schema"]["oneOf"]]
    assert refs == [f"#/components/schemas/{name}" for name in ("UsbCamera", "IpCamera", "VideoFile",
                                                                "ImagesFolder")]
    assert "201" in create_source["responses"] and "409" in create_source["responses"]
    assert "application/x-yaml" in paths["/api/sources:import"]["post"]["requestBody"]["content"]
    rename = paths["/api/projects/{project_id}"]["patch"]
    assert {"in": "path", "name": "project_id", "required": True,
            "schema": {"type": "string", "format": "uuid"}} in rename["parameters"]
    assert any(p["in"] == "header" and p["name"] == "X-User" for p in rename["parameters"])


def test_the_docs_page_is_served_with_its_assets_from_this_server(client: TestClient) -> None:
    page = client.simulate_get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not served locally"
        response = client.simulate_get(asset)
        assert response.status_code == 200, asset
        assert len(response.content) > 1000
    assert "/api/openapi.json" in page.text


def test_a_missing_docs_asset_is_404(client: TestClient) -> None:
    assert client.simulate_get("/api/docs/static/no-such-file.js").status_code == 404


# How the edge answers bad requests


def test_an_unknown_route_is_404_with_a_detail(client: TestClient) -> None:
    for path in ("/api/nowhere", "/api/projects/7c9e6679-7425-40de-944b-e07fc1f90ae7/nothing", "/"):
        response = client.simulate_get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/json")
        assert set(response.json) == {"detail"} and path in response.json["detail"]


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/api/projects"), ("DELETE", "/api/sources"), ("POST", "/api/health"),
    ("GET", "/api/sinks:import"), ("POST", "/api/projects/7c9e6679-7425-40de-944b-e07fc1f90ae7/pipeline")])
def test_a_method_a_route_does_not_serve_is_405_with_a_detail(client: TestClient, method: str, path: str) -> None:
    response = client.simulate_request(method, path)
    assert response.status_code == 405
    assert set(response.json) == {"detail"} and method in response.json["detail"]
    assert "allow" in response.headers


@pytest.mark.parametrize("user", ["bad user", "a/b", "x" * 101, "<script>", "ümlaut;drop"])
def test_a_malformed_caller_identity_is_400(client: TestClient, user: str) -> None:
    response = client.simulate_post("/api/sources", json={"name": "Gate", "source_type": "usb_camera"},
                                    headers={"X-User": user})
    assert response.status_code == 400
    assert "X-User" in response.json["detail"]
    assert client.simulate_get("/api/sources").json == []


def test_a_wellformed_caller_identity_is_accepted(client: TestClient) -> None:
    response = client.simulate_get("/api/health", headers={"X-User": "ines.marquez+ops@plant-3"})
    assert response.status_code == 200


@pytest.fixture
def small_body_client(config: Config) -> Iterator[TestClient]:
    """The full app, configured to refuse bodies over 1 KiB."""
    container = bootstrap(replace(config, max_body_bytes=1024))
    engine = Engine(container).start_in_thread()
    yield TestClient(create_app(container))
    engine.stop()
    container.close()


def test_a_body_over_the_configured_limit_is_413(small_body_client: TestClient) -> None:
    labels = [{"name": f"label {i}"} for i in range(60)]
    response = small_body_client.simulate_post("/api/projects", json={
        "name": "Big", "task": {"task_type": "detection", "labels": labels}})
    assert response.status_code == 413
    assert response.json["detail"]
    assert small_body_client.simulate_get("/api/projects").json == []
    small = small_body_client.simulate_post("/api/projects", json={
        "name": "Small", "task": {"task_type": "detection", "labels": labels[:3]}})
    assert small.status_code == 201


def test_an_oversize_yaml_import_is_413_under_the_body_limit_too(small_body_client: TestClient) -> None:
    document = b"name: Gate\nsource_type: usb_camera\n" + b"# padding\n" * 200
    response = small_body_client.simulate_post("/api/sources:import", body=document)
    assert response.status_code == 413 and response.json["detail"]


def test_a_json_body_over_one_mebibyte_is_413(client: TestClient) -> None:
    response = client.simulate_post("/api/projects", body=b'{"name": "' + b"x" * (1024 * 1024) + b'"}')
    assert response.status_code == 413 and response.json["detail"]
