"""A project's pipeline over HTTP: configuration, enable/disable, capture, metrics, live view."""

import time
from collections.abc import Iterator
from uuid import UUID

import falcon

from application.live.ports import LiveFrames
from application.live.queries import live_pipeline, pipeline_metrics
from application.live.state import LiveState
from entrypoints.http.body import load
from entrypoints.http.resources import CommandResource, ReadYourWrites
from entrypoints.http.schemas.projects import PipelinePatchSchema

BOUNDARY = "frame"
STREAM_POLL_S = 0.03
STREAM_IDLE_END_S = 30.0


class ProjectPipeline(CommandResource):
    """/api/projects/{project_id}/pipeline[:enable|:disable|:capture|/metrics|/stream]"""

    def __init__(self, commands: object, live: object, read: object, consistency: ReadYourWrites,
                 state: LiveState, frames: LiveFrames) -> None:
        super().__init__(commands, read, consistency)
        self.live, self.state, self.frames = live, state, frames

    def _view(self, project_id: UUID) -> dict:
        return live_pipeline(self.read, self.state, project_id)

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        resp.media = self._view(project_id)

    def on_patch(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        changes = load(req, PipelinePatchSchema())
        written = self.commands.configure(project_id, changes, req.context.user)
        self.consistency.respond(resp, written, lambda: self._view(project_id))

    def on_post_enable(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        written = self.live.enable(project_id, req.context.user)
        self.consistency.respond(resp, written, lambda: self._view(project_id))

    def on_post_disable(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        written = self.live.disable(project_id, req.context.user)
        self.consistency.respond(resp, written, lambda: self._view(project_id))

    def on_post_capture(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        written = self.live.capture(project_id, req.context.user)
        self.consistency.respond(resp, written, lambda: {"detail": "The next frame will be captured."},
                                 falcon.HTTP_202)

    def on_get_metrics(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        resp.media = pipeline_metrics(self.read, self.state, project_id, req.get_param("time_window"))

    def on_get_stream(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        self._view(project_id)
        resp.content_type = f"multipart/x-mixed-replace; boundary={BOUNDARY}"
        resp.cache_control = ["no-cache"]
        resp.stream = self._frames(project_id)

    def _frames(self, project_id: UUID) -> Iterator[bytes]:
        """Each new published frame as one JPEG part; ends after a while without frames."""
        sent_at, quiet_since = 0.0, time.monotonic()
        while time.monotonic() - quiet_since < STREAM_IDLE_END_S:
            latest = self.frames.latest(project_id)
            if latest is not None and latest[0] != sent_at:
                sent_at, quiet_since = latest[0], time.monotonic()
                yield (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(latest[1])}\r\n\r\n"
                       .encode() + latest[1] + b"\r\n")
            time.sleep(STREAM_POLL_S)


LIVE_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Viewfinder live view</title>
<style>body{{font-family:sans-serif;margin:1em;background:#111;color:#eee}}img{{max-width:100%;border:1px solid #444}}
td{{padding:0 1em 0 0}}</style></head><body><h1>Live view</h1>
<p id="status">loading…</p><img id="view" src="/api/projects/{project_id}/pipeline/stream" alt="live frames">
<table id="metrics"></table>
<script>
async function refresh() {{
  const p = await (await fetch("/api/projects/{project_id}/pipeline")).json();
  document.getElementById("status").textContent = "status: " + p.status + (p.error ? " (" + p.error + ")" : "");
  const m = await (await fetch("/api/projects/{project_id}/pipeline/metrics?time_window=10")).json();
  const l = m.inference.latency, t = m.inference.throughput, f = m.frames;
  document.getElementById("metrics").innerHTML =
    "<tr><td>fps</td><td>" + t.avg_fps + "</td><td>latency p50</td><td>" + l.p50_ms + " ms</td></tr>" +
    "<tr><td>frames inferred</td><td>" + f.inferred + "</td><td>dropped</td><td>" + f.dropped + "</td></tr>";
}}
refresh(); setInterval(refresh, 1000);
</script></body></html>"""


class LivePage:
    """/pipeline/{project_id}: a small page showing the stream and the metrics."""

    def __init__(self, read: object, state: LiveState) -> None:
        self.read, self.state = read, state

    def on_get(self, req: falcon.Request, resp: falcon.Response, project_id: UUID) -> None:
        live_pipeline(self.read, self.state, project_id)
        resp.content_type = falcon.MEDIA_HTML
        resp.text = LIVE_PAGE.format(project_id=project_id)
