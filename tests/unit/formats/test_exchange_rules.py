"""Stories: the rules every format shares — coordinates, names, merging, detection order."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.formats.common import FileNamer, UniqueNames, subset_of
from adapters.formats.shapes import merge, per_label, polygon, rectangle
from application.ports.dataset_formats import (
    DatasetFormat,
    ExchangeAnnotation,
    ExchangeDataset,
    ExchangeItem,
    ExchangeLabel,
    InvalidDatasetError,
    UnknownDatasetFormatError,
    detect_format,
    find_dataset_root,
    guess_task_type,
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)
JPEG = b"\xff\xd8\xff\xe0" + bytes(32)


class FakeFormat(DatasetFormat):
    """A format that matches when a marker file exists."""

    shapes = frozenset({"rectangle"})

    def __init__(self, name: str, marker: str) -> None:
        self.name, self.marker, self.looks_for = name, marker, marker  # type: ignore[misc]

    def detect(self, root: Path) -> bool:
        return (root / self.marker).exists()

    def read(self, root: Path) -> ExchangeDataset:
        raise NotImplementedError

    def write(self, dataset: ExchangeDataset, root: Path) -> None:
        raise NotImplementedError


def test_corners_are_rounded_to_hundredths_and_whole_numbers_become_ints() -> None:
    # the right edge 1.004 + 10.5049 = 11.5089 rounds to 11.51, so the width is 10.51
    assert rectangle(1.004, 2.0, 10.5049, 3, (100, 100), "f") == {
        "type": "rectangle", "x": 1, "y": 2, "width": 10.51, "height": 3}


def test_a_box_overshooting_by_up_to_a_pixel_is_clamped_and_further_is_refused() -> None:
    assert rectangle(-1, -0.5, 101, 50.5, (100, 50), "f") == {
        "type": "rectangle", "x": 0, "y": 0, "width": 100, "height": 50}
    with pytest.raises(InvalidDatasetError, match="f: the box .* lies outside the image"):
        rectangle(-1.5, 0, 10, 10, (100, 50), "f")


def test_non_numbers_and_degenerate_polygons_are_refused() -> None:
    with pytest.raises(InvalidDatasetError, match="are not numbers"):
        rectangle("a", 0, 1, 1, (10, 10), "f")
    with pytest.raises(InvalidDatasetError, match="are not finite"):
        rectangle(float("nan"), 0, 1, 1, (10, 10), "f")
    with pytest.raises(InvalidDatasetError, match="a polygon needs 3"):
        polygon([0, 0, 1, 1], (10, 10), "f")


def test_shapes_split_per_label_merge_back_into_one_annotation() -> None:
    box = {"type": "rectangle", "x": 1, "y": 1, "width": 2, "height": 2}
    annotations = [ExchangeAnnotation(["cat", "dog"], box), ExchangeAnnotation(["cat"], {"type": "full_image"}),
                   ExchangeAnnotation(["owl"], {"type": "full_image"})]
    split = [ExchangeAnnotation([label], shape) for label, shape in per_label(annotations)]
    assert len(split) == 4
    assert merge(split) == [ExchangeAnnotation(["cat", "dog"], box),
                            ExchangeAnnotation(["cat", "owl"], {"type": "full_image"})]


def test_subset_folder_names_of_common_tools_map_to_viewfinder_subsets() -> None:
    names = ["train", "train2017", "obj_train_data", "val", "valid", "test", "testing", "default", "extra"]
    assert [subset_of(n) for n in names] == ["training", "training", "training", "validation", "validation",
                                             "testing", "testing", None, None]


def test_exported_file_names_are_flat_unique_and_carry_an_image_suffix() -> None:
    namer = FileNamer()
    claimed = [namer.claim(n, d) for n, d in [("a.jpg", JPEG), ("A.png", PNG), ("../x/y", PNG), ("frame", JPEG)]]
    assert claimed == ["a.jpg", "A_1.png", "x_y.png", "frame.jpg"]
    with pytest.raises(InvalidDatasetError, match="'b.gif' is not a JPEG"):
        namer.claim("b.gif", b"GIF89a")


def test_read_names_that_clash_across_subsets_get_the_subset_folder() -> None:
    names = UniqueNames()
    assert [names.claim("a.jpg", "train"), names.claim("a.jpg", "val"), names.claim("a.jpg", "val")] == [
        "a.jpg", "val/a.jpg", "val/a_1.jpg"]


def test_the_task_type_is_guessed_from_the_richest_shape() -> None:
    def items(*kinds: str) -> list[ExchangeItem]:
        return [ExchangeItem("x", bytes, annotations=[ExchangeAnnotation(["a"], {"type": k}) for k in kinds])]
    assert guess_task_type(items("full_image")) == "classification"
    assert guess_task_type(items("rectangle", "full_image")) == "detection"
    assert guess_task_type(items("rectangle", "polygon")) == "instance_segmentation"
    assert guess_task_type(items()) is None


def test_detection_follows_the_fixed_precedence_not_the_order_given(tmp_path: Path) -> None:
    (tmp_path / "both").touch()
    formats = [FakeFormat("yolo", "both"), FakeFormat("coco", "both"), FakeFormat("viewfinder", "nope")]
    assert detect_format(tmp_path, formats).name == "coco"
    with pytest.raises(UnknownDatasetFormatError, match=r"looked for viewfinder: nope; coco: other"):
        detect_format(tmp_path, [FakeFormat("coco", "other"), FakeFormat("viewfinder", "nope")])


def test_the_dataset_root_is_found_below_a_single_wrapping_folder(tmp_path: Path) -> None:
    (tmp_path / "export/dataset/images").mkdir(parents=True)
    (tmp_path / "__MACOSX").mkdir()
    (tmp_path / "export/dataset/obj.names").touch()
    assert find_dataset_root(tmp_path) == tmp_path / "export/dataset"


def test_a_dataset_reports_counts_and_labels_for_the_staging_metadata() -> None:
    box = ExchangeAnnotation(["cat"], {"type": "rectangle", "x": 0, "y": 0, "width": 1, "height": 1})
    items = [ExchangeItem("a.jpg", bytes, annotations=[box, box]), ExchangeItem("b.jpg", bytes)]
    dataset = ExchangeDataset("detection", [ExchangeLabel("cat"), ExchangeLabel("dog")], items)
    assert dataset.metadata() == {"num_images": 2, "num_annotations": 2, "labels": ["cat", "dog"]}
