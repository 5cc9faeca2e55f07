"""Read model of the audit log: every event of a project, its pipeline, dataset items and views."""

from typing import Any

from domain.dataset_item import DatasetItem
from domain.dataset_view import DatasetView
from domain.pipeline import Pipeline
from domain.project import Project

from application.ports.read_store import Transaction
from application.projections import Projection, handles, iso, to_json

ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic", "user"}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


SUMMARIES: dict[str, Any] = {
    "Project.Created": lambda e: f"created project '{e.name}' ({e.task_type}, {_count(len(e.labels), 'label')})",
    "Project.Renamed": lambda e: f"renamed the project to '{e.name}'",
    "Project.LabelAdded": lambda e: f"added label '{e.label['name']}'",
    "Project.LabelEdited": lambda e: f"edited label '{e.label['name']}'",
    "Project.LabelRemoved": lambda e: f"removed label '{e.name}'",
    "Project.TrainingConfigured": lambda e: "changed " + ", ".join(f"{k}={v}" for k, v in sorted(e.changes.items())),
    "Project.Deleted": lambda e: "deleted the project",
    "Pipeline.Created": lambda e: "created the pipeline",
    "Pipeline.Configured": lambda e: "configured the pipeline: " + ", ".join(sorted(e.changes)),
    "Pipeline.Deleted": lambda e: "deleted the pipeline",
    "Pipeline.Enabled": lambda e: f"enabled the pipeline (run {e.run})",
    "Pipeline.Disabled": lambda e: "disabled the pipeline",
    "Pipeline.StatusReported": lambda e: f"pipeline status: {e.status}" + (f" ({e.error})" if e.error else ""),
    "Pipeline.CaptureRequested": lambda e: f"requested capture #{e.number}",
    "DatasetItem.Created": lambda e: f"added image '{e.name}' ({e.media['width']}x{e.media['height']} "
                                     f"{e.media['format']}, {e.source})",
    "DatasetItem.AnnotationsReplaced": lambda e: f"annotated the item with {_count(len(e.annotations), 'shape')}"
                                                 + ("" if e.user_reviewed else " (unreviewed prediction)"),
    "DatasetItem.AnnotationsCleared": lambda e: "removed the item's annotations",
    "DatasetItem.LabelStripped": lambda e: f"took removed label {e.label_id} out of the item's annotations",
    "DatasetItem.TagsChanged": lambda e: "changed tags: " + ", ".join(
        [f"+{t}" for t in e.added] + [f"-{t}" for t in e.removed]),
    "DatasetItem.SubsetAssigned": lambda e: f"assigned the item to the {e.subset} subset ({e.reason})",
    "DatasetItem.Deleted": lambda e: "deleted the item",
    "DatasetView.Created": lambda e: f"created view '{e.name}'",
    "DatasetView.ItemsAdded": lambda e: f"added {_count(len(e.item_ids), 'item')} to the view",
    "DatasetView.ItemsRemoved": lambda e: f"removed {_count(len(e.item_ids), 'item')} from the view",
    "DatasetView.Deleted": lambda e: "deleted the view",
}


def event_kind(event: Any) -> str:
    return type(event).__qualname__


def summary_of(event: Any) -> str:
    describe = SUMMARIES.get(event_kind(event))
    return f"{event.user} {describe(event)}" if describe else f"{event.user}: {event_kind(event)}"


def event_data(event: Any) -> str:
    return to_json({k: v for k, v in vars(event).items() if k not in ENVELOPE})


class HistoryProjection(Projection):
    """`rm_history`: one row per event of a project's aggregates, with a readable summary."""

    name = "history"
    tables = ("rm_history",)
    schema = (
        "CREATE TABLE IF NOT EXISTS rm_history (position BIGINT PRIMARY KEY, project_id TEXT NOT NULL, "
        "aggregate_id TEXT NOT NULL, version INTEGER NOT NULL, kind TEXT NOT NULL, username TEXT NOT NULL, "
        "timestamp TEXT NOT NULL, summary TEXT NOT NULL, data TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS rm_history_by_project ON rm_history (project_id, position)",
        "CREATE INDEX IF NOT EXISTS rm_history_by_aggregate ON rm_history (aggregate_id, position)",
    )

    @handles(Project.Event, Pipeline.Event, DatasetItem.Event, DatasetView.Event)
    def recorded(self, event: Any, tx: Transaction) -> None:
        project_id = self._project_of(event, tx)
        if project_id is None:
            return
        tx.execute("INSERT INTO rm_history (position, project_id, aggregate_id, version, kind, username, timestamp, "
                   "summary, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                   (self.position, project_id, str(event.originator_id), event.originator_version,
                    event_kind(event), event.user, iso(event.timestamp), summary_of(event), event_data(event)))

    def _project_of(self, event: Any, tx: Transaction) -> str | None:
        if isinstance(event, Project.Event):
            return str(event.originator_id)
        if hasattr(event, "project_id"):
            return str(event.project_id)
        rows = tx.query("SELECT project_id FROM rm_history WHERE aggregate_id = ? LIMIT 1",
                        (str(event.originator_id),))
        return rows[0]["project_id"] if rows else None
