"""Stories: a broken dataset is refused with one readable sentence naming the file and problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from format_samples import encode, put

from adapters.formats import all_formats, format_named
from application.ports.dataset_formats import (
    InvalidDatasetError,
    UnknownDatasetFormatError,
    detect_format,
)

JPEG = encode(100, 50, ".jpg", 30)


def coco(tmp_path: Path, annotations: list, images: list | None = None) -> None:
    put(tmp_path, "images/train/a.jpg", JPEG)
    put(tmp_path, "annotations/instances_train.json", {
        "categories": [{"id": 1, "name": "cat"}],
        "images": images if images is not None else [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 50}],
        "annotations": annotations})


def yolo(tmp_path: Path, line: str) -> None:
    put(tmp_path, "obj.names", "cat\n")
    put(tmp_path, "images/train/a.jpg", JPEG)
    put(tmp_path, "labels/train/a.txt", line)


def voc(tmp_path: Path, xml_body: str, labelmap: str | None = None) -> None:
    put(tmp_path, "JPEGImages/a.jpg", JPEG)
    put(tmp_path, "Annotations/a.xml", xml_body)
    if labelmap is not None:
        put(tmp_path, "labelmap.txt", labelmap)


def viewfinder(tmp_path: Path, **overrides: object) -> None:
    put(tmp_path, "media/a.jpg", JPEG)
    item = {"name": "a.jpg", "annotations": [{"labels": [{"name": "cat"}], "shape": {"type": "full_image"}}]}
    put(tmp_path, "viewfinder.json", {"version": 1, "task": {"labels": [{"name": "cat"}]},
                                      "items": [{**item, **overrides}]})


BOX = '<annotation><object><name>{}</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>{}</xmax><ymax>5</ymax></bndbox></object></annotation>'
CASES: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "coco json that does not parse": ("coco", lambda p: put(p, "annotations/instances_train.json", '{"images": [,]}'),
                                      r"annotations/instances_train.json is not valid JSON: .* line 1, column 13"),
    "coco image missing": ("coco", lambda p: coco(p, [], [{"id": 1, "file_name": "gone.jpg"}]),
                           r"image images/train/gone.jpg is missing"),
    "coco unknown category": ("coco", lambda p: coco(p, [{"image_id": 1, "category_id": 9, "bbox": [0, 0, 1, 1]}]),
                              r"instances_train.json: image 0 \(a.jpg\): annotation 0: category_id 9 is not"),
    "coco box outside the image": ("coco", lambda p: coco(p, [{"image_id": 1, "category_id": 1, "bbox": [90, 0, 20, 5]}]),
                                   r"box \(x=90, y=0, width=20, height=5\) of the 100x50 image lies outside"),
    "coco size that lies": ("coco", lambda p: coco(p, [], [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 5}]),
                            r"the image is 100x50 but the annotations declare 10x5"),
    "coco annotation of no image": ("coco", lambda p: coco(p, [{"image_id": 4, "category_id": 1}]),
                                    r"annotations refer to image id 4, which is not in 'images'"),
    "coco file name climbing out": ("coco", lambda p: coco(p, [], [{"id": 1, "file_name": "../../etc/passwd"}]),
                                    r"'../../etc/passwd' points outside the dataset"),
    "yolo class out of range": ("yolo", lambda p: yolo(p, "3 0.5 0.5 0.1 0.1\n"),
                                r"labels/train/a.txt: line 1: class '3' is not one of the 1 class names"),
    "yolo line of the wrong length": ("yolo", lambda p: yolo(p, "0 0.5 0.5\n"),
                                      r"labels/train/a.txt: line 1: expected 'class cx cy w h'"),
    "yolo box past the edge": ("yolo", lambda p: yolo(p, "0 0.95 0.5 0.5 0.5\n"), r"lies outside the image"),
    "yolo yaml alias": ("yolo", lambda p: (yolo(p, ""), (p / "obj.names").unlink(),
                                           put(p, "data.yaml", "a: &x [cat]\nnames: *x\n")),
                        r"data.yaml: YAML anchors and aliases are not allowed"),
    "voc entity expansion": ("voc", lambda p: voc(p, '<!DOCTYPE a [<!ENTITY x "xx">]><annotation>&x;</annotation>'),
                             r"Annotations/a.xml declares a DOCTYPE or entities"),
    "voc broken xml": ("voc", lambda p: voc(p, "<annotation><object></annotation>"),
                       r"Annotations/a.xml is not valid XML: mismatched tag"),
    "voc label missing from labelmap": ("voc", lambda p: voc(p, BOX.format("dog", 5), "cat:::\n"),
                                        r"Annotations/a.xml: object 0: the label 'dog' is not in labelmap.txt"),
    "voc box without corners": ("voc", lambda p: voc(p, "<annotation><object><name>a</name></object></annotation>"),
                                r"object 0: <bndbox> needs xmin, ymin, xmax and ymax"),
    "voc empty box": ("voc", lambda p: voc(p, BOX.format("cat", -3)), r"width=-3, height=5\) .* is empty"),
    "datumaro unknown label id": ("datumaro", lambda p: (put(p, "images/default/a.jpg", JPEG), put(
        p, "annotations/default.json", {"categories": {"label": {"labels": [{"name": "cat"}]}},
                                        "items": [{"id": "a", "image": {"path": "a.jpg"},
                                                   "annotations": [{"type": "bbox", "label_id": 2, "bbox": [0, 0, 1, 1]}]}]})),
                                  r"annotations/default.json: item 0 \(a\): annotation 0: label_id 2 is not one of the 1"),
    "viewfinder unknown label": ("viewfinder", lambda p: viewfinder(p, annotations=[
        {"labels": [{"name": "owl"}], "shape": {"type": "full_image"}}]),
                                 r"viewfinder.json: item 0 \(a.jpg\): annotation 0: the label 'owl' is not one"),
    "viewfinder unknown shape": ("viewfinder", lambda p: viewfinder(p, annotations=[
        {"labels": [{"name": "cat"}], "shape": {"type": "circle"}}]), r"'circle' is not a shape type"),
    "viewfinder media outside": ("viewfinder", lambda p: viewfinder(p, file="../../a.jpg"),
                                 r"viewfinder.json: item 0: the file name '../../a.jpg' points outside the dataset"),
    "viewfinder file that is not an image": ("viewfinder", lambda p: (viewfinder(p), put(p, "media/a.jpg", b"GIF89a")),
                                             r"media/a.jpg is not a JPEG, PNG, BMP, TIFF or WebP image"),
    "viewfinder bad subset": ("viewfinder", lambda p: viewfinder(p, subset="holdout"), r"'holdout' is not a subset"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_broken_dataset_is_refused_with_a_readable_reason(case: str, tmp_path: Path) -> None:
    format_name, build, message = CASES[case]
    build(tmp_path)
    assert detect_format(tmp_path, all_formats()).name == format_name
    with pytest.raises(InvalidDatasetError, match=message) as caught:
        format_named(format_name).read(tmp_path)
    assert str(tmp_path) not in caught.value.detail  # server folders never leak into messages


def test_a_folder_of_no_known_format_says_what_was_looked_for(tmp_path: Path) -> None:
    put(tmp_path, "photos/a.jpg", JPEG)
    with pytest.raises(UnknownDatasetFormatError) as caught:
        detect_format(tmp_path, all_formats())
    for expected in ("viewfinder.json", "annotations/instances_<subset>.json", "Annotations/*.xml", "obj.names"):
        assert expected in caught.value.detail
