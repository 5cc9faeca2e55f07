"""Read model of projects: name, task, labels and training configuration overrides."""

from typing import Any

from domain.project import Project

from application.ports.read_store import Transaction
from application.projections import Projection, from_json, handles, iso, to_json


def label_row(label: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(label["id"]), "name": label["name"], "color": label["color"], "hotkey": label.get("hotkey")}


class ProjectsProjection(Projection):
    """The `rm_projects` read model."""

    name = "projects"
    tables = ("rm_projects",)
    schema = (
        "CREATE TABLE IF NOT EXISTS rm_projects (id TEXT PRIMARY KEY, name TEXT NOT NULL, "
        "task_type TEXT NOT NULL, exclusive_labels INTEGER NOT NULL, labels TEXT NOT NULL, "
        "training_configuration TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
    )

    @handles(Project.Created)
    def created(self, event: Any, tx: Transaction) -> None:
        tx.execute("INSERT INTO rm_projects (id, name, task_type, exclusive_labels, labels, "
                   "training_configuration, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (str(event.originator_id), event.name, event.task_type, int(event.exclusive_labels),
                    to_json([label_row(d) for d in event.labels]), to_json({}),
                    iso(event.timestamp), iso(event.timestamp)))

    @handles(Project.Renamed)
    def renamed(self, event: Any, tx: Transaction) -> None:
        self._set(tx, event, name=event.name)

    @handles(Project.LabelAdded)
    def label_added(self, event: Any, tx: Transaction) -> None:
        labels = self._labels(tx, event)
        self._set(tx, event, labels=to_json([*labels, label_row(event.label)]))

    @handles(Project.LabelEdited)
    def label_edited(self, event: Any, tx: Transaction) -> None:
        new = label_row(event.label)
        labels = [new if old["id"] == new["id"] else old for old in self._labels(tx, event)]
        self._set(tx, event, labels=to_json(labels))

    @handles(Project.LabelRemoved)
    def label_removed(self, event: Any, tx: Transaction) -> None:
        labels = [old for old in self._labels(tx, event) if old["id"] != str(event.label_id)]
        self._set(tx, event, labels=to_json(labels))

    @handles(Project.TrainingConfigured)
    def training_configured(self, event: Any, tx: Transaction) -> None:
        row = tx.query("SELECT training_configuration FROM rm_projects WHERE id = ?", (str(event.originator_id),))
        current = from_json(row[0]["training_configuration"]) if row else {}
        self._set(tx, event, training_configuration=to_json({**current, **event.changes}))

    @handles(Project.Deleted)
    def deleted(self, event: Any, tx: Transaction) -> None:
        tx.execute("DELETE FROM rm_projects WHERE id = ?", (str(event.originator_id),))

    def _labels(self, tx: Transaction, event: Any) -> list[dict[str, Any]]:
        rows = tx.query("SELECT labels FROM rm_projects WHERE id = ?", (str(event.originator_id),))
        return from_json(rows[0]["labels"]) if rows else []

    def _set(self, tx: Transaction, event: Any, **columns: Any) -> None:
        assignments = ", ".join(f"{column} = ?" for column in columns)
        tx.execute(f"UPDATE rm_projects SET {assignments}, updated_at = ? WHERE id = ?",
                   (*columns.values(), iso(event.timestamp), str(event.originator_id)))
