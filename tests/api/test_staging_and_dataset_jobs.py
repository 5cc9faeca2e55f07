"""The staging area and the dataset jobs over HTTP, on both persistence modes: uploads and hostile archives,
preparing each of the five formats, round trips through export and import, imports into an existing project,
progress and log lines, and failures part-way.

Every image and dataset is generated here: projects are filled through the API, archives are either exported
by Viewfinder itself or written by hand (COCO JSON, crafted zip entries).
"""

import io
import json
import stat
import struct
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from uuid import UUID

import cv2
import numpy as np
import pytest
import urllib3
from falcon.testing import Result, TestClient

from entrypoints.bootstrap import Container, bootstrap
from entrypoints.config import Config
from entrypoints.engine import Engine
from entrypoints.http.app import create_app

TERMINAL = ("done", "failed", "cancelled")
UNKNOWN_ID = "0b6c8f7e-3f2a-4f63-9d0e-2f8c1a7d5e41"
ZIP = {"Content-Type": "application/zip"}
TOLERANCE_PX = 0.01


# --- generated images and archives ----------------------------------------------------------------------


def jpeg(seed: int, width: int = 64, height: int = 48) -> bytes:
    """A small JPEG whose pixels (hence bytes and hash) depend on the seed."""
    rng = np.random.default_rng(seed)
    picture = np.full((height, width, 3), (seed * 37) % 256, dtype=np.uint8)
    picture[: height // 2, : width // 2] = rng.integers(0, 256, (height // 2, width // 2, 3), dtype=np.uint8)
    ok, data = cv2.imencode(".jpg", picture)
    assert ok
    return bytes(data.tobytes())


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_with(entries: Iterable[tuple[zipfile.ZipInfo, bytes]]) -> bytes:
    """A zip of hand-made entries (names, modes and compression exactly as given)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return buffer.getvalue()


def entry(name: str, mode: int = stat.S_IFREG | 0o644, compress: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.create_system, info.external_attr, info.compress_type = 3, mode << 16, compress
    return info


@cache
def zip_of_empty_files(count: int) -> bytes:
    """`count` empty stored files, written directly (zipfile takes seconds for 100,000 entries); ZIP64 end."""
    local, central = bytearray(), bytearray()
    for number in range(count):
        name = f"f{number}".encode()
        offset = len(local)
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0x21, 0, 0, 0, len(name), 0) + name
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x0314, 20, 0, 0, 0, 0x21, 0, 0, 0, len(name),
                               0, 0, 0, 0, (stat.S_IFREG | 0o644) << 16, offset) + name
    end64_at = len(local) + len(central)
    end64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, len(central), len(local))
    locator = struct.pack("<IIQI", 0x07064B50, 0, end64_at, 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return bytes(local + central + end64 + locator + end)


def zip_with_a_lying_header(real_size: int = 3 * 1024**2, declared_size: int = 1000) -> bytes:
    """One entry that declares `declared_size` bytes (too small for the ratio check) but inflates further."""
    data = b"\0" * real_size
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = compressor.compress(data) + compressor.flush()
    name, crc = b"annotations.json", zlib.crc32(data)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(payload), declared_size,
                        len(name), 0) + name + payload
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x0314, 20, 0, 8, 0, 0x21, crc, len(payload),
                          declared_size, len(name), 0, 0, 0, 0, (stat.S_IFREG | 0o644) << 16, 0) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(local), 0)
    return local + central + end


def coco_archive(images: dict[str, bytes], categories: list[tuple[int, str]],
                 annotations: list[tuple[str, int, dict[str, Any]]], folder: str = "",
                 sizes: dict[str, tuple[int, int]] | None = None, listed: Iterable[str] | None = None) -> bytes:
    """A hand-written COCO dataset: `images/<name>` and `annotations.json`, optionally inside a folder.

    `annotations` are (image name, category id, geometry) with geometry {"bbox": [...]} or {"segmentation": ...};
    `listed` names the images of the JSON (default: every image given).
    """
    names = list(listed if listed is not None else images)
    ids = {name: number for number, name in enumerate(names, start=1)}
    sizes = sizes or {}
    document = {
        "info": {"description": "hand-written"}, "licenses": [],
        "categories": [{"id": cid, "name": name, "supercategory": ""} for cid, name in categories],
        "images": [{"id": ids[name], "file_name": name, "width": sizes.get(name, (64, 48))[0],
                    "height": sizes.get(name, (64, 48))[1]} for name in names],
        "annotations": [{"id": number, "image_id": ids[name], "category_id": cid, "iscrowd": 0, **geometry}
                        for number, (name, cid, geometry) in enumerate(annotations, start=1)],
    }
    prefix = f"{folder}/" if folder else ""
    files = {f"{prefix}images/{name}": data for name, data in images.items()}
    files[f"{prefix}annotations.json"] = json.dumps(document).encode()
    return zip_of(files)


# --- the API, as a client sees it ---------------------------------------------------------------------


def stage(client: TestClient, data: bytes, headers: dict[str, str] = ZIP) -> dict[str, Any]:
    response = client.simulate_post("/api/staged_datasets", body=data, headers=headers)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/api/staged_datasets/{response.json['id']}"
    return response.json


def staged(client: TestClient, staged_id: str) -> dict[str, Any]:
    response = client.simulate_get(f"/api/staged_datasets/{staged_id}")
    assert response.status_code == 200, response.text
    return response.json


def staged_after_job(client: TestClient, staged_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """The staged dataset that a finished job wrote, prepared or invalidated (waits briefly for its read model;
    since the jobs projection runs last it should not have to: see the PostgreSQL story at the end)."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.simulate_get(f"/api/staged_datasets/{staged_id}")
        if response.status_code == 200 and response.json["status"] != "uploaded":
            return response.json
        assert time.monotonic() < deadline, f"staged dataset {staged_id}: {response.status_code} {response.text}"
        time.sleep(0.01)


def submit(client: TestClient, job_type: str, project_id: str | None = None, **parameters: Any) -> Result:
    body: dict[str, Any] = {"job_type": job_type, "parameters": parameters}
    if project_id is not None:
        body["project_id"] = project_id
    return client.simulate_post("/api/jobs", json=body)


def wait_for_job(client: TestClient, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = client.simulate_get(f"/api/jobs/{job_id}").json
        if job["status"] in TERMINAL:
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['status']} after {timeout} s: {job}"
        time.sleep(0.03)  # the worker shares this process (and its GIL) with the test


def submitted(client: TestClient, job_type: str, project_id: str | None = None, **parameters: Any) -> str:
    """Submit a job that must be accepted (202); return its id."""
    response = submit(client, job_type, project_id, **parameters)
    assert response.status_code == 202, response.text
    return str(response.json["id"])


def run_job(client: TestClient, job_type: str, project_id: str | None = None, **parameters: Any) -> dict[str, Any]:
    """Submit (202), wait until the job ends; return its final JSON."""
    return wait_for_job(client, submitted(client, job_type, project_id, **parameters))


def succeeded(job: dict[str, Any]) -> dict[str, Any]:
    assert job["status"] == "done", job
    return job["result"]


def log_events(client: TestClient, job_id: str) -> list[tuple[str, str]]:
    """(event, data) of the job's log stream, read whole (the job has ended, so the stream ends too)."""
    response = client.simulate_get(f"/api/jobs/{job_id}/logs")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = []
    for block in response.text.split("\n\n"):
        fields = [line.partition(": ") for line in block.splitlines() if line and not line.startswith(":")]
        if fields:
            kind = next((value for key, _, value in fields if key == "event"), "message")
            events.append((kind, "\n".join(value for key, _, value in fields if key == "data")))
    return events


def log_lines(client: TestClient, job_id: str) -> list[str]:
    return [data for kind, data in log_events(client, job_id) if kind == "log"]


def download(client: TestClient, staged_id: str) -> bytes:
    response = client.simulate_get(f"/api/staged_datasets/{staged_id}/archive")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return response.content


def create_project(client: TestClient, name: str, task_type: str, labels: list[dict[str, Any]],
                   exclusive: bool = False) -> dict[str, Any]:
    response = client.simulate_post("/api/projects", json={
        "name": name, "task": {"task_type": task_type, "exclusive_labels": exclusive, "labels": labels}})
    assert response.status_code == 201, response.text
    return response.json


def label_ids(project: dict[str, Any]) -> dict[str, str]:
    return {label["name"]: label["id"] for label in project["task"]["labels"]}


def upload_item(client: TestClient, project: dict[str, Any], data: bytes, name: str) -> dict[str, Any]:
    response = client.simulate_post(f"/api/projects/{project['id']}/dataset/items", body=data,
                                    headers={"Content-Type": "image/jpeg"}, params={"name": name})
    assert response.status_code == 201, response.text
    return response.json


def annotate(client: TestClient, project: dict[str, Any], item: dict[str, Any],
             annotations: list[tuple[list[str], dict[str, Any]]]) -> None:
    ids = label_ids(project)
    body = {"annotations": [{"labels": [{"id": ids[name]} for name in names], "shape": shape}
                            for names, shape in annotations]}
    response = client.simulate_post(f"/api/projects/{project['id']}/dataset/items/{item['id']}/annotations",
                                    json=body)
    assert response.status_code == 201, response.text


def get_project(client: TestClient, project_id: str) -> dict[str, Any]:
    response = client.simulate_get(f"/api/projects/{project_id}")
    assert response.status_code == 200, response.text
    return response.json


def project_named(client: TestClient, name: str) -> dict[str, Any] | None:
    return next((p for p in client.simulate_get("/api/projects").json if p["name"] == name), None)


def items_of(client: TestClient, project_id: str) -> list[dict[str, Any]]:
    response = client.simulate_get(f"/api/projects/{project_id}/dataset/items",
                                   params={"with_annotations": "true", "limit": "1000"})
    assert response.status_code == 200, response.text
    return response.json["items"]


def item_bytes(client: TestClient, project_id: str, item_id: str) -> bytes:
    response = client.simulate_get(f"/api/projects/{project_id}/dataset/items/{item_id}/binary")
    assert response.status_code == 200, response.text
    return response.content


@dataclass
class Snapshot:
    """What a project's dataset holds, keyed by item name, with label names instead of ids."""

    task_type: str
    labels: list[str]
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    views: dict[str, set[str]] = field(default_factory=dict)


def snapshot(client: TestClient, project_id: str) -> Snapshot:
    project = get_project(client, project_id)
    shot = Snapshot(project["task"]["task_type"], [label["name"] for label in project["task"]["labels"]])
    for item in items_of(client, project_id):
        assert item["name"] not in shot.items, f"two items named {item['name']}"
        shot.items[item["name"]] = {
            "bytes": item_bytes(client, project_id, item["id"]), "subset": item["subset"],
            "tags": sorted(item["tags"]), "annotated": item["annotated"], "size": (item["width"], item["height"]),
            "annotations": [(sorted(label["name"] for label in a["labels"]), a["shape"]) for a in item["annotations"]]}
    base = f"/api/projects/{project_id}/dataset/views"
    for view in client.simulate_get(base).json:
        members = client.simulate_get(f"{base}/{view['id']}/items", params={"limit": "1000"}).json["items"]
        shot.views[view["name"]] = {member["name"] for member in members}
    return shot


def coordinates(shape: dict[str, Any]) -> list[float]:
    if shape["type"] == "rectangle":
        return [shape["x"], shape["y"], shape["width"], shape["height"]]
    if shape["type"] == "polygon":
        return [value for point in shape["points"] for value in (point["x"], point["y"])]
    return []


def assert_same_shapes(actual: list[tuple[list[str], dict]], expected: list[tuple[list[str], dict]],
                       where: str) -> None:
    """The same labelled shapes in any order, coordinates within TOLERANCE_PX."""
    def key(annotation: tuple[list[str], dict]) -> tuple:
        names, shape = annotation
        return (names, shape["type"], [round(v) for v in coordinates(shape)])

    assert len(actual) == len(expected), f"{where}: {actual} != {expected}"
    for (got_labels, got), (want_labels, want) in zip(sorted(actual, key=key), sorted(expected, key=key)):
        assert got_labels == want_labels and got["type"] == want["type"], f"{where}: {got_labels} {got} != {want}"
        assert coordinates(got) == pytest.approx(coordinates(want), abs=TOLERANCE_PX), f"{where}: {got} != {want}"


def assert_same_dataset(actual: Snapshot, expected: Snapshot, where: str = "", *,
                        subsets_and_tags: bool = False) -> None:
    """Same task, labels (in order), item names, image bytes and labelled shapes; optionally subsets and tags."""
    assert (actual.task_type, actual.labels) == (expected.task_type, expected.labels), where
    assert sorted(actual.items) == sorted(expected.items), where
    for name, want in expected.items.items():
        got = actual.items[name]
        assert got["bytes"] == want["bytes"], f"{where} {name}: the image bytes differ"
        assert got["size"] == want["size"], f"{where} {name}"
        assert_same_shapes(got["annotations"], want["annotations"], f"{where} {name}")
        if subsets_and_tags:
            assert (got["subset"], got["tags"], got["annotated"]) == (
                want["subset"], want["tags"], want["annotated"]), f"{where} {name}"


# --- generated projects -----------------------------------------------------------------------------------

SHAPES: dict[str, list[list[tuple[list[str], dict[str, Any]]]]] = {
    "detection": [
        [(["nut"], {"type": "rectangle", "x": 1.25, "y": 2.5, "width": 20.75, "height": 10})],
        [(["bolt"], {"type": "rectangle", "x": 0, "y": 0, "width": 64, "height": 48}),
         (["nut"], {"type": "rectangle", "x": 30.33, "y": 12.67, "width": 15.5, "height": 20.01})],
        [(["nut"], {"type": "rectangle", "x": 40, "y": 30, "width": 24, "height": 18})],
    ],
    "instance_segmentation": [
        [(["nut"], {"type": "polygon", "points": [{"x": 1.5, "y": 2.25}, {"x": 30.75, "y": 4}, {"x": 12, "y": 40.5}]})],
        [(["bolt"], {"type": "polygon", "points": [{"x": 0, "y": 0}, {"x": 64, "y": 0}, {"x": 64, "y": 48},
                                                   {"x": 0, "y": 48}]}),
         (["nut"], {"type": "polygon", "points": [{"x": 33.33, "y": 10.1}, {"x": 50.9, "y": 20.2},
                                                  {"x": 40.05, "y": 47.99}]})],
        [(["bolt"], {"type": "polygon", "points": [{"x": 60, "y": 40}, {"x": 63, "y": 47}, {"x": 58.5, "y": 47}]})],
    ],
    "classification": [
        [(["nut"], {"type": "full_image"})],
        [(["bolt"], {"type": "full_image"})],
        [(["nut"], {"type": "full_image"})],
    ],
}


def generated_project(client: TestClient, task_type: str, name: str = "Source", seed: int = 0) -> dict[str, Any]:
    """Three annotated images and one without annotations, on labels 'nut' and 'bolt'."""
    project = create_project(client, name, task_type, [{"name": "nut", "color": "#ff8800", "hotkey": "n"},
                                                       {"name": "bolt", "color": "#0088ff"}],
                             exclusive=task_type == "classification")
    annotated: list[list[tuple[list[str], dict[str, Any]]] | None] = [*SHAPES[task_type], None]
    for number, annotations in enumerate(annotated):
        item = upload_item(client, project, jpeg(seed + number), f"part_{number}.jpg")
        if annotations is not None:
            annotate(client, project, item, annotations)
    return project


def imported(client: TestClient, staged_id: str, name: str, **parameters: Any) -> dict[str, Any]:
    return succeeded(run_job(client, "import_dataset_as_new_project", staged_dataset_id=staged_id, name=name,
                             **parameters))


# --- staging: uploads, downloads, deletion ------------------------------------------------------------------


def test_a_zip_sent_as_the_raw_body_or_as_multipart_file_is_staged_listed_and_downloaded_byte_for_byte(
        client: TestClient) -> None:
    raw_archive, form_archive = zip_of({"notes.txt": b"not a dataset yet"}), zip_of({"images/a.jpg": jpeg(1)})
    body, form_type = urllib3.encode_multipart_formdata({
        "comment": "from a browser form", "file": ("dataset.zip", form_archive, "application/zip")})

    raw = stage(client, raw_archive)
    form = stage(client, body, {"Content-Type": form_type})

    for uploaded, archive in ((raw, raw_archive), (form, form_archive)):
        assert uploaded["status"] == "uploaded" and uploaded["size"] == len(archive)
        assert uploaded["format"] is None and uploaded["metadata"] == {} and uploaded["error"] is None
        assert staged(client, uploaded["id"]) == uploaded
        response = client.simulate_get(f"/api/staged_datasets/{uploaded['id']}/archive")
        assert response.status_code == 200 and response.content == archive
        assert response.headers["content-type"] == "application/zip"
        assert response.headers["content-disposition"].startswith("attachment")
    assert [s["id"] for s in client.simulate_get("/api/staged_datasets").json] == [form["id"], raw["id"]]
    no_file, no_file_type = urllib3.encode_multipart_formdata({"comment": "forgot the file"})
    missing = client.simulate_post("/api/staged_datasets", body=no_file, headers={"Content-Type": no_file_type})
    assert missing.status_code == 400 and "file" in missing.json["detail"]


def test_deleting_a_staged_dataset_removes_it_and_its_folder(client: TestClient, config: Config) -> None:
    uploaded = stage(client, zip_of({"a.txt": b"a"}))
    folder = config.data_dir / "staging" / uploaded["id"]
    assert (folder / "archive.zip").is_file()

    assert client.simulate_delete(f"/api/staged_datasets/{uploaded['id']}").status_code == 204

    assert client.simulate_get(f"/api/staged_datasets/{uploaded['id']}").status_code == 404
    assert client.simulate_get(f"/api/staged_datasets/{uploaded['id']}/archive").status_code == 404
    assert client.simulate_delete(f"/api/staged_datasets/{uploaded['id']}").status_code == 404
    assert client.simulate_get("/api/staged_datasets").json == []
    assert not folder.exists()
    assert submit(client, "prepare_dataset_for_import", staged_dataset_id=uploaded["id"]).status_code == 404


def test_a_body_that_is_not_a_zip_is_415_and_a_file_that_is_not_one_is_staged_invalid(client: TestClient,
                                                                                        config: Config) -> None:
    wrong_type = client.simulate_post("/api/staged_datasets", body=b"hello", headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415 and "zip" in wrong_type.json["detail"]
    assert client.simulate_get("/api/staged_datasets").json == []

    uploaded = stage(client, b"%PDF-1.7 this is a document, not an archive")

    assert uploaded["status"] == "invalid"
    assert "The file is not a readable zip archive" in uploaded["error"]
    assert client.simulate_get(f"/api/staged_datasets/{uploaded['id']}/archive").status_code == 404
    assert not list((config.data_dir / "staging" / uploaded["id"]).glob("*"))
    refused = submit(client, "prepare_dataset_for_import", staged_dataset_id=uploaded["id"])
    assert refused.status_code == 409 and "invalid" in refused.json["detail"]


def hostile_archives(tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    """Kind of attack → (archive, a fragment of the error it must get)."""
    deep = "../" * 4  # from data/staging/<id>/unpacked up to tmp_path
    return {
        "zip-slip": (zip_of({"images/a.jpg": jpeg(1), f"{deep}evil.txt": b"owned", "../evil.txt": b"owned"}),
                     "climbs out of the archive's folder with '..'"),
        "absolute path": (zip_with([(entry(str(tmp_path / "evil.txt")), b"owned")]), "has an absolute path"),
        "symbolic link": (zip_with([(entry("link", stat.S_IFLNK | 0o777), b"/etc"),
                                    (entry("images/evil.txt"), b"owned")]), "is a symbolic link"),
        "bomb by ratio": (zip_with([(entry("annotations.json"), b"\0" * (4 * 1024**2))]), "looks like a zip bomb"),
        "too many files": (zip_of_empty_files(100_001), "holds 100001 entries; at most 100000"),
    }


def test_hostile_archives_are_staged_invalid_with_a_readable_error_and_nothing_is_written_outside_staging(
        client: TestClient, config: Config, tmp_path: Path) -> None:
    outside_before = {p for p in tmp_path.rglob("*") if "staging" not in p.parts}

    for kind, (archive, error) in hostile_archives(tmp_path).items():
        uploaded = stage(client, archive)

        assert uploaded["status"] == "invalid", kind
        assert error in uploaded["error"], (kind, uploaded["error"])
        assert not list((config.data_dir / "staging" / uploaded["id"]).glob("*")), kind  # no archive, no unpacked/
        for job_type, extra in (("prepare_dataset_for_import", {}), ("import_dataset_as_new_project", {"name": "X"})):
            refused = submit(client, job_type, staged_dataset_id=uploaded["id"], **extra)
            assert refused.status_code == 409 and error in refused.json["detail"], (kind, refused.text)
    assert not list(tmp_path.rglob("evil.txt")) and not Path("/tmp/evil.txt").exists()
    new_outside = {p for p in tmp_path.rglob("*") if "staging" not in p.parts} - outside_before
    assert all(p == config.data_dir or p.parent == config.data_dir for p in new_outside), new_outside  # databases
    assert client.simulate_get("/api/jobs").json == []


def test_an_archive_whose_header_lies_about_its_size_is_refused_while_unpacking_leaving_nothing(
        client: TestClient, config: Config) -> None:
    uploaded = stage(client, zip_with_a_lying_header())
    assert uploaded["status"] == "uploaded"  # its central directory looks harmless

    job = run_job(client, "prepare_dataset_for_import", staged_dataset_id=uploaded["id"])

    assert job["status"] == "failed"
    assert "'annotations.json' does not match its header" in job["error"], job["error"]
    now = staged_after_job(client, uploaded["id"])
    assert now["status"] == "invalid" and now["error"] == job["error"]
    folder = config.data_dir / "staging" / uploaded["id"]
    assert sorted(p.name for p in folder.iterdir()) == ["archive.zip"]  # no unpacked/ and no half-written temp


# --- preparing and round trips in the five formats -----------------------------------------------------------

FORMATS_OF_TASK = {
    "detection": ("coco", "yolo", "voc", "datumaro", "viewfinder"),
    "instance_segmentation": ("coco", "yolo", "datumaro", "viewfinder"),  # VOC holds boxes only
    "classification": ("coco", "voc", "datumaro", "viewfinder"),  # YOLO holds no image-level labels
}


@pytest.mark.parametrize("task_type", list(FORMATS_OF_TASK))
def test_exports_in_every_format_are_detected_when_prepared_and_import_as_the_same_dataset(
        client: TestClient, task_type: str) -> None:
    source = generated_project(client, task_type)
    expected = snapshot(client, source["id"])
    formats = FORMATS_OF_TASK[task_type]
    exports = {f: submitted(client, "export_dataset", source["id"], format=f) for f in formats}
    uploads = {}
    for dataset_format, job_id in exports.items():
        result = succeeded(wait_for_job(client, job_id))
        exported = staged_after_job(client, result["staged_dataset_id"])
        assert (exported["origin"], exported["format"], exported["status"]) == ("export", dataset_format, "ready")
        uploads[dataset_format] = stage(client, download(client, result["staged_dataset_id"]))

    prepares = {f: submitted(client, "prepare_dataset_for_import", staged_dataset_id=uploads[f]["id"])
                for f in formats}

    for dataset_format, job_id in prepares.items():
        assert succeeded(wait_for_job(client, job_id))["format"] == dataset_format
        ready = staged_after_job(client, uploads[dataset_format]["id"])
        assert (ready["status"], ready["format"]) == ("ready", dataset_format)
        assert {key: ready["metadata"][key] for key in ("num_images", "num_annotations", "labels")} == {
            "num_images": 4, "num_annotations": 3 if task_type == "classification" else 4,
            "labels": ["nut", "bolt"]}, dataset_format
    imports = {f: submitted(client, "import_dataset_as_new_project", staged_dataset_id=uploads[f]["id"],
                            name=f"Copy in {f}") for f in formats}
    for dataset_format, job_id in imports.items():
        result = succeeded(wait_for_job(client, job_id))
        assert (result["format"], result["items"], result["skipped_items"]) == (dataset_format, 4, 0)
        assert_same_dataset(snapshot(client, result["project_id"]), expected, dataset_format)


def test_an_export_is_checked_at_submission(client: TestClient) -> None:
    classification = create_project(client, "Kinds", "classification", [{"name": "a"}, {"name": "b"}], True)
    segmentation = create_project(client, "Outlines", "instance_segmentation", [{"name": "a"}])
    detection = create_project(client, "Boxes", "detection", [{"name": "a"}])
    view = client.simulate_post(f"/api/projects/{segmentation['id']}/dataset/views", json={"name": "Mine"}).json

    cases = {
        "yolo/classification": (classification, {"format": "yolo"}, 422, "yolo format cannot hold classification"),
        "voc/polygons": (segmentation, {"format": "voc"}, 422, "voc format cannot hold instance_segmentation"),
        "another project's view": (detection, {"format": "coco", "view_id": view["id"]}, 404, view["id"]),
        "a revision": (detection, {"format": "coco", "revision_id": UNKNOWN_ID}, 422, "revision_id"),
        "an unknown format": (detection, {"format": "pascal"}, 422, "format"),
    }
    for case, (project, parameters, status, detail) in cases.items():
        response = submit(client, "export_dataset", project["id"], **parameters)
        assert response.status_code == status and detail in response.text, (case, response.text)
    assert submit(client, "export_dataset", UNKNOWN_ID, format="coco").status_code == 404
    assert submit(client, "stage_dataset").status_code == 422
    assert client.simulate_get("/api/jobs").json == []


def test_a_hand_written_coco_archive_in_a_folder_is_detected_validated_and_imported(client: TestClient) -> None:
    images = {"cam1/a.jpg": jpeg(1), "cam1/b.jpg": jpeg(2), "c.jpg": jpeg(3, 80, 60)}
    archive = coco_archive(images, [(7, "scratch"), (3, "dent")], [
        ("cam1/a.jpg", 7, {"bbox": [4, 5.5, 10, 12.25]}),
        ("cam1/a.jpg", 3, {"bbox": [30, 20, 35, 27]}),  # overshoots the 64-px width by one pixel: clamped
        ("c.jpg", 3, {"bbox": [0.5, 0.5, 79, 59]}),
    ], folder="inspection-2024", sizes={"c.jpg": (80, 60)})
    uploaded = stage(client, archive)

    prepared = run_job(client, "prepare_dataset_for_import", staged_dataset_id=uploaded["id"])

    assert succeeded(prepared)["format"] == "coco"
    ready = staged_after_job(client, uploaded["id"])
    assert ready["status"] == "ready" and ready["format"] == "coco"
    assert {key: ready["metadata"][key] for key in ("num_images", "num_annotations", "labels")} == {
        "num_images": 3, "num_annotations": 3, "labels": ["scratch", "dent"]}
    result = imported(client, uploaded["id"], "Inspection")
    project = snapshot(client, result["project_id"])
    assert project.task_type == "detection" and project.labels == ["scratch", "dent"]
    assert {name: item["bytes"] for name, item in project.items.items()} == images
    assert_same_shapes(project.items["cam1/a.jpg"]["annotations"], [
        (["scratch"], {"type": "rectangle", "x": 4, "y": 5.5, "width": 10, "height": 12.25}),
        (["dent"], {"type": "rectangle", "x": 30, "y": 20, "width": 34, "height": 27})], "cam1/a.jpg")
    assert_same_shapes(project.items["c.jpg"]["annotations"], [
        (["dent"], {"type": "rectangle", "x": 0.5, "y": 0.5, "width": 79, "height": 59})], "c.jpg")
    assert project.items["cam1/b.jpg"]["annotations"] == [] and not project.items["cam1/b.jpg"]["annotated"]
    assert project.items["c.jpg"]["size"] == (80, 60)


BROKEN_COCO: dict[str, tuple[dict[str, Any], str]] = {
    "a missing image": ({"listed": ["a.jpg", "gone.jpg"]}, "images/gone.jpg is missing"),
    "an image outside the dataset": ({"listed": ["a.jpg", "../../../../etc/hostname"]}, "points outside the dataset"),
    "an annotation outside the image": ({"annotations": [("a.jpg", 1, {"bbox": [100, 100, 10, 10]})]},
                                        "lies outside the image"),
    "an undeclared category": ({"annotations": [("a.jpg", 9, {"bbox": [1, 1, 10, 10]})]},
                               "category_id 9 is not one of the file's categories"),
    "a size that is not the image's": ({"sizes": {"a.jpg": (640, 480)}}, "the image is 64x48"),
}


def test_broken_datasets_fail_preparation_with_a_readable_error_and_are_staged_invalid(client: TestClient) -> None:
    jobs = {}
    for problem, (changes, _) in BROKEN_COCO.items():
        arguments: dict[str, Any] = {"annotations": [("a.jpg", 1, {"bbox": [1, 1, 10, 10]})], **changes}
        uploaded = stage(client, coco_archive({"a.jpg": jpeg(1)}, [(1, "nut")], **arguments))
        jobs[problem] = (uploaded["id"], submitted(client, "prepare_dataset_for_import",
                                                   staged_dataset_id=uploaded["id"]))

    for problem, (staged_id, job_id) in jobs.items():
        error = BROKEN_COCO[problem][1]
        job = wait_for_job(client, job_id)
        assert job["status"] == "failed" and error in job["error"], (problem, job)
        assert job["error"].startswith("annotations.json") and "/staging/" not in job["error"], job["error"]
        now = staged_after_job(client, staged_id)
        assert now["status"] == "invalid" and now["error"] == job["error"], problem
        assert f"Failed: {job['error']}" in log_lines(client, job_id)
        refused = submit(client, "import_dataset_as_new_project", staged_dataset_id=staged_id, name="Broken")
        assert refused.status_code == 409 and error in refused.json["detail"], problem


def test_importing_a_broken_dataset_without_preparing_it_fails_before_any_project_is_created(
        client: TestClient) -> None:
    archive = coco_archive({"a.jpg": jpeg(1), "b.jpg": jpeg(2)}, [(1, "nut")],
                           [("a.jpg", 1, {"bbox": [1, 1, 10, 10]}), ("b.jpg", 1, {"bbox": [60, 1, 30, 10]})])
    uploaded = stage(client, archive)

    job = run_job(client, "import_dataset_as_new_project", staged_dataset_id=uploaded["id"], name="Half")

    assert job["status"] == "failed" and "lies outside the image" in job["error"]
    assert staged_after_job(client, uploaded["id"])["status"] == "invalid"
    assert client.simulate_get("/api/projects").json == []


# --- round trips that keep everything: Viewfinder's own format, staging, views ---------------------------------


@pytest.fixture
def rich_project(client: TestClient, container: Container) -> dict[str, Any]:
    """Detection: subsets, tags, two views (one empty), an unannotated item and one reviewed as empty."""
    project = generated_project(client, "detection", "Rich")
    extra = upload_item(client, project, jpeg(50), "empty_belt.jpg")
    annotate(client, project, extra, [])  # reviewed: nothing to see
    items = {item["name"]: item for item in items_of(client, project["id"])}
    base = f"/api/projects/{project['id']}/dataset"
    tagged = client.simulate_patch(f"{base}/items/tags", json={
        "items": [items["part_0.jpg"]["id"], items["part_3.jpg"]["id"]], "add": ["night", "blurry"]})
    assert tagged.status_code == 200, tagged.text
    for name, subset in (("part_0.jpg", "training"), ("part_1.jpg", "validation"), ("part_2.jpg", "testing")):
        # No HTTP route assigns subsets yet (dataset preparation will); this is the command imports use.
        container.dataset.assign_subset(UUID(project["id"]), UUID(items[name]["id"]), subset, "split", "tester")
    night = client.simulate_post(f"{base}/views", json={"name": "Night shift"}).json
    added = client.simulate_post(f"{base}/views/{night['id']}/items", json={
        "items": [items["part_0.jpg"]["id"], items["part_3.jpg"]["id"]]})
    assert added.status_code in (200, 201), added.text
    assert client.simulate_post(f"{base}/views", json={"name": "To review"}).status_code == 201
    deadline = time.monotonic() + 10
    while client.simulate_get(f"{base}/items/{items['part_2.jpg']['id']}").json["subset"] != "testing":
        assert time.monotonic() < deadline, "the subsets never reached the read model"
        time.sleep(0.01)
    return project


def test_the_viewfinder_format_keeps_labels_tags_subsets_views_and_unannotated_items(
        client: TestClient, rich_project: dict[str, Any]) -> None:
    source = snapshot(client, rich_project["id"])
    exported = succeeded(run_job(client, "export_dataset", rich_project["id"], format="viewfinder"))
    uploaded = stage(client, download(client, staged_after_job(client, exported["staged_dataset_id"])["id"]))

    result = imported(client, uploaded["id"], "Rich copy")

    copy = snapshot(client, result["project_id"])
    assert_same_dataset(copy, source, "viewfinder", subsets_and_tags=True)
    assert copy.views == source.views == {"Night shift": {"part_0.jpg", "part_3.jpg"}, "To review": set()}
    assert copy.items["part_3.jpg"]["annotated"] is False and copy.items["part_0.jpg"]["tags"] == ["blurry", "night"]
    assert copy.items["empty_belt.jpg"]["annotated"] is True and copy.items["empty_belt.jpg"]["annotations"] == []
    assert [copy.items[f"part_{n}.jpg"]["subset"] for n in range(4)] == [
        "training", "validation", "testing", "unassigned"]
    original, twin = get_project(client, rich_project["id"])["task"], get_project(client, result["project_id"])["task"]
    assert [(label["name"], label["color"], label["hotkey"]) for label in twin["labels"]] == [
        (label["name"], label["color"], label["hotkey"]) for label in original["labels"]]
    assert twin["exclusive_labels"] == original["exclusive_labels"]


def test_a_project_staged_in_its_own_format_imports_elsewhere_as_the_same_dataset(
        client: TestClient, rich_project: dict[str, Any]) -> None:
    result = succeeded(run_job(client, "stage_dataset", rich_project["id"]))

    copy = staged_after_job(client, result["staged_dataset_id"])
    assert (copy["status"], copy["format"], copy["origin"]) == ("ready", "viewfinder", "stage")
    assert copy["project_id"] == rich_project["id"] and copy["metadata"]["num_images"] == 5
    elsewhere = imported(client, result["staged_dataset_id"], "Elsewhere")
    assert_same_dataset(snapshot(client, elsewhere["project_id"]), snapshot(client, rich_project["id"]),
                        "stage_dataset", subsets_and_tags=True)


def test_exporting_or_staging_a_view_takes_only_its_items(client: TestClient, rich_project: dict[str, Any]) -> None:
    views = client.simulate_get(f"/api/projects/{rich_project['id']}/dataset/views").json
    night = next(view for view in views if view["name"] == "Night shift")

    for job_type, parameters in (("export_dataset", {"format": "coco"}), ("stage_dataset", {})):
        result = succeeded(run_job(client, job_type, rich_project["id"], view_id=night["id"], **parameters))

        assert staged_after_job(client, result["staged_dataset_id"])["metadata"]["num_images"] == 2, job_type
        names = zipfile.ZipFile(io.BytesIO(download(client, result["staged_dataset_id"]))).namelist()
        assert sorted(Path(n).name for n in names if n.endswith(".jpg")) == ["part_0.jpg", "part_3.jpg"], names
        elsewhere = imported(client, result["staged_dataset_id"], f"Night only via {job_type}")
        assert sorted(snapshot(client, elsewhere["project_id"]).items) == ["part_0.jpg", "part_3.jpg"]


# --- importing into an existing project -------------------------------------------------------------------------


def mixed_labels_archive() -> bytes:
    """Labels 'NUT' (matches 'nut' by name), 'screw' and 'washer'; d.jpg has no annotation."""
    images = {"a.jpg": jpeg(11), "b.jpg": jpeg(12), "c.jpg": jpeg(13), "d.jpg": jpeg(14)}
    return coco_archive(images, [(1, "NUT"), (2, "screw"), (3, "washer")], [
        ("a.jpg", 1, {"bbox": [1, 2, 10, 11]}),
        ("b.jpg", 2, {"bbox": [3, 4, 12, 13]}),
        ("b.jpg", 3, {"bbox": [20, 20, 5, 5]}),
        ("c.jpg", 3, {"bbox": [5, 6, 14, 15]}),
    ])


def test_importing_into_an_existing_project_maps_labels_by_id_by_name_or_drops_them(
        client: TestClient, project: dict) -> None:
    ids = label_ids(project)
    uploaded = stage(client, mixed_labels_archive())

    job = run_job(client, "import_dataset_to_existing_project", project["id"], staged_dataset_id=uploaded["id"],
                  labels_mapping={"screw": ids["bolt"], "washer": None})

    result = succeeded(job)
    assert result["project_id"] == project["id"] and result["format"] == "coco"
    assert (result["items"], result["annotations"], result["skipped_annotations"]) == (4, 2, 2)
    items = snapshot(client, project["id"]).items
    assert sorted(items) == ["a.jpg", "b.jpg", "c.jpg", "d.jpg"]
    assert_same_shapes(items["a.jpg"]["annotations"],
                       [(["nut"], {"type": "rectangle", "x": 1, "y": 2, "width": 10, "height": 11})], "a.jpg")
    assert_same_shapes(items["b.jpg"]["annotations"],
                       [(["bolt"], {"type": "rectangle", "x": 3, "y": 4, "width": 12, "height": 13})], "b.jpg")
    assert items["c.jpg"]["annotations"] == [] and items["d.jpg"]["annotations"] == []
    assert not items["d.jpg"]["annotated"]
    assert [label["name"] for label in get_project(client, project["id"])["task"]["labels"]] == ["nut", "bolt"]
    lines = log_lines(client, job["id"])
    assert "Dataset label 'washer' maps to no project label; its annotations are dropped." in lines


def test_include_unannotated_false_leaves_images_without_annotations_out(client: TestClient, project: dict) -> None:
    uploaded = stage(client, mixed_labels_archive())

    result = succeeded(run_job(client, "import_dataset_to_existing_project", project["id"],
                               staged_dataset_id=uploaded["id"], include_unannotated=False))

    assert result["items"] == 3
    assert sorted(snapshot(client, project["id"]).items) == ["a.jpg", "b.jpg", "c.jpg"]


def test_an_import_into_an_existing_project_is_checked_at_submission(client: TestClient, project: dict) -> None:
    other = create_project(client, "Other line", "detection", [{"name": "nut"}])
    uploaded = stage(client, mixed_labels_archive())
    invalid = stage(client, b"not a zip")
    job_type = "import_dataset_to_existing_project"

    foreign_label = submit(client, job_type, project["id"], staged_dataset_id=uploaded["id"],
                           labels_mapping={"screw": label_ids(other)["nut"]})
    unknown_staged = submit(client, job_type, project["id"], staged_dataset_id=UNKNOWN_ID)
    unknown_project = submit(client, job_type, UNKNOWN_ID, staged_dataset_id=uploaded["id"])
    invalid_staged = submit(client, job_type, project["id"], staged_dataset_id=invalid["id"])
    no_project = submit(client, job_type, staged_dataset_id=uploaded["id"])

    assert foreign_label.status_code == 422, foreign_label.text
    assert "labels_mapping" in foreign_label.text and label_ids(other)["nut"] in foreign_label.json["detail"]
    assert unknown_staged.status_code == 404 and UNKNOWN_ID in unknown_staged.json["detail"]
    assert unknown_project.status_code == 404, unknown_project.text
    assert invalid_staged.status_code == 409 and "invalid" in invalid_staged.json["detail"]
    assert no_project.status_code == 422 and "project_id" in no_project.text
    for other_type, extra in (("prepare_dataset_for_import", {}), ("import_dataset_as_new_project", {"name": "N"})):
        assert submit(client, other_type, staged_dataset_id=UNKNOWN_ID, **extra).status_code == 404
    assert client.simulate_get("/api/jobs").json == []


def test_annotations_the_project_task_cannot_take_are_skipped_with_a_log_line(client: TestClient,
                                                                              project: dict) -> None:
    polygons = coco_archive({"a.jpg": jpeg(1), "b.jpg": jpeg(2)}, [(1, "nut")], [
        ("a.jpg", 1, {"segmentation": [[1, 1, 20, 1, 10, 20]]}), ("b.jpg", 1, {"bbox": [1, 1, 5, 5]})])
    uploaded = stage(client, polygons)

    job = run_job(client, "import_dataset_to_existing_project", project["id"], staged_dataset_id=uploaded["id"])

    result = succeeded(job)
    assert (result["items"], result["annotations"], result["skipped_annotations"]) == (2, 1, 1)
    assert any(line.startswith("a.jpg: annotations skipped") and "polygon" in line
               for line in log_lines(client, job["id"]))
    items = snapshot(client, project["id"]).items
    assert items["a.jpg"]["annotations"] == [] and len(items["b.jpg"]["annotations"]) == 1


# --- progress, log lines, failures part-way -----------------------------------------------------------------------


def watch(client: TestClient, job_id: str, until: Callable[[dict], bool] = lambda job: job["status"] in TERMINAL,
          timeout: float = 30.0) -> list[dict[str, Any]]:
    """Every distinct (status, progress, message) of the job seen by polling, until `until` holds."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not seen or not until(seen[-1]):
        assert time.monotonic() < deadline, f"job {job_id}: {seen[-1:]}"
        job = client.simulate_get(f"/api/jobs/{job_id}").json
        if not seen or [job[k] for k in ("status", "progress", "message")] != [
                seen[-1][k] for k in ("status", "progress", "message")]:
            seen.append(job)
        time.sleep(0.005)
    return seen


def test_dataset_jobs_report_rising_progress_to_100_and_stream_a_log_line_per_step(client: TestClient) -> None:
    count = 40
    images = {f"frame_{n:02}.jpg": jpeg(100 + n) for n in range(count)}
    uploaded = stage(client, coco_archive(images, [(1, "nut")],
                                          [(name, 1, {"bbox": [2, 2, 20, 20]}) for name in images]))
    prepare = run_job(client, "prepare_dataset_for_import", staged_dataset_id=uploaded["id"])
    job_id = submitted(client, "import_dataset_as_new_project", staged_dataset_id=uploaded["id"], name="Frames")

    states = watch(client, job_id)

    progress = [state["progress"] for state in states]
    assert progress == sorted(progress) and progress[-1] == 100 and states[-1]["status"] == "done"
    assert any(0 < p < 100 for p in progress), progress
    assert any(state["message"].startswith("Importing image ") and state["message"].endswith(f" of {count}")
               for state in states), [state["message"] for state in states]
    events = log_events(client, job_id)
    assert events[-1] == ("end", "end")
    lines = [data for kind, data in events if kind == "log"]
    project_id = states[-1]["result"]["project_id"]
    assert lines[0].startswith("Attempt 1 of import_dataset_as_new_project started on ")
    assert f"Created project {project_id} (detection, 1 labels) from coco." in lines
    assert lines[-1] == "Finished."
    assert f"Detected coco: {count} images, {count} annotations, labels nut." in log_lines(client, prepare["id"])
    export_job = run_job(client, "export_dataset", project_id, format="yolo")
    staged_id = succeeded(export_job)["staged_dataset_id"]
    assert f"Exported {count} images in yolo format as staged dataset {staged_id}." in log_lines(
        client, export_job["id"])


def assert_consistent(client: TestClient, project_id: str, images: dict[str, bytes]) -> None:
    """Every listed item has its original bytes, and annotations that fit its image and the project's labels."""
    known = {label["id"] for label in get_project(client, project_id)["task"]["labels"]}
    for item in items_of(client, project_id):
        assert item_bytes(client, project_id, item["id"]) == images[item["name"]]
        for annotation in item["annotations"]:
            assert {label["id"] for label in annotation["labels"]} <= known
            values = coordinates(annotation["shape"])
            if annotation["shape"]["type"] == "rectangle":
                values = [values[0], values[1], values[0] + values[2], values[1] + values[3]]
            assert all(0 <= x <= item["width"] for x in values[0::2]), annotation
            assert all(0 <= y <= item["height"] for y in values[1::2]), annotation


def test_a_corrupt_image_is_skipped_with_a_log_line_and_the_rest_is_imported(client: TestClient) -> None:
    good = {"a.jpg": jpeg(1), "c.jpg": jpeg(3)}
    broken = jpeg(2)[:300]  # the header (and so the size) is intact; the picture is cut off
    archive = coco_archive({**good, "b.jpg": broken}, [(1, "nut")],
                           [(name, 1, {"bbox": [1, 1, 10, 10]}) for name in ("a.jpg", "b.jpg", "c.jpg")])
    uploaded = stage(client, archive)
    assert succeeded(run_job(client, "prepare_dataset_for_import", staged_dataset_id=uploaded["id"]))

    job = run_job(client, "import_dataset_as_new_project", staged_dataset_id=uploaded["id"], name="Partly broken")

    result = succeeded(job)
    assert (result["items"], result["skipped_items"], result["annotations"]) == (2, 1, 2)
    assert any(line.startswith("b.jpg: skipped (") and "corrupt" in line for line in log_lines(client, job["id"]))
    assert sorted(snapshot(client, result["project_id"]).items) == ["a.jpg", "c.jpg"]
    assert_consistent(client, result["project_id"], good)


def test_an_import_cancelled_part_way_leaves_a_consistent_project(client: TestClient) -> None:
    count = 150
    images = {f"frame_{n:03}.jpg": jpeg(200 + n) for n in range(count)}
    uploaded = stage(client, coco_archive(images, [(1, "nut")],
                                          [(name, 1, {"bbox": [2, 2, 20, 20]}) for name in images]))
    job_id = submitted(client, "import_dataset_as_new_project", staged_dataset_id=uploaded["id"], name="Stopped")
    watch(client, job_id, lambda job: job["progress"] > 15 or job["status"] in TERMINAL)

    assert client.simulate_post(f"/api/jobs/{job_id}:cancel").status_code == 202

    job = wait_for_job(client, job_id)
    assert job["status"] == "cancelled", job
    project = project_named(client, "Stopped")
    assert project is not None
    items = items_of(client, project["id"])
    assert 0 < len(items) < count
    assert_consistent(client, project["id"], images)
    assert sum(not item["annotated"] for item in items) <= 1  # at most the one caught between its two commands


# --- once bugs, now stories ----------------------------------------------------------------------------------


def test_preparing_and_importing_a_fresh_upload_at_the_same_time_both_succeed(client: TestClient) -> None:
    base = io.BytesIO(coco_archive({"a.jpg": jpeg(1), "b.jpg": jpeg(2)}, [(1, "nut")],
                                   [("a.jpg", 1, {"bbox": [1, 1, 5, 5]})]))
    with zipfile.ZipFile(base, "a") as archive:  # a large extra file keeps the unpacking busy for a while
        archive.writestr(entry("survey/recording.mp4", compress=zipfile.ZIP_STORED),
                         np.random.default_rng(0).bytes(24 * 1024**2))
    for attempt in range(6):
        uploaded = stage(client, base.getvalue())
        with ThreadPoolExecutor(2) as pool:  # submitted together, as a client that does not wait would
            prepare = pool.submit(submitted, client, "prepare_dataset_for_import", staged_dataset_id=uploaded["id"])
            load = pool.submit(submitted, client, "import_dataset_as_new_project", staged_dataset_id=uploaded["id"],
                               name=f"Together {attempt}")
        jobs = [wait_for_job(client, future.result()) for future in (prepare, load)]
        assert [job["status"] for job in jobs] == ["done", "done"], [job["error"] for job in jobs]


def test_a_classification_dataset_with_a_single_label_imports_as_a_new_project(client: TestClient) -> None:
    archive = coco_archive({"ok.jpg": jpeg(1), "unsure.jpg": jpeg(2)}, [(1, "defect")], [("ok.jpg", 1, {})])
    uploaded = stage(client, archive)

    job = run_job(client, "import_dataset_as_new_project", staged_dataset_id=uploaded["id"], name="Defects")

    result = succeeded(job)
    copy = snapshot(client, result["project_id"])
    assert copy.task_type == "classification" and copy.labels == ["defect"]
    assert copy.items["ok.jpg"]["annotations"] == [(["defect"], {"type": "full_image"})]


@pytest.fixture
def postgres_client(postgres_database: str, tmp_path: Path) -> Iterator[TestClient]:
    """The full app on a PostgreSQL database of its own (for a bug only PostgreSQL's timing shows)."""
    container = bootstrap(Config(data_dir=tmp_path / "data", database_url=postgres_database,
                                 consistency_timeout_s=10.0, engine_poll_interval_s=0.005))
    engine = Engine(container).start_in_thread()
    yield TestClient(create_app(container))
    engine.stop()
    container.close()


@pytest.mark.postgres
def test_the_staged_dataset_of_a_finished_job_is_visible_as_soon_as_the_job_is_done(
        postgres_client: TestClient) -> None:
    client = postgres_client
    project = create_project(client, "Line", "detection", [{"name": "nut"}])
    for _ in range(10):
        job_id = submitted(client, "stage_dataset", project["id"])
        while (job := client.simulate_get(f"/api/jobs/{job_id}").json)["status"] not in TERMINAL:
            pass

        response = client.simulate_get(f"/api/staged_datasets/{job['result']['staged_dataset_id']}")

        assert response.status_code == 200 and response.json["status"] == "ready", response.text
