"""Jobs over HTTP in both broker modes: the embedded StubBroker (worker inside the engine) and Redis
(a Dramatiq worker of its own), with the `diagnostic_sleep` job type."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from falcon.testing import TestClient

from entrypoints.bootstrap import bootstrap
from entrypoints.config import Config
from entrypoints.http.app import create_app
from tests.jobs_support import BROKER_MODES, JOB, JobsApp, jobs_config, running_jobs_app

LONG: dict[str, Any] = {"seconds": 30, "steps": 300}  # cooperative: checks for a cancel every 0.1 s


@pytest.fixture(params=BROKER_MODES)
def broker_mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def jobs(broker_mode: str, tmp_path: Path) -> Iterator[JobsApp]:
    """SQLite persistence, in the broker mode of the test."""
    with running_jobs_app(jobs_config(tmp_path), broker_mode) as app:
        yield app


@pytest.fixture
def jobs_on_each_database(config: Config, broker_mode: str) -> Iterator[JobsApp]:
    """SQLite and PostgreSQL (the shared `config` fixture), in the broker mode of the test."""
    with running_jobs_app(config, broker_mode) as app:
        yield app


def _project(jobs: JobsApp, name: str) -> dict:
    response = jobs.client.simulate_post("/api/projects", json={
        "name": name, "task": {"task_type": "detection", "labels": [{"name": "nut"}]}})
    assert response.status_code == 201, response.text
    return response.json


# --- submit, run, get, list ------------------------------------------------------------------------------


def test_a_submitted_job_is_accepted_as_scheduled_and_runs_to_done_with_a_result(
        jobs_on_each_database: JobsApp) -> None:
    jobs = jobs_on_each_database
    response = jobs.client.simulate_post("/api/jobs", json={
        "job_type": JOB, "parameters": {"seconds": 0.3, "steps": 3}})

    assert response.status_code == 202, response.text
    submitted = response.json
    assert response.headers["location"] == f"/api/jobs/{submitted['id']}"
    assert submitted["status"] == "scheduled" and submitted["attempt"] == 1 and submitted["progress"] == 0
    assert submitted["job_type"] == JOB and submitted["project_id"] is None
    assert submitted["parameters"] == {"seconds": 0.3, "steps": 3, "cooperative": True}
    assert submitted["result"] is None and submitted["started_at"] is None

    done = jobs.wait_for(submitted["id"], ("done", "failed", "cancelled"))
    assert done["status"] == "done", done
    assert done["progress"] == 100 and done["message"] == "Done." and done["error"] is None
    assert done["result"] == {"slept_s": 0.3, "steps": 3}
    assert done["started_at"] and done["finished_at"] and done["attempt"] == 1
    assert jobs.client.simulate_get(response.headers["location"]).json == done
    assert jobs.event_names(done["id"])[:2] == ["Submitted", "Started"]
    assert jobs.event_names(done["id"])[-1] == "Finished"
    lines = jobs.log_lines(done["id"])
    assert lines[0].startswith(f"Attempt 1 of {JOB} started on ")
    assert lines[1:] == ["step 1 of 3 done", "step 2 of 3 done", "step 3 of 3 done", "Finished."]


def test_jobs_are_listed_newest_first_and_filtered_by_project_type_and_status(jobs: JobsApp) -> None:
    project = _project(jobs, "Conveyor")
    of_project = jobs.submit(project_id=project["id"], seconds=0, steps=1)
    unattached = jobs.submit(seconds=0, steps=1)
    for job in (of_project, unattached):
        jobs.wait_for(job["id"], ("done",))

    def ids(query: str) -> list[str]:
        response = jobs.client.simulate_get("/api/jobs", query_string=query)
        assert response.status_code == 200, response.text
        return [job["id"] for job in response.json]

    assert set(ids("")) == {of_project["id"], unattached["id"]}
    assert ids(f"project_id={project['id']}") == [of_project["id"]]
    assert set(ids(f"job_type={JOB}")) == {of_project["id"], unattached["id"]}
    assert ids("job_type=train") == []
    assert set(ids("status=done")) == {of_project["id"], unattached["id"]}
    assert ids("status=running") == []
    assert ids(f"status=done&project_id={project['id']}&job_type={JOB}") == [of_project["id"]]
    assert jobs.client.simulate_get(f"/api/jobs/{of_project['id']}").json["project_id"] == project["id"]


def test_listing_with_an_unknown_status_or_a_malformed_project_id_is_400(jobs: JobsApp) -> None:
    bad_status = jobs.client.simulate_get("/api/jobs", query_string="status=sleeping")
    assert bad_status.status_code == 400
    assert "status" in bad_status.json["detail"]
    bad_project = jobs.client.simulate_get("/api/jobs", query_string="project_id=not-a-uuid")
    assert bad_project.status_code == 400
    assert "project_id" in bad_project.json["detail"]


def test_an_unknown_job_is_404_and_a_malformed_id_is_400(jobs: JobsApp) -> None:
    unknown = "0b6c8f7e-3f2a-4f63-9d0e-2f8c1a7d5e41"
    for path in (f"/api/jobs/{unknown}", f"/api/jobs/{unknown}/status", f"/api/jobs/{unknown}/logs"):
        response = jobs.client.simulate_get(path)
        assert response.status_code == 404, path
        assert unknown in response.json["detail"]
    assert jobs.client.simulate_post(f"/api/jobs/{unknown}:cancel").status_code == 404
    for path in ("/api/jobs/42", "/api/jobs/42/status", "/api/jobs/42/logs"):
        response = jobs.client.simulate_get(path)
        assert response.status_code == 400, path
        assert "42" in response.json["detail"]
    assert jobs.client.simulate_post("/api/jobs/42:cancel").status_code == 400


# --- validation -----------------------------------------------------------------------------------------


def test_an_unknown_or_missing_job_type_is_422_naming_job_type(jobs: JobsApp) -> None:
    unknown = jobs.client.simulate_post("/api/jobs", json={"job_type": "mine_bitcoin", "parameters": {}})
    assert unknown.status_code == 422
    assert "job_type" in unknown.json["errors"] and "mine_bitcoin" in unknown.json["detail"]
    missing = jobs.client.simulate_post("/api/jobs", json={"parameters": {}})
    assert missing.status_code == 422
    assert "job_type" in missing.json["errors"]
    assert jobs.client.simulate_get("/api/jobs").json == []


@pytest.mark.parametrize(("parameters", "field"), [
    ({"seconds": -1}, "seconds"),
    ({"seconds": 7200}, "seconds"),
    ({"seconds": "a while"}, "seconds"),
    ({"steps": 0}, "steps"),
    ({"cooperative": "sometimes"}, "cooperative"),
    ({"minutes": 1}, "minutes"),
])
def test_invalid_parameters_are_422_naming_the_field(jobs: JobsApp, parameters: dict, field: str) -> None:
    response = jobs.client.simulate_post("/api/jobs", json={"job_type": JOB, "parameters": parameters})

    assert response.status_code == 422, response.text
    assert field in response.json["errors"]["parameters"]
    assert field in response.json["detail"]
    assert jobs.client.simulate_get("/api/jobs").json == []


def test_a_job_type_this_server_does_not_offer_is_422(tmp_path: Path) -> None:
    container = bootstrap(Config(data_dir=tmp_path / "plain"))  # diagnostic jobs are off by default
    try:
        client = TestClient(create_app(container))

        response = client.simulate_post("/api/jobs", json={"job_type": JOB, "parameters": {}})

        assert response.status_code == 422, response.text
        assert "job_type" in response.json["errors"]
        assert JOB in response.json["detail"] and "not available" in response.json["detail"]
        assert client.simulate_get("/api/jobs").json == []
    finally:
        container.close()


# --- cancel ---------------------------------------------------------------------------------------------


def test_a_job_cancelled_while_scheduled_never_starts(jobs: JobsApp) -> None:
    busy = [jobs.submit(**LONG) for _ in range(jobs.container.config.worker_threads)]
    for job in busy:
        jobs.wait_for(job["id"], ("running",))
    waiting = jobs.submit(seconds=0, steps=1)

    response = jobs.cancel(waiting["id"])

    assert response.status_code == 202, response.text
    assert response.json["status"] == "cancelled"
    assert response.json["message"] == "Cancelled: cancelled before it started."
    for job in busy:  # free the worker threads: the cancelled job's message is now delivered, and skipped
        assert jobs.cancel(job["id"]).status_code == 202
    for job in busy:
        assert jobs.wait_for(job["id"], ("done", "failed", "cancelled"), timeout=5)["status"] == "cancelled"
    after = jobs.submit(seconds=0, steps=1)  # queued behind the cancelled one
    jobs.wait_for(after["id"], ("done",))
    time.sleep(0.3)
    cancelled = jobs.get(waiting["id"])
    assert cancelled["status"] == "cancelled" and cancelled["started_at"] is None and cancelled["attempt"] == 1
    assert jobs.event_names(waiting["id"]) == ["Submitted", "Cancelled"]
    assert jobs.log_lines(waiting["id"]) == []


def test_a_running_cooperative_job_ends_cancelled_within_two_seconds_of_cancel(jobs: JobsApp) -> None:
    job = jobs.submit(**LONG)
    jobs.wait_for(job["id"], ("running",))
    time.sleep(0.3)

    response = jobs.cancel(job["id"])
    accepted_at = time.monotonic()

    assert response.status_code == 202, response.text
    assert response.json["status"] in ("cancelling", "cancelled")
    ended = jobs.wait_for(job["id"], ("done", "failed", "cancelled"), timeout=2.0)
    assert time.monotonic() - accepted_at < 2.0
    assert ended["status"] == "cancelled", ended
    assert ended["message"] == "Cancelled: stopped at a step boundary."
    assert ended["result"] is None and ended["finished_at"]
    assert "Cancelled between steps." in jobs.log_lines(job["id"])


def test_a_running_busy_job_is_hard_aborted_within_two_seconds_of_cancel(jobs: JobsApp) -> None:
    job = jobs.submit(seconds=4, steps=1, cooperative=False)  # never checks; would end on its own after 4 s
    jobs.wait_for(job["id"], ("running",))
    time.sleep(0.3)

    response = jobs.cancel(job["id"])
    accepted_at = time.monotonic()

    assert response.status_code == 202, response.text
    assert response.json["status"] == "cancelling"
    ended = jobs.wait_for(job["id"], ("done", "failed", "cancelled"), timeout=2.0)
    assert time.monotonic() - accepted_at < 2.0
    assert ended["status"] == "cancelled", ended
    assert ended["message"] == "Cancelled: stopped by a hard abort."
    assert "step 1 of 1 done" not in jobs.log_lines(job["id"])


def test_cancelling_a_finished_job_is_409_and_changes_nothing(jobs: JobsApp) -> None:
    done = jobs.submit(seconds=0, steps=1)
    jobs.wait_for(done["id"], ("done",))
    cancelled = jobs.submit(**LONG)
    jobs.wait_for(cancelled["id"], ("running",))
    assert jobs.cancel(cancelled["id"]).status_code == 202
    jobs.wait_for(cancelled["id"], ("cancelled",), timeout=5)

    for job_id, status in ((done["id"], "done"), (cancelled["id"], "cancelled")):
        before = jobs.get(job_id)
        response = jobs.cancel(job_id)
        assert response.status_code == 409, response.text
        assert "finished" in response.json["detail"]
        assert jobs.get(job_id) == before and before["status"] == status


def test_cancelling_a_job_twice_is_accepted_both_times(jobs: JobsApp) -> None:
    job = jobs.submit(**LONG)
    jobs.wait_for(job["id"], ("running",))

    first, second = jobs.cancel(job["id"]), jobs.cancel(job["id"])

    assert first.status_code == 202, first.text
    assert second.status_code in (202, 409), second.text  # 409 only if the first already ended it
    assert jobs.wait_for(job["id"], ("done", "failed", "cancelled"), timeout=3)["status"] == "cancelled"
    assert jobs.event_names(job["id"]).count("CancelRequested") == 1
