"""Stories: hostile zip archives are refused before (or while) unpacking, leaving nothing behind."""

from __future__ import annotations

import stat
import struct
import zipfile
from pathlib import Path

import pytest

from adapters.archives import ZipArchives, inspect_zip, make_zip, safe_extract
from application.ports.dataset_formats import (
    ArchiveLimits,
    InvalidArchiveError,
    UnsafeArchiveError,
)

SMALL = ArchiveLimits(max_files=10, max_entry_size=8 * 1024**2, max_total_size=10 * 1024**2, max_ratio=100.0)


def build(path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return path


def patch(path: Path, local_offset: int, central_offset: int, fmt: str, value: int) -> None:
    """Overwrite one field of the only entry, in its local header and in the central directory."""
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into(fmt, data, local_offset, value)
    struct.pack_into(fmt, data, central + central_offset, value)
    path.write_bytes(bytes(data))


def assert_refused(archive: Path, reason: str, limits: ArchiveLimits = SMALL) -> None:
    """Refused by inspect and by extract, and nothing exists but the archive itself."""
    destination = archive.parent / "unpacked"
    with pytest.raises(UnsafeArchiveError, match=reason):
        safe_extract(archive, destination, limits)
    assert sorted(p.name for p in archive.parent.iterdir()) == [archive.name]
    assert not (archive.parent.parent / "evil.txt").exists()


@pytest.mark.parametrize(("name", "reason"), [
    ("../evil.txt", r"climbs out of the archive's folder with '\.\.'"),
    ("data/../../evil.txt", r"climbs out"),
    ("/tmp/evil.txt", r"has an absolute path"),
    ("C:/evil.txt", r"has an absolute path"),
    ("..\\evil.txt", r"has a backslash"),
])
def test_a_path_that_escapes_the_destination_is_refused(name: str, reason: str, tmp_path: Path) -> None:
    archive = build(tmp_path / "a.zip", [("ok.txt", b"fine"), (name, b"pwned")])
    assert_refused(archive, reason)


def test_a_symbolic_link_entry_is_refused(tmp_path: Path) -> None:
    link = zipfile.ZipInfo("images/link.jpg")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    archive = build(tmp_path / "a.zip", [(link, b"/etc/passwd")])
    with pytest.raises(UnsafeArchiveError, match="is a symbolic link"):
        inspect_zip(archive, SMALL)
    assert_refused(archive, "is a symbolic link")


def test_a_bomb_by_compression_ratio_is_refused_from_its_header(tmp_path: Path) -> None:
    archive = build(tmp_path / "a.zip", [("zeros.json", bytes(6 * 1024**2))])
    assert archive.stat().st_size < 64 * 1024
    assert_refused(archive, r"expands \d+ times \(at most 100\); it looks like a zip bomb")


def test_a_bomb_by_total_size_is_refused_although_it_is_small_on_disk(tmp_path: Path) -> None:
    archive = build(tmp_path / "a.zip", [(f"part{i}.bin", bytes(4 * 1024**2)) for i in range(3)])
    lenient_ratio = ArchiveLimits(max_files=10, max_entry_size=8 * 1024**2, max_total_size=10 * 1024**2,
                                  max_ratio=1e9)
    assert archive.stat().st_size < 64 * 1024
    assert_refused(archive, r"expands to more than 10485760 bytes", lenient_ratio)


def test_a_single_entry_over_the_per_file_limit_is_refused(tmp_path: Path) -> None:
    archive = build(tmp_path / "a.zip", [("big.bin", bytes(9 * 1024**2))])
    assert_refused(archive, r"at most 8388608 are allowed per file", ArchiveLimits(
        max_entry_size=8 * 1024**2, max_ratio=1e9))


def test_an_entry_whose_header_understates_its_size_is_stopped_while_streaming(tmp_path: Path) -> None:
    archive = build(tmp_path / "a.zip", [("liar.bin", bytes(5 * 1024**2))])
    patch(archive, 22, 24, "<I", 100)  # declares 100 bytes: passes every header check
    assert inspect_zip(archive, SMALL).total_size == 100
    assert_refused(archive, r"'liar.bin' does not match its header \(Bad CRC-32")


def test_an_entry_whose_header_overstates_its_size_is_refused(tmp_path: Path) -> None:
    archive = build(tmp_path / "a.zip", [("short.txt", b"only a few bytes")])
    patch(archive, 22, 24, "<I", 4096)
    assert_refused(archive, r"'short.txt' (holds 16 bytes, but its header declares 4096|does not match)")


def test_too_many_files_are_refused(tmp_path: Path) -> None:
    archive = build(tmp_path / "a.zip", [(f"f{i}.txt", b"x") for i in range(11)])
    assert_refused(archive, r"holds 11 entries; at most 10 are allowed")


def test_an_entry_flagged_as_encrypted_is_refused(tmp_path: Path) -> None:
    archive = build(tmp_path / "a.zip", [("secret.txt", b"hidden")])
    patch(archive, 6, 8, "<H", 0x1)
    assert_refused(archive, r"'secret.txt' is encrypted")


def test_duplicate_names_and_a_file_that_is_also_a_folder_are_refused(tmp_path: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        archive = build(tmp_path / "a.zip", [("a.txt", b"1"), ("a.txt", b"2")])
    assert_refused(archive, r"holds the entry 'a.txt' twice")
    archive.unlink()
    assert_refused(build(tmp_path / "b.zip", [("a", b"1"), ("a/b.txt", b"2")]), r"'a' is a file and also the folder")


def test_a_file_that_is_not_a_zip_is_an_invalid_archive(tmp_path: Path) -> None:
    (tmp_path / "a.zip").write_bytes(b"not a zip at all")
    with pytest.raises(InvalidArchiveError, match="not a readable zip archive"):
        inspect_zip(tmp_path / "a.zip", SMALL)


def test_a_sound_archive_unpacks_inside_its_destination_only(tmp_path: Path) -> None:
    archive = build(tmp_path / "a.zip", [("./images/", b""), ("images/a.jpg", b"\xff\xd8jpeg"), ("x.json", b"{}")])
    report = ZipArchives().extract(archive, tmp_path / "out", SMALL)
    assert (report.file_count, report.directory_count, report.names) == (2, 1, ("images/a.jpg", "x.json"))
    assert (tmp_path / "out/images/a.jpg").read_bytes() == b"\xff\xd8jpeg"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zip", "out"]


def test_packing_is_deterministic_and_unpacks_to_the_same_files(tmp_path: Path) -> None:
    source = tmp_path / "src"
    for name, data in {"b/2.png": b"\x89PNG", "a.json": b"[]", "b/1.txt": b"one"}.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    make_zip(source, tmp_path / "one.zip")
    (source / "a.json").touch()  # a newer time must not change the archive
    make_zip(source, tmp_path / "two.zip")
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    assert zipfile.ZipFile(tmp_path / "one.zip").namelist() == ["a.json", "b/1.txt", "b/2.png"]
    safe_extract(tmp_path / "one.zip", tmp_path / "back", SMALL)
    assert (tmp_path / "back/b/1.txt").read_bytes() == b"one"
