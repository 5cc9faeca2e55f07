"""Dataset items over HTTP, on both persistence modes: upload, bytes, thumbnails, listing, deletion."""

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import urllib3
from falcon.testing import Result, TestClient

from entrypoints.bootstrap import Container, bootstrap
from entrypoints.config import Config
from entrypoints.engine import Engine
from entrypoints.http.app import create_app
from tests import images


def items_url(project: dict) -> str:
    return f"/api/projects/{project['id']}/dataset/items"


def upload(client: TestClient, project: dict, data: bytes | None = None, content_type: str = "image/png",
           seed: int = 0) -> Result:
    data = images.png(seed=seed) if data is None else data
    return client.simulate_post(items_url(project), body=data, headers={"Content-Type": content_type})


def uploaded(client: TestClient, project: dict, seed: int = 0) -> dict:
    response = upload(client, project, seed=seed)
    assert response.status_code == 201, response.text
    return response.json


def multipart(data: bytes, filename: str, content_type: str, field: str = "file") -> tuple[bytes, dict[str, str]]:
    body, form_type = urllib3.encode_multipart_formdata({field: (filename, data, content_type)})
    return body, {"Content-Type": form_type}


def listing(client: TestClient, project: dict, **params: Any) -> dict:
    response = client.simulate_get(items_url(project), params={k: str(v) for k, v in params.items()})
    assert response.status_code == 200, response.text
    return response.json


def ids(page: dict) -> list[str]:
    return [item["id"] for item in page["items"]]


def media_files(config: Config) -> set[Path]:
    root = config.data_dir / "media"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def zulu(moment: str, shift: timedelta = timedelta()) -> str:
    return (datetime.fromisoformat(moment) + shift).astimezone(UTC).isoformat().replace("+00:00", "Z")


def annotate(client: TestClient, project: dict, item: dict, label: str) -> None:
    label_id = next(lb["id"] for lb in project["task"]["labels"] if lb["name"] == label)
    response = client.simulate_post(f"{items_url(project)}/{item['id']}/annotations", json={"annotations": [
        {"labels": [{"id": label_id}], "shape": {"type": "rectangle", "x": 1, "y": 1, "width": 5, "height": 5}}]})
    assert response.status_code == 201, response.text


# Uploading every format


def test_every_format_uploaded_as_a_raw_body_comes_back_byte_for_byte(client: TestClient, project: dict) -> None:
    for seed, fmt in enumerate(images.FORMATS):
        data = images.encode(fmt, width=300, height=120, seed=seed)
        created = upload(client, project, data, images.CONTENT_TYPES[fmt])
        assert created.status_code == 201, (fmt, created.text)
        item = created.json
        assert (item["format"], item["width"], item["height"], item["size"]) == (fmt, 300, 120, len(data))
        assert (item["annotated"], item["tags"], item["subset"], item["source"]) == (False, [], "unassigned", "upload")
        assert created.headers["location"] == f"{items_url(project)}/{item['id']}"

        binary = client.simulate_get(f"{items_url(project)}/{item['id']}/binary")
        assert binary.status_code == 200 and binary.content == data, fmt
        assert binary.headers["content-type"] == images.CONTENT_TYPES[fmt]
        etag = binary.headers["etag"]
        again = client.simulate_get(f"{items_url(project)}/{item['id']}/binary", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        changed = client.simulate_get(f"{items_url(project)}/{item['id']}/binary", headers={"If-None-Match": '"x"'})
        assert changed.status_code == 200 and changed.content == data

        thumbnail = client.simulate_get(f"{items_url(project)}/{item['id']}/thumbnail")
        assert thumbnail.status_code == 200 and thumbnail.headers["content-type"] == "image/jpeg"
        assert thumbnail.content.startswith(b"\xff\xd8\xff")
        assert images.decode(thumbnail.content).shape[:2] == (102, 256), fmt
    assert listing(client, project)["pagination"]["total"] == len(images.FORMATS)


def test_a_conditional_get_matches_any_listed_weak_or_wildcard_etag(client: TestClient, project: dict) -> None:
    item = uploaded(client, project)
    binary = f"{items_url(project)}/{item['id']}/binary"
    etag = client.simulate_get(binary).headers["etag"]
    for condition in (f'"stale", {etag}', f"W/{etag}", "*"):
        response = client.simulate_get(binary, headers={"If-None-Match": condition})
        assert response.status_code == 304, condition


def test_a_multipart_upload_is_named_after_its_file_and_small_thumbnails_stay_small(client: TestClient, project: dict) -> None:
    for seed, fmt in enumerate(images.FORMATS):
        data = images.encode(fmt, width=40, height=30, seed=seed)
        body, headers = multipart(data, f"dock-camera-{fmt}.{fmt}", images.CONTENT_TYPES[fmt])
        created = client.simulate_post(items_url(project), body=body, headers=headers)
        assert created.status_code == 201, (fmt, created.text)
        assert created.json["name"] == f"dock-camera-{fmt}.{fmt}"
        assert (created.json["format"], created.json["width"], created.json["height"]) == (fmt, 40, 30)
        assert client.simulate_get(f"{items_url(project)}/{created.json['id']}/binary").content == data
        thumbnail = client.simulate_get(f"{items_url(project)}/{created.json['id']}/thumbnail")
        assert images.decode(thumbnail.content).shape[:2] == (30, 40)  # a thumbnail never enlarges
    named = client.simulate_post(items_url(project), body=images.png(seed=7), params={"name": "dock/cam 1.png"},
                                 headers={"Content-Type": "image/png"})
    assert named.status_code == 201 and named.json["name"] == "cam 1.png"  # a raw body is named by ?name=
    tall = upload(client, project, images.jpeg(width=100, height=600), "image/jpeg").json
    thumbnail = client.simulate_get(f"{items_url(project)}/{tall['id']}/thumbnail")
    assert max(images.decode(thumbnail.content).shape[:2]) == 256


# Refusals store nothing


REFUSED_UPLOADS = [  # (what, body, Content-Type, status)
    ("text", b"just some text, not pixels", "image/png", 415),
    ("a GIF", images.gif(), "image/gif", 415),
    ("a PNG sent as text/plain", images.png(seed=9), "text/plain", 415),
    ("a PNG without a Content-Type", images.png(seed=9), None, 415),
    ("an empty body", b"", "image/png", 415),
    ("a truncated JPEG", images.truncated(images.jpeg(seed=9)), "image/jpeg", 422),
    ("a truncated PNG", images.truncated(images.png(seed=9)), "image/png", 422),
    ("a PNG with a damaged chunk", images.corrupt_png(images.png(seed=9)), "image/png", 422),
    ("a 50000x50000 PNG header", images.png_declaring(50_000, 50_000), "image/png", 413),
]


def test_a_refused_upload_stores_nothing(client: TestClient, config: Config, project: dict) -> None:
    uploaded(client, project)
    files = media_files(config)
    for what, data, content_type, status in REFUSED_UPLOADS:
        headers = {"Content-Type": content_type} if content_type else {}
        response = client.simulate_post(items_url(project), body=data, headers=headers)
        assert response.status_code == status, (what, response.text)
        assert response.json["detail"], what
        body, form = multipart(data, "upload.bin", content_type or "application/octet-stream")
        if content_type not in (None, "text/plain"):  # a multipart file is judged by its bytes alone
            assert client.simulate_post(items_url(project), body=body, headers=form).status_code == status, what
    body, form = multipart(images.png(), "a.png", "image/png", field="image")
    assert client.simulate_post(items_url(project), body=body, headers=form).status_code == 400  # no 'file'
    assert listing(client, project)["pagination"]["total"] == 1
    assert media_files(config) == files


def test_an_upload_to_an_unknown_project_is_404_and_stores_nothing(client: TestClient, config: Config) -> None:
    response = upload(client, {"id": "00000000-0000-0000-0000-00000000abcd"})
    assert response.status_code == 404
    assert media_files(config) == set()
    assert client.simulate_get(items_url({"id": "00000000-0000-0000-0000-00000000abcd"})).status_code == 404


@pytest.fixture
def small_limits(config: Config) -> Iterator[tuple[TestClient, Config]]:
    """An app that takes at most 20,000 bytes and 10,000 pixels per image."""
    limited = dataclasses.replace(config, max_image_bytes=20_000, max_image_pixels=10_000)
    container = bootstrap(limited)
    engine = Engine(container).start_in_thread()
    yield TestClient(create_app(container)), limited
    engine.stop()
    container.close()


def test_images_over_the_configured_limits_are_413_and_store_nothing(
        small_limits: tuple[TestClient, Config]) -> None:
    client, config = small_limits
    project = client.simulate_post("/api/projects", json={
        "name": "Small", "task": {"task_type": "detection", "labels": [{"name": "nut"}]}}).json
    assert upload(client, project, images.png(width=100, height=100)).status_code == 201  # 10,000 pixels
    files = media_files(config)

    too_many_bytes = images.encode("bmp", width=100, height=100, seed=1)
    assert len(too_many_bytes) > 20_000
    response = upload(client, project, too_many_bytes, "image/bmp")
    assert response.status_code == 413 and "20000 bytes" in response.json["detail"]
    body, headers = multipart(too_many_bytes, "big.bmp", "image/bmp")
    assert client.simulate_post(items_url(project), body=body, headers=headers).status_code == 413

    too_many_pixels = images.jpeg(width=101, height=100, seed=2)
    assert len(too_many_pixels) < 20_000
    response = upload(client, project, too_many_pixels, "image/jpeg")
    assert response.status_code == 413 and "10100 pixels" in response.json["detail"]

    assert listing(client, project)["pagination"]["total"] == 1
    assert media_files(config) == files


# Listing


def test_items_are_listed_a_page_at_a_time(client: TestClient, project: dict) -> None:
    created = [uploaded(client, project, seed=i)["id"] for i in range(5)]
    first = listing(client, project, limit=2)
    assert ids(first) == created[:2]
    assert first["pagination"] == {"offset": 0, "limit": 2, "count": 2, "total": 5}
    last = listing(client, project, offset=4, limit=2)
    assert ids(last) == created[4:] and last["pagination"] == {"offset": 4, "limit": 2, "count": 1, "total": 5}
    assert listing(client, project, offset=10)["pagination"] == {"offset": 10, "limit": 100, "count": 0, "total": 5}
    assert ids(listing(client, project, sort="-created_at")) == created[::-1]
    assert ids(listing(client, project, sort="-created_at", limit=1000)) == created[::-1]
    for bad in ({"limit": 0}, {"limit": 1001}, {"limit": "ten"}, {"offset": -1}, {"sort": "name"},
                {"annotated": "maybe"}, {"labels": "not-an-id"}, {"subset": "holdout"}):
        response = client.simulate_get(items_url(project), params=bad)
        assert response.status_code == 400, (bad, response.text)
        assert response.json["detail"]


def test_items_are_filtered_by_annotation_label_tag_and_subset(client: TestClient, container: Container,
                                                               project: dict) -> None:
    plain, nut, bolt, tagged = (uploaded(client, project, seed=i) for i in range(4))
    annotate(client, project, nut, "nut")
    annotate(client, project, bolt, "bolt")
    response = client.simulate_patch(f"/api/projects/{project['id']}/dataset/items/tags",
                                     json={"items": [tagged["id"], nut["id"]], "add": ["dock"]})
    assert response.status_code == 200, response.text
    nut_id, bolt_id = (label["id"] for label in project["task"]["labels"])

    assert ids(listing(client, project, annotated="true")) == [nut["id"], bolt["id"]]
    assert ids(listing(client, project, annotated="false")) == [plain["id"], tagged["id"]]
    assert ids(listing(client, project, labels=nut_id)) == [nut["id"]]
    assert ids(listing(client, project, labels=f"{nut_id},{bolt_id}")) == [nut["id"], bolt["id"]]
    assert ids(listing(client, project, tags="dock")) == [nut["id"], tagged["id"]]
    assert ids(listing(client, project, tags="dock", annotated="false")) == [tagged["id"]]
    assert ids(listing(client, project, tags="night")) == []

    item = container.dataset.item(UUID(project["id"]), UUID(plain["id"]))
    item.assign_subset("training", "split", "tester")  # as dataset preparation will
    assert container.projector.wait_for(container.store.commit(item), 10)
    assert ids(listing(client, project, subset="training")) == [plain["id"]]
    assert len(ids(listing(client, project, subset="unassigned"))) == 3
    assert listing(client, project, subset="training")["items"][0]["subset"] == "training"


def test_items_are_filtered_by_creation_time(client: TestClient, project: dict) -> None:
    created = [uploaded(client, project, seed=i) for i in range(3)]
    middle = created[1]["created_at"]
    assert ids(listing(client, project, created_after=zulu(middle))) == [c["id"] for c in created[1:]]
    assert ids(listing(client, project, created_before=zulu(middle))) == [created[0]["id"]]
    between = listing(client, project, created_after=zulu(middle), created_before=zulu(created[2]["created_at"]))
    assert ids(between) == [created[1]["id"]]
    assert ids(listing(client, project, created_after=zulu(middle, timedelta(days=1)))) == []
    assert len(ids(listing(client, project, created_before=zulu(middle, timedelta(days=1))))) == 3
    for bad in ("yesterday", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00"):  # the last one has no zone
        response = client.simulate_get(items_url(project), params={"created_after": bad})
        assert response.status_code == 400, (bad, response.text)


def test_a_creation_time_filter_in_another_time_zone_means_the_same_instant(client: TestClient,
                                                                           project: dict) -> None:
    item = uploaded(client, project)
    an_hour_before = datetime.fromisoformat(item["created_at"]) - timedelta(hours=1)
    in_karachi = an_hour_before.astimezone(timezone(timedelta(hours=5))).isoformat()
    assert ids(listing(client, project, created_after=in_karachi)) == [item["id"]]


def test_with_annotations_inlines_named_annotations(client: TestClient, project: dict) -> None:
    item = uploaded(client, project)
    annotate(client, project, item, "bolt")
    plain = listing(client, project)["items"][0]
    assert "annotations" not in plain and plain["annotated"] is True
    inlined = listing(client, project, with_annotations="true")["items"][0]
    [annotation] = inlined["annotations"]
    assert [(label["name"], label["color"]) for label in annotation["labels"]] == [
        ("bolt", project["task"]["labels"][1]["color"])]
    assert annotation["shape"] == {"type": "rectangle", "x": 1, "y": 1, "width": 5, "height": 5}
    assert inlined["user_reviewed"] is True
    single = client.simulate_get(f"{items_url(project)}/{item['id']}", params={"with_annotations": "true"}).json
    assert single == inlined


# One item


def test_an_item_is_read_by_id_within_its_project_only(client: TestClient, project: dict) -> None:
    item = uploaded(client, project)
    assert client.simulate_get(f"{items_url(project)}/{item['id']}").json == item
    assert listing(client, project)["items"] == [item]
    other = client.simulate_post("/api/projects", json={
        "name": "Shelf", "task": {"task_type": "detection", "labels": [{"name": "can"}]}}).json
    for path in ("", "/binary", "/thumbnail", "/annotations", "/tags"):
        assert client.simulate_get(f"{items_url(other)}/{item['id']}{path}").status_code == 404, path
        assert client.simulate_get(f"{items_url(project)}/not-a-uuid{path}").status_code == 400, path
    assert client.simulate_delete(f"{items_url(other)}/{item['id']}").status_code == 404
    assert listing(client, project)["pagination"]["total"] == 1


def test_a_deleted_item_leaves_lists_and_views_but_keeps_its_history(client: TestClient, project: dict) -> None:
    kept, gone = uploaded(client, project, seed=1), uploaded(client, project, seed=2)
    annotate(client, project, gone, "nut")
    views = f"/api/projects/{project['id']}/dataset/views"
    view = client.simulate_post(views, json={"name": "Everything"}).json
    client.simulate_post(f"{views}/{view['id']}/items", json={"items": [kept["id"], gone["id"]]})

    response = client.simulate_delete(f"{items_url(project)}/{gone['id']}", headers={"X-User": "dora"})
    assert response.status_code == 204 and response.content == b""

    assert ids(listing(client, project)) == [kept["id"]]
    assert ids(listing(client, project, annotated="true")) == []
    assert client.simulate_get(f"{views}/{view['id']}").json["item_count"] == 1
    assert ids(client.simulate_get(f"{views}/{view['id']}/items").json) == [kept["id"]]
    for path in ("", "/binary", "/thumbnail", "/annotations", "/tags"):
        assert client.simulate_get(f"{items_url(project)}/{gone['id']}{path}").status_code == 404, path
    assert client.simulate_delete(f"{items_url(project)}/{gone['id']}").status_code == 404
    refused = client.simulate_post(f"{items_url(project)}/{gone['id']}/annotations", json={"annotations": []})
    assert refused.status_code == 404

    history = client.simulate_get(f"{items_url(project)}/{gone['id']}/history")
    assert history.status_code == 200
    assert [(e["kind"], e["version"]) for e in history.json] == [
        ("DatasetItem.Created", 1), ("DatasetItem.AnnotationsReplaced", 2), ("DatasetItem.Deleted", 3)]
    assert history.json[-1]["user"] == "dora"
    assert client.simulate_get(f"{items_url(project)}/{kept['id']}/binary").status_code == 200
