"""The pipeline runtime: source → asynchronous inference (in frame order) → sink, live view, metrics,
collection. It follows the pipeline's configuration and stops when the pipeline is disabled."""

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from domain.model import Model
from domain.pipeline import Pipeline

from application.commands.dataset import DatasetCommands
from application.commands.live import LiveCommands
from application.errors import ViewfinderError
from application.event_store import EventStore
from application.live.collection import Collector
from application.live.ports import AsyncInference, LiveAdapters, LiveFrames
from application.live.state import LiveState
from application.pipeline_metrics import PipelineMetrics
from application.ports.frames import Frame, FrameSource
from application.ports.read_store import ReadStore
from application.ports.sinks import FrameSink
from application.queries.configuration import get_connection

log = logging.getLogger("viewfinder.pipeline")
FOLLOW_S = 0.5  # how often the configuration is re-read: changes apply within a second
IN_FLIGHT = 4
STOP_SINK_S = 0.3
MAX_BACKOFF_S = 10.0


@dataclass
class Wiring:
    """Collaborators of a runtime."""

    store: EventStore
    read: ReadStore
    live: LiveCommands
    dataset: DatasetCommands
    state: LiveState
    frames: LiveFrames
    adapters: LiveAdapters
    models_dir: Path
    holder: str


class PipelineRuntime:
    """One run of one project's pipeline, in the calling thread, until disabled or superseded."""

    def __init__(self, wiring: Wiring, project_id: UUID, run: int) -> None:
        self.w, self.project_id, self.run = wiring, project_id, run
        self.holder = f"{wiring.holder}:{uuid4().hex[:8]}"  # unique per runtime, even within one process
        self.metrics = PipelineMetrics()
        self.collector = Collector()
        self.source: FrameSource | None = None
        self.sink: FrameSink | None = None
        self.model: AsyncInference | None = None
        self.keys: dict[str, Any] = {}
        self.pending: dict[int, Frame] = {}
        self.results: dict[int, tuple[list[dict[str, Any]], float]] = {}
        self.next_out: int | None = None
        self.lock = threading.Lock()
        self.flushed = 0
        self.backoff = 0.5
        self.reported: tuple[str, str | None] | None = None
        self.counted = {"source_dropped": 0, "sink_dispatched": 0, "sink_dropped": 0, "sink_failed": 0}

    def execute(self) -> None:
        if not self.w.state.acquire(self.project_id, self.run, self.holder):
            log.info("pipeline %s run %s is held by another runtime", self.project_id, self.run)
            return
        try:
            self._loop()
        finally:
            self._close(drain=True)
            self.w.state.save_seconds(self.project_id, self.metrics.completed_seconds(self.flushed, time.time() + 1))
            self.w.state.release(self.project_id, self.holder)

    def _loop(self) -> None:
        pipeline, followed = self._pipeline(), 0.0
        while pipeline.enabled and pipeline.run == self.run and not pipeline.deleted:
            try:
                self._configure(pipeline)
                if not self._step(pipeline):
                    break
            except ViewfinderError as error:
                self._fail(error.detail)
            if time.monotonic() - followed >= FOLLOW_S:
                followed = time.monotonic()
                pipeline = self._pipeline()
                self._heartbeat()

    def _pipeline(self) -> Pipeline:
        return self.w.store.load(Pipeline, Pipeline.create_id(self.project_id), "pipeline")

    def _heartbeat(self) -> None:
        self.w.state.acquire(self.project_id, self.run, self.holder)
        now = time.time()
        self._count_stats(now)
        rows = self.metrics.completed_seconds(self.flushed, now)
        self.w.state.save_seconds(self.project_id, rows)
        if rows:
            self.flushed = rows[-1]["second"]

    def _count_stats(self, now: float) -> None:
        """Drops and deliveries happen in the source's and sink's own threads: count them by their stats."""
        current = {"source_dropped": self.source.stats.dropped if self.source else self.counted["source_dropped"],
                   "sink_dispatched": self.sink.stats.dispatched if self.sink else 0,
                   "sink_dropped": self.sink.stats.dropped if self.sink else 0,
                   "sink_failed": self.sink.stats.failed if self.sink else 0}
        delta = {k: max(0, v - self.counted[k]) for k, v in current.items()}
        self.counted = current
        self.metrics.record_dispatched(now, delta["sink_dispatched"])
        self.metrics.record_dropped(now, delta["source_dropped"] + delta["sink_dropped"])
        failing = self.sink.last_error if self.sink is not None and delta["sink_failed"] else None
        self.keys["sink_error"] = failing
        if failing:
            self._report("error", f"The sink fails: {failing}")
        elif self.reported is not None and self.reported[0] == "error" and self.source is not None:
            self._report("running", None)

    def _configure(self, pipeline: Pipeline) -> None:
        """(Re)build whatever part of the chain the configuration changed; a new model keeps the stream."""
        source = get_connection(self.w.read, "source", pipeline.source_id) if pipeline.source_id else None
        sink = get_connection(self.w.read, "sink", pipeline.sink_id) if pipeline.sink_id else None
        if source != self.keys.get("source"):
            self._close_source()
            self.source = self.w.adapters.source(source) if source else None
            if self.source is not None:
                self.source.open()
            self.keys["source"] = source
        if sink != self.keys.get("sink"):
            if self.sink is not None:  # the old sink delivers its queue in the background; the stream goes on
                self._count_stats(time.time())
                threading.Thread(target=self.sink.close, daemon=True, name="closing-sink").start()
                self.counted.update(sink_dispatched=0, sink_dropped=0, sink_failed=0)
            self.sink = self.w.adapters.sink(sink) if sink else None
            self.keys["sink"] = sink
        if pipeline.model_id != self.keys.get("model"):
            model = self.w.store.load(Model, pipeline.model_id, "model")
            model.check_usable()
            self._drain()
            self.model = self.w.adapters.model(self.w.models_dir / str(model.id) / "model.xml")
            self.keys["model"], self.keys["labels"] = pipeline.model_id, model.labels
        if self.reported is None or self.reported[0] == "error" and not self.keys.get("sink_error"):
            self._report("running", None)
            self.backoff = 0.5

    def _report(self, status: str, error: str | None) -> None:
        if self.reported != (status, error):
            self.w.live.report(self.project_id, self.run, status, error)
            self.reported = (status, error)

    def _step(self, pipeline: Pipeline) -> bool:
        """Read and submit a frame when there is room, deliver finished ones in order; False when done."""
        assert self.source is not None and self.model is not None
        if self.source.finished and not self.pending:
            self.w.live.disable(self.project_id, "runtime")  # a finished video ends the run cleanly
            return False
        frame = self.source.read(timeout=0.05) if len(self.pending) < IN_FLIGHT else None
        if frame is not None:
            self.metrics.record_read(time.time())
            self.pending[frame.sequence] = frame
            started = time.perf_counter()
            self.model.submit(frame.image, lambda p, s=frame.sequence, t=started: self._done(s, p, t))
        elif len(self.pending) >= IN_FLIGHT:
            time.sleep(0.001)
        self._deliver(pipeline)
        return True

    def _done(self, sequence: int, predictions: list[dict[str, Any]], started: float) -> None:
        with self.lock:
            self.results[sequence] = (predictions, (time.perf_counter() - started) * 1000)

    def _deliver(self, pipeline: Pipeline) -> None:
        """Hand results on in frame order (requests may finish out of order)."""
        while self.pending:
            first = min(self.pending)
            with self.lock:
                result = self.results.pop(first, None)
            if result is None:
                return
            self._handle(self.pending.pop(first), *result, pipeline)

    def _handle(self, frame: Frame, predictions: list[dict[str, Any]], latency_ms: float,
                pipeline: Pipeline) -> None:
        now = time.time()
        self.metrics.record(latency_ms, now)
        prediction = {"model_id": str(self.keys["model"]), "frame": frame.metadata(), "predictions": predictions}
        rendered = None
        if now - self.keys.get("published", 0.0) >= 1 / 15:
            rendered = self.w.adapters.render(frame.image, prediction)
            self.w.frames.publish(self.project_id, rendered)
            self.keys["published"] = now
        if self.sink is not None:
            self.sink.send(frame, rendered, prediction)
        reason = self.collector.wants(pipeline.captures_requested, pipeline.data_collection, predictions,
                                      self._dataset_size())
        if reason is not None:
            self._collect(frame, predictions, reason)

    def _dataset_size(self) -> int:
        if time.monotonic() - self.keys.get("sized_at", 0.0) > 1.0:
            row = self.w.read.query_one("SELECT COUNT(*) AS n FROM rm_items WHERE project_id = ?",
                                        (str(self.project_id),))
            self.keys["size"], self.keys["sized_at"] = int(row["n"]) if row else 0, time.monotonic()
        return int(self.keys["size"])

    def _collect(self, frame: Frame, predictions: list[dict[str, Any]], reason: str) -> None:
        """The frame becomes a dataset item (source capture) with the prediction as an unreviewed annotation."""
        name = f"{reason}-{time.strftime('%Y%m%dT%H%M%S', time.gmtime(frame.timestamp))}-{frame.sequence}.jpg"
        item_id = self.w.dataset.upload(self.project_id, self.w.adapters.encode(frame.image), name, "capture",
                                        "runtime").id
        self.keys["size"] = self.keys.get("size", 0) + 1
        annotations = [{"labels": [{"id": UUID(label["id"]), "confidence": label.get("confidence")}
                                   for label in p["labels"]], "shape": p["shape"]} for p in predictions]
        try:
            self.w.dataset.annotate(self.project_id, item_id, annotations, "runtime", user_reviewed=False)
        except Exception as error:  # noqa: BLE001 - a prediction that is not a valid annotation stays out
            log.info("captured frame %s kept without its prediction: %s", frame.sequence, error)

    def _fail(self, detail: str) -> None:
        """Report the error, drop the broken parts, and wait (with backoff) before trying again."""
        log.warning("pipeline %s: %s", self.project_id, detail)
        self._report("error", detail)
        self._close_source()
        deadline = time.monotonic() + self.backoff
        self.backoff = min(self.backoff * 2, MAX_BACKOFF_S)
        while time.monotonic() < deadline:
            pipeline = self._pipeline()
            if not pipeline.enabled or pipeline.run != self.run:
                return
            self._heartbeat()
            time.sleep(min(FOLLOW_S, max(0.0, deadline - time.monotonic())))

    def _drain(self) -> None:
        if self.model is not None:
            self.model.wait()
        self.pending.clear()
        self.results.clear()

    def _close_source(self) -> None:
        if self.source is not None:
            self.source.close()
        self.source, self.keys["source"] = None, None
        self.pending.clear()

    def _close(self, drain: bool) -> None:
        if drain:
            self._drain()
        self._close_source()
        if self.sink is not None:
            self.sink.close(timeout=STOP_SINK_S)  # stopping: what a slow sink has not sent by then is dropped
            self._count_stats(time.time())  # its last deliveries and drops
            self.sink = None
        if self._pipeline().enabled is False:
            self._report("idle", None)
