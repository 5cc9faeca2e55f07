"""Removing media files that no item references: what a crash between bytes and event leaves."""

from collections.abc import Callable

from application.ports.media import MediaStore
from application.ports.read_store import ReadStore

GRACE_S = 3600.0


def is_referenced(read: ReadStore, sha256: str) -> bool:
    """Live items and dataset revisions whose files were not deleted keep their media."""
    row = read.query_one("SELECT 1 AS found FROM rm_items WHERE media_sha256 = ? OR thumbnail_sha256 = ? LIMIT 1",
                         (sha256, sha256)) or read.query_one(
        "SELECT 1 AS found FROM rm_revision_items i JOIN rm_revisions r ON r.id = i.revision_id "
        "WHERE r.files_deleted = 0 AND (i.media_sha256 = ? OR i.thumbnail_sha256 = ?) LIMIT 1", (sha256, sha256))
    return row is not None


def sweep_media(media: MediaStore, read: ReadStore, grace_s: float = GRACE_S,
                lag: Callable[[], int] = lambda: 0) -> list[str]:
    """Delete unreferenced files older than the grace period (uploads in flight are younger).

    References are read from the read models, so nothing is swept while they lag behind the log:
    an item saved but not yet projected would look unreferenced.
    """
    if lag() > 0:
        return []
    return media.sweep(lambda sha256: is_referenced(read, sha256), older_than_s=grace_s)
