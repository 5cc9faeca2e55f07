"""Folder sink: per frame, atomic files whose names sort by time."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from adapters.sinks.payload import annotated_jpeg, encode_jpeg, parse_output_formats
from application.ports.frames import Frame
from application.ports.sinks import FrameSink, PredictionPayload, SinkStats, SinkUnavailableError


def file_stem(frame: Frame) -> str:
    """E.g. '20250102T030405.123456Z_00000042': UTC time first, so names sort by time."""
    moment = datetime.fromtimestamp(frame.timestamp, UTC)
    return f"{moment:%Y%m%dT%H%M%S.%f}Z_{frame.sequence:08d}"


class FolderSink(FrameSink):
    """Writes <stem>_original.jpg, <stem>_annotated.jpg and <stem>_predictions.json."""

    def __init__(self, folder_path: str, output_formats: Iterable[str] | None = None) -> None:
        self._folder = folder_path
        self._formats = parse_output_formats(output_formats)
        self._stats = SinkStats()

    def send(
        self,
        frame: Frame,
        image_with_predictions_jpeg: bytes | None,
        prediction: PredictionPayload,
    ) -> None:
        """Write the configured files; a full or unwritable folder raises, never crashes."""
        stem = file_stem(frame)
        files: list[tuple[str, bytes]] = []
        if "image_original" in self._formats:
            files.append((f"{stem}_original.jpg", encode_jpeg(frame.image)))
        if "image_with_predictions" in self._formats:
            jpeg = annotated_jpeg(frame, image_with_predictions_jpeg, prediction)
            files.append((f"{stem}_annotated.jpg", jpeg))
        if "predictions" in self._formats:
            files.append((f"{stem}_predictions.json", json.dumps(prediction).encode()))
        try:
            os.makedirs(self._folder, exist_ok=True)
            for name, data in files:
                self._write_atomically(name, data)
        except OSError as error:
            self._stats.failed += 1
            reason = error.strerror or str(error)
            raise SinkUnavailableError(
                f"Folder sink '{self._folder}' cannot be written: {reason}."
            ) from error
        self._stats.dispatched += 1

    def _write_atomically(self, name: str, data: bytes) -> None:
        # A hidden temporary name: folder watchers (e.g. an images_folder source) skip it.
        temporary = os.path.join(self._folder, f".{name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            with open(temporary, "wb") as file:
                file.write(data)
            os.replace(temporary, os.path.join(self._folder, name))
        except OSError:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise

    def close(self) -> None:
        """Nothing is held open between frames."""

    @property
    def stats(self) -> SinkStats:
        """A copy of the counters."""
        return SinkStats(**self._stats.as_dict())
