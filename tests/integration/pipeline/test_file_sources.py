"""Video files and image folders read with the real OpenCV."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import cv2
import pytest
from camera_peers import index_of, numbered_image, write_video

from adapters.sources import ImagesFolderSource, VideoFileSource, build_source
from application.ports.frames import Frame, FrameSource, SourceUnavailableError


def read_all(source: FrameSource, limit: int = 1000, timeout: float = 0.5) -> list[Frame]:
    frames: list[Frame] = []
    while len(frames) < limit and not source.finished:
        frame = source.read(timeout)
        if frame is None and not source.finished:
            break
        if frame is not None:
            frames.append(frame)
    return frames


@pytest.mark.parametrize("name,fourcc", [("clip.mp4", "mp4v"), ("clip.avi", "MJPG")])
def test_a_video_file_delivers_every_frame_in_order_then_finishes(
    tmp_path: Path, name: str, fourcc: str
) -> None:
    path = write_video(tmp_path / name, 20, fourcc)
    with build_source({"source_type": "video_file", "video_path": str(path)}) as source:
        frames = read_all(source)
        assert source.finished and source.read(0.1) is None
    assert [f.sequence for f in frames] == list(range(1, 21))
    assert [index_of(f.image) for f in frames] == [i % 15 for i in range(20)]
    assert (frames[0].width, frames[0].height) == (160, 120)
    assert source.stats.read == 20


def test_a_slow_reader_of_a_video_file_skips_nothing(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", 6, fps=100.0)
    with VideoFileSource(str(path)) as source:
        frames = []
        while (frame := source.read(0.1)) is not None:
            frames.append(index_of(frame.image))
            time.sleep(0.05)
    assert frames == [0, 1, 2, 3, 4, 5]


def test_a_looping_video_file_starts_again_and_keeps_counting(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", 5)
    with VideoFileSource(str(path), loop=True) as source:
        frames = read_all(source, limit=12)
        assert not source.finished
    assert [f.sequence for f in frames] == list(range(1, 13))
    assert [index_of(f.image) for f in frames] == [0, 1, 2, 3, 4] * 2 + [0, 1]


def test_a_missing_or_broken_video_file_is_unavailable_with_a_readable_message(
    tmp_path: Path,
) -> None:
    with pytest.raises(SourceUnavailableError, match="does not exist"):
        VideoFileSource(str(tmp_path / "nope.mp4")).open()
    (tmp_path / "junk.mp4").write_bytes(b"not a video at all" * 10)
    with pytest.raises(SourceUnavailableError, match="cannot be decoded"):
        VideoFileSource(str(tmp_path / "junk.mp4")).open()


def write_image(path: Path, index: int, mtime: float | None = None) -> None:
    cv2.imwrite(str(path), numbered_image(index))
    if mtime is not None:
        os.utime(path, (mtime, mtime))


def test_existing_images_are_read_oldest_first(tmp_path: Path) -> None:
    now = time.time()
    for index, name in enumerate(["c.png", "a.jpg", "b.bmp"]):
        write_image(tmp_path / name, index, now - 100 + index)
    config = {"source_type": "images_folder", "images_folder_path": str(tmp_path)}
    with build_source(config) as source:
        frames = read_all(source, timeout=0.3)
    assert [index_of(f.image) for f in frames] == [0, 1, 2]


def test_existing_images_are_ignored_when_asked_and_new_ones_are_read(tmp_path: Path) -> None:
    write_image(tmp_path / "old.png", 1, time.time() - 100)
    with ImagesFolderSource(str(tmp_path), ignore_existing_images=True) as source:
        assert source.read(0.3) is None
        write_image(tmp_path / "new.png", 2)
        frame = source.read(2.0)
    assert frame is not None and index_of(frame.image) == 2


def test_images_written_while_reading_are_picked_up_whole_and_in_order(tmp_path: Path) -> None:
    def write_slowly() -> None:
        for index in range(5):
            data = cv2.imencode(".png", numbered_image(index, 640, 480))[1].tobytes()
            with open(tmp_path / f"img{index}.png", "wb") as file:
                file.write(data[: len(data) // 2])
                file.flush()
                time.sleep(0.08)  # a half-written file must not be read
                file.write(data[len(data) // 2 :])
            time.sleep(0.02)

    with ImagesFolderSource(str(tmp_path), settle_time=0.15) as source:
        writer = threading.Thread(target=write_slowly)
        writer.start()
        frames, deadline = [], time.monotonic() + 5
        while len(frames) < 5 and time.monotonic() < deadline:
            if (frame := source.read(0.1)) is not None:
                frames.append(frame)
        writer.join()
        frames += read_all(source, timeout=0.3)
        assert source.stats.unreadable == 0
    assert [index_of(f.image) for f in frames] == [0, 1, 2, 3, 4]


def test_unreadable_files_are_skipped_and_counted(tmp_path: Path) -> None:
    old = time.time() - 10
    write_image(tmp_path / "1.png", 1, old)
    (tmp_path / "2.jpg").write_bytes(b"\xff\xd8 truncated")
    os.utime(tmp_path / "2.jpg", (old + 1, old + 1))
    write_image(tmp_path / "3.png", 3, old + 2)
    (tmp_path / "notes.txt").write_text("not an image, not counted")
    with ImagesFolderSource(str(tmp_path)) as source:
        frames = read_all(source, timeout=0.3)
        stats = source.stats
    assert [index_of(f.image) for f in frames] == [1, 3]
    assert (stats.read, stats.unreadable) == (2, 1)


def test_a_missing_folder_is_unavailable_with_a_readable_message(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailableError, match="cannot be read"):
        ImagesFolderSource(str(tmp_path / "absent")).open()
