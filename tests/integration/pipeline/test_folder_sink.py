"""The folder sink writing real files, on a real (tiny) full file system too."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from sink_peers import sample_frame, sample_prediction

from adapters.sinks import FolderSink, build_sink
from application.ports.sinks import SinkUnavailableError

ALL_FORMATS = ["image_original", "image_with_predictions", "predictions"]


def test_each_frame_becomes_an_original_an_annotated_image_and_a_json_file(
    tmp_path: Path,
) -> None:
    sink = FolderSink(str(tmp_path / "out"), ALL_FORMATS)
    frame = sample_frame(sequence=42, timestamp=1_700_000_000.5)
    sink.send(frame, None, sample_prediction(frame))
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    stem = "20231114T221320.500000Z_00000042"
    assert names == [f"{stem}_annotated.jpg", f"{stem}_original.jpg", f"{stem}_predictions.json"]
    original = cv2.imread(str(tmp_path / "out" / names[1]))
    annotated = cv2.imread(str(tmp_path / "out" / names[0]))
    assert original.shape == annotated.shape == (240, 320, 3)
    assert np.abs(annotated.astype(int) - original.astype(int)).max() > 100  # a box was drawn
    assert json.loads((tmp_path / "out" / names[2]).read_text()) == sample_prediction(frame)


def test_files_sort_by_time_and_only_the_configured_formats_are_written(tmp_path: Path) -> None:
    sink = FolderSink(str(tmp_path), ["predictions"])
    for sequence, timestamp in [(3, 1_700_000_009.0), (1, 1_700_000_010.0), (2, 1_700_000_011)]:
        frame = sample_frame(sequence, timestamp)
        sink.send(frame, b"\xff\xd8 given", sample_prediction(frame))
    files = sorted(tmp_path.iterdir())
    assert [json.loads(f.read_text())["frame"]["sequence"] for f in files] == [3, 1, 2]


def test_the_callers_annotated_jpeg_is_written_as_given(tmp_path: Path) -> None:
    sink = FolderSink(str(tmp_path), ["image_with_predictions"])
    frame = sample_frame()
    sink.send(frame, b"\xff\xd8 drawn by the pipeline", sample_prediction(frame))
    (written,) = tmp_path.iterdir()
    assert written.read_bytes() == b"\xff\xd8 drawn by the pipeline"


def test_an_unwritable_folder_makes_the_sink_unavailable_and_never_crashes(
    tmp_path: Path,
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    sink = build_sink({"sink_type": "folder", "folder_path": str(tmp_path / "a-file" / "out"),
                       "output_formats": ALL_FORMATS, "rate_limit": None})  # fmt: skip
    frame = sample_frame()
    sink.send(frame, None, sample_prediction(frame))
    assert sink.flush(5)
    assert sink.stats.failed == 1
    assert sink.last_error is not None and "cannot be written" in sink.last_error
    sink.close()


@pytest.fixture
def tiny_filesystem(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(mount_point)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root): " + mounted.stderr.decode().strip())
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_full_folder_makes_the_sink_unavailable_and_leaves_no_partial_files(
    tiny_filesystem: Path,
) -> None:
    sink = FolderSink(str(tiny_filesystem), ALL_FORMATS)
    with pytest.raises(SinkUnavailableError, match="No space left on device"):
        for sequence in range(100):
            frame = sample_frame(sequence)
            noisy = np.random.default_rng(sequence).integers(0, 255, (240, 320, 3), np.uint8)
            sink.send(frame.__class__(sequence, frame.timestamp + sequence, noisy, 320, 240),
                      None, sample_prediction(frame))  # fmt: skip
    assert not [p for p in tiny_filesystem.iterdir() if p.name.startswith(".")]
    for jpeg in tiny_filesystem.glob("*.jpg"):
        assert cv2.imread(str(jpeg)) is not None  # every file that exists is whole
