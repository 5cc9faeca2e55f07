"""Commands on a project's dataset: upload, annotate, tag, delete items."""

from typing import Any
from uuid import UUID, uuid4

from domain.dataset_item import DatasetItem
from domain.project import Project

from application.commands import Written, retrying
from application.event_store import EventStore
from application.ports.media import ImageCodec, MediaStore

MAX_BULK_ITEMS = 1000


class DatasetCommands:
    """Use cases that change dataset items."""

    def __init__(self, store: EventStore, media: MediaStore, codec: ImageCodec) -> None:
        self.store = store
        self.media = media
        self.codec = codec

    def upload(self, project_id: UUID, data: bytes, name: str | None, source: str, user: str) -> Written:
        """Validate the image, store bytes and thumbnail, then record the item.

        Bytes are written before the event: a crash in between leaves an unreferenced file that
        the media sweep removes, never an item without its bytes.
        """
        self.store.load(Project, project_id, "project")
        info, thumbnail_bytes = self.codec.inspect_with_thumbnail(data)
        thumbnail = self.media.put(thumbnail_bytes)
        original = self.media.put(data)
        media = {"sha256": original.sha256, "size": original.size, "format": info.format,
                 "content_type": info.content_type, "width": info.width, "height": info.height,
                 "thumbnail_sha256": thumbnail.sha256}
        item_id = uuid4()
        item = DatasetItem(id=item_id, project_id=project_id, name=name or f"{item_id}.{info.format}", media=media,
                           source=source, user=user)
        return Written(item.id, self.store.commit(item))

    def item(self, project_id: UUID, item_id: UUID) -> DatasetItem:
        return self.store.load_in_project(DatasetItem, item_id, project_id, "dataset item")

    @retrying
    def annotate(self, project_id: UUID, item_id: UUID, annotations: list[dict[str, Any]], user: str,
                 user_reviewed: bool = True) -> Written:
        project = self.store.load(Project, project_id, "project")
        item = self.item(project_id, item_id)
        context = item.context(project.task_type, project.exclusive_labels, {label.id for label in project.labels})
        item.annotate(annotations, context, user_reviewed, user)
        return Written(item.id, self.store.commit(item))

    @retrying
    def clear_annotations(self, project_id: UUID, item_id: UUID, user: str) -> Written:
        item = self.item(project_id, item_id)
        item.clear_annotations(user)
        return Written(item.id, self.store.commit(item))

    @retrying
    def delete(self, project_id: UUID, item_id: UUID, user: str) -> Written:
        item = self.item(project_id, item_id)
        item.delete(user)
        return Written(item.id, self.store.commit(item))

    @retrying
    def change_tags(self, project_id: UUID, item_ids: list[UUID], add: list[str], remove: list[str],
                    user: str) -> Written:
        """Add and remove tags on many items at once, atomically."""
        self.store.load(Project, project_id, "project")
        items = [self.item(project_id, item_id) for item_id in dict.fromkeys(item_ids)]
        for item in items:
            item.change_tags(add, remove, user)
        return Written(project_id, self.store.commit(*items))

    @retrying
    def assign_subset(self, project_id: UUID, item_id: UUID, subset: str, reason: str, user: str) -> Written:
        item = self.item(project_id, item_id)
        item.assign_subset(subset, reason, user)
        return Written(item.id, self.store.commit(item))

    @retrying
    def strip_label(self, item_id: UUID, label_id: UUID, user: str) -> int:
        """Policy command: remove a label that the project no longer has (idempotent)."""
        item = self.store.find(item_id)
        if not isinstance(item, DatasetItem):
            return 0
        item.strip_label(label_id, user)
        return self.store.commit(item)
