"""Jobs over HTTP: submit, list, get, cancel, and Server-Sent Event streams of status and logs."""

import json
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import falcon
from marshmallow import ValidationError

from application.errors import BadRequestError, ConflictError, InvalidInputError
from application.queries.jobs import TERMINAL, get_job, list_jobs
from entrypoints.bootstrap import Jobs as JobsModule
from entrypoints.http import params
from entrypoints.http.body import load
from entrypoints.http.resources import ReadYourWrites
from entrypoints.http.schemas.jobs import PARAMETER_SCHEMAS, JobSubmitSchema

POLL_S = 0.2
KEEP_ALIVE_S = 1.0  # also how soon a stream notices its listener left (writing fails)
STATUSES = ("scheduled", "running", "cancelling", "done", "failed", "cancelled")


def _validated(body: dict[str, Any], available: dict[str, Any]) -> tuple[str, UUID | None, dict[str, Any]]:
    job_type = body["job_type"]
    if job_type not in PARAMETER_SCHEMAS:
        raise InvalidInputError(f"Unknown job type '{job_type}'.", {"job_type": ["Unknown job type."]})
    if job_type not in available:
        raise InvalidInputError(f"Job type '{job_type}' is not available in this version of Viewfinder.",
                                {"job_type": ["Not available yet."]})
    try:
        parameters = PARAMETER_SCHEMAS[job_type]().load(body["parameters"])
    except ValidationError as error:
        raise InvalidInputError(f"Invalid parameters for {job_type}: {json.dumps(error.messages)}",
                                {"parameters": error.messages}) from None
    project_id = body["project_id"] or parameters.get("project_id")
    return job_type, project_id, {k: str(v) if isinstance(v, UUID) else v for k, v in parameters.items()}


class Jobs:
    """/api/jobs"""

    def __init__(self, jobs: JobsModule, read: Any, consistency: ReadYourWrites) -> None:
        self.jobs = jobs
        self.read = read
        self.consistency = consistency

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        status = req.get_param("status")
        if status is not None and status not in STATUSES:
            raise BadRequestError(f"Query parameter 'status' must be one of {', '.join(STATUSES)}.")
        project = params.id_list(req.get_param("project_id"), "project_id")
        if len(project) > 1:
            raise BadRequestError("Query parameter 'project_id' takes one id.")
        resp.media = list_jobs(self.read, UUID(project[0]) if project else None, req.get_param("job_type"), status)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        job_type, project_id, parameters = _validated(load(req, JobSubmitSchema()), self.jobs.handlers)
        self.jobs.handlers[job_type].check(project_id, parameters)
        written = self.jobs.commands.submit(job_type, project_id, parameters, req.context.user,
                                            id=None)
        self.consistency.respond(resp, written, lambda: get_job(self.read, written.id), falcon.HTTP_202,
                                 f"/api/jobs/{written.id}")


class Job:
    """/api/jobs/{job_id}, :cancel, /status and /logs."""

    def __init__(self, jobs: JobsModule, read: Any, consistency: ReadYourWrites) -> None:
        self.jobs = jobs
        self.read = read
        self.consistency = consistency

    def on_get(self, req: falcon.Request, resp: falcon.Response, job_id: UUID) -> None:
        resp.media = get_job(self.read, job_id)

    def on_post_cancel(self, req: falcon.Request, resp: falcon.Response, job_id: UUID) -> None:
        if get_job(self.read, job_id)["status"] in TERMINAL:
            raise ConflictError("The job has already finished.")
        written = self.jobs.commands.cancel(job_id, req.context.user)
        self.consistency.respond(resp, written, lambda: get_job(self.read, job_id), falcon.HTTP_202)

    def on_get_status(self, req: falcon.Request, resp: falcon.Response, job_id: UUID) -> None:
        get_job(self.read, job_id)
        _stream(resp, self._status_events(job_id))

    def on_get_logs(self, req: falcon.Request, resp: falcon.Response, job_id: UUID) -> None:
        get_job(self.read, job_id)
        last = req.get_header("Last-Event-ID")
        start = int(last) if last and last.isdigit() else 0
        _stream(resp, self._log_events(job_id, start))

    def _status_events(self, job_id: UUID) -> Iterator[bytes]:
        sent, quiet_since = None, time.monotonic()
        while True:
            job = get_job(self.read, job_id)
            if job != sent:
                yield _event(json.dumps(job), event="status")
                sent, quiet_since = job, time.monotonic()
                if job["status"] in TERMINAL:
                    return
            elif time.monotonic() - quiet_since > KEEP_ALIVE_S:
                yield b": keep-alive\n\n"
                quiet_since = time.monotonic()
            time.sleep(POLL_S)

    def _log_events(self, job_id: UUID, seq: int) -> Iterator[bytes]:
        quiet_since = time.monotonic()
        while True:
            finished = get_job(self.read, job_id)["status"] in TERMINAL
            lines = self.jobs.log.lines_after(job_id, seq)
            for line in lines:
                seq = int(line["seq"])
                yield _event(line["line"], event="log", id=seq)
                quiet_since = time.monotonic()
            if finished and not lines:
                yield _event("end", event="end")
                return
            if time.monotonic() - quiet_since > KEEP_ALIVE_S:
                yield b": keep-alive\n\n"
                quiet_since = time.monotonic()
            if not lines:
                time.sleep(POLL_S)


def _event(data: str, event: str, id: int | None = None) -> bytes:
    head = f"id: {id}\n" if id is not None else ""
    body = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"{head}event: {event}\n{body}\n".encode()


def _stream(resp: falcon.Response, events: Iterator[bytes]) -> None:
    resp.content_type = "text/event-stream"
    resp.cache_control = ["no-cache"]
    resp.set_header("X-Accel-Buffering", "no")
    resp.stream = events
