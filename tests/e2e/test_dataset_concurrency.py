"""Many clients on a real `viewfinder serve` at once: every acknowledged write stays, none is lost."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from tests import images
from tests.e2e.conftest import Server

CLIENTS = 8
UPLOADS_PER_CLIENT = 3
SHARED_WRITES_PER_CLIENT = 4
ACKNOWLEDGED = (200, 201, 202)  # 202: saved, the read models catch up shortly


@dataclass
class ClientLog:
    """What one client sent and what the server answered."""

    statuses: list[int] = field(default_factory=list)
    own: dict[str, tuple[int, int]] = field(default_factory=dict)  # item id -> the box it last wrote
    shared: list[tuple[int, int]] = field(default_factory=list)  # acknowledged boxes on the shared item, in order


def box(label_id: str, client: int, step: int) -> dict[str, Any]:
    """A rectangle that says who wrote it and when: x is the client, y the step."""
    return {"labels": [{"id": label_id}],
            "shape": {"type": "rectangle", "x": client, "y": step, "width": 10, "height": 10}}


def signature(annotations: list[dict[str, Any]]) -> tuple[int, int]:
    [annotation] = annotations
    return int(annotation["shape"]["x"]), int(annotation["shape"]["y"])


def test_many_clients_uploading_and_annotating_lose_nothing(server: Server) -> None:
    project = requests.post(f"{server.url}/api/projects", json={"name": "Busy line", "task": {
        "task_type": "detection", "labels": [{"name": "nut"}, {"name": "bolt"}]}}, timeout=10).json()
    nut, bolt = (label["id"] for label in project["task"]["labels"])
    items = f"{server.url}/api/projects/{project['id']}/dataset/items"
    shared = requests.post(items, data=images.jpeg(width=128, height=128, seed=10_000),
                           headers={"Content-Type": "image/jpeg"}, timeout=10).json()["id"]

    def work(client: int) -> ClientLog:
        log, session = ClientLog(), requests.Session()
        session.headers["X-User"] = f"client{client}"
        for n in range(UPLOADS_PER_CLIENT):
            seed = client * 100 + n
            uploaded = session.post(items, data=images.jpeg(width=96, height=64, seed=seed),
                                    headers={"Content-Type": "image/jpeg"}, timeout=30)
            log.statuses.append(uploaded.status_code)
            if uploaded.status_code in ACKNOWLEDGED:
                item_id = uploaded.json()["id"]
                log.own[item_id] = (-1, -1)
                written = session.post(f"{items}/{item_id}/annotations", timeout=30,
                                       json={"annotations": [box(nut if n % 2 else bolt, client, n)]})
                log.statuses.append(written.status_code)
                if written.status_code in ACKNOWLEDGED:
                    log.own[item_id] = (client, n)
            wrote = session.post(f"{items}/{shared}/annotations", timeout=30,
                                 json={"annotations": [box(nut, client, n)]})
            log.statuses.append(wrote.status_code)
            if wrote.status_code in ACKNOWLEDGED:
                log.shared.append((client, n))
        for n in range(UPLOADS_PER_CLIENT, SHARED_WRITES_PER_CLIENT):
            wrote = session.post(f"{items}/{shared}/annotations", timeout=30,
                                 json={"annotations": [box(nut, client, n)]})
            log.statuses.append(wrote.status_code)
            if wrote.status_code in ACKNOWLEDGED:
                log.shared.append((client, n))
        return log

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        logs = list(pool.map(work, range(CLIENTS)))

    statuses = [status for log in logs for status in log.statuses]
    assert not [s for s in statuses if s >= 500], statuses
    assert set(statuses) <= {*ACKNOWLEDGED, 409}, statuses  # 409: an honest "try again" after many races
    uploads = {item_id: written for log in logs for item_id, written in log.own.items()}
    assert len(uploads) == CLIENTS * UPLOADS_PER_CLIENT  # parallel uploads never contend

    # Every acknowledged upload is listed, with the annotation its client wrote last.
    listed = requests.get(items, params={"limit": "1000", "with_annotations": "true"}, timeout=10).json()
    assert listed["pagination"]["total"] == len(uploads) + 1
    by_id = {item["id"]: item for item in listed["items"]}
    for item_id, written in uploads.items():
        if written != (-1, -1):
            assert signature(by_id[item_id]["annotations"]) == written

    # The shared item: each acknowledged write is one version of its history, in each client's order,
    # and what it shows now is the last version written.
    history = requests.get(f"{items}/{shared}/history", params={"limit": "1000"}, timeout=10).json()
    replaced = [entry for entry in history if entry["kind"] == "DatasetItem.AnnotationsReplaced"]
    versions = {signature(entry["data"]["annotations"]): entry["version"] for entry in replaced}
    acknowledged = [write for log in logs for write in log.shared]
    assert acknowledged, "no write to the shared item was acknowledged"
    assert sorted(versions) == sorted(acknowledged)  # nothing lost, nothing invented
    assert [entry["version"] for entry in history] == list(range(1, len(history) + 1))
    for log in logs:
        mine = [versions[write] for write in log.shared]
        assert mine == sorted(mine), "a client's later write landed before its earlier one"
        if log.shared:
            assert log.shared[-1] in versions
    final = requests.get(f"{items}/{shared}/annotations", timeout=10).json()
    assert signature(final["annotations"]) == signature(replaced[-1]["data"]["annotations"])
    assert final["version"] == replaced[-1]["version"] == len(history)
    latest = requests.get(f"{items}/{shared}/annotations", params={"version": str(final["version"])}, timeout=10).json()
    assert latest["annotations"] == final["annotations"]
