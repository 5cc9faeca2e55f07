"""`viewfinder serve` as users run it: real processes, real HTTP, concurrency and crashes."""

import signal
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.e2e.conftest import Server


def _project(server: Server, name: str, labels: list[str]) -> dict:
    response = requests.post(f"{server.url}/api/projects", json={
        "name": name, "task": {"task_type": "detection", "labels": [{"name": n} for n in labels]}}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def test_concurrent_creates_of_one_name_let_exactly_one_win(server: Server) -> None:
    def create(i: int) -> int:
        return requests.post(f"{server.url}/api/sources", json={
            "name": "Dock camera", "source_type": "usb_camera", "device_id": i}, timeout=20).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(create, range(24)))
    assert sorted(set(statuses)) == [201, 409] and statuses.count(201) == 1
    assert len(requests.get(f"{server.url}/api/sources", timeout=5).json()) == 1


def test_concurrent_label_changes_to_one_project_lose_no_update(server: Server) -> None:
    project = _project(server, "Busy", ["base"])
    url = f"{server.url}/api/projects/{project['id']}/labels"

    def add(i: int) -> int:
        return requests.patch(url, json={"labels_to_add": [{"name": f"label-{i}", "hotkey": f"k{i}"}]},
                              headers={"X-User": f"user{i}"}, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(add, range(20)))
    assert statuses == [200] * 20
    names = {label["name"] for label in requests.get(f"{server.url}/api/projects/{project['id']}",
                                                     timeout=5).json()["task"]["labels"]}
    assert names == {"base", *(f"label-{i}" for i in range(20))}


def test_every_acknowledged_write_survives_a_sigkill(server: Server) -> None:
    acknowledged = [_project(server, f"Project {i}", ["a", "b"])["id"] for i in range(10)]
    renamed = requests.patch(f"{server.url}/api/projects/{acknowledged[0]}", json={"name": "Renamed"}, timeout=5)
    assert renamed.status_code == 200
    server.kill(signal.SIGKILL)
    server.start()
    listed = {p["id"]: p["name"] for p in requests.get(f"{server.url}/api/projects", timeout=5).json()}
    assert set(listed) == set(acknowledged)
    assert listed[acknowledged[0]] == "Renamed"
    after = _project(server, "After restart", ["x"])
    assert requests.get(f"{server.url}/api/projects/{after['id']}", timeout=5).status_code == 200
