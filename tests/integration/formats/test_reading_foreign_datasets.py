"""Stories: minimal datasets as other tools write them are detected and read."""

from __future__ import annotations

from pathlib import Path

from format_samples import by_name, encode, put

from adapters.formats import all_formats
from application.ports.dataset_formats import detect_format, find_dataset_root

CAT = encode(100, 50, ".jpg", 20)
DOG = encode(40, 40, ".png", 21)


def read(root: Path) -> tuple[str, dict]:
    dataset_format = detect_format(root, all_formats())
    dataset = dataset_format.read(root)
    return dataset_format.name, {"dataset": dataset, "items": by_name(dataset)}


def test_a_coco_file_with_boxes_polygons_and_two_subsets_is_read(tmp_path: Path) -> None:
    categories = [{"id": 3, "name": "cat", "supercategory": "animal"}, {"id": 7, "name": "dog"}]
    put(tmp_path, "images/train2017/cat.jpg", CAT)
    put(tmp_path, "images/val2017/dog.png", DOG)
    put(tmp_path, "annotations/instances_train2017.json", {
        "categories": categories,
        "images": [{"id": 1, "file_name": "cat.jpg", "width": 100, "height": 50}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 3, "bbox": [10.5, 5, 20, 30], "area": 600, "iscrowd": 0,
             "segmentation": []},
            {"id": 2, "image_id": 1, "category_id": 7, "bbox": [0, 0, 10, 10], "iscrowd": 0,
             "segmentation": [[0, 0, 10, 0, 10, 10], [50, 5, 60, 5, 55, 15]]}]})
    put(tmp_path, "annotations/instances_val2017.json", {
        "categories": categories, "annotations": [],
        "images": [{"id": 1, "file_name": "dog.png", "width": 40, "height": 40}]})

    name, found = read(tmp_path)

    cat, dog = found["items"]["cat.jpg"], found["items"]["dog.png"]
    assert name == "coco" and [label.name for label in found["dataset"].labels] == ["cat", "dog"]
    assert (cat.subset, dog.subset, dog.annotated) == ("training", "validation", False)
    assert [a.shape for a in cat.annotations] == [
        {"type": "rectangle", "x": 10.5, "y": 5, "width": 20, "height": 30},
        {"type": "polygon", "points": [{"x": 0, "y": 0}, {"x": 10, "y": 0}, {"x": 10, "y": 10}]},
        {"type": "polygon", "points": [{"x": 50, "y": 5}, {"x": 60, "y": 5}, {"x": 55, "y": 15}]}]
    assert found["dataset"].task_type == "instance_segmentation"
    assert cat.load_bytes() == CAT


def test_a_single_annotations_json_with_images_beside_it_is_read_as_coco(tmp_path: Path) -> None:
    put(tmp_path, "export/annotations.json", {
        "categories": [{"id": 0, "name": "cat"}],
        "images": [{"id": "a", "file_name": "pics/cat.jpg"}],
        "annotations": [{"id": 1, "image_id": "a", "category_id": 0, "bbox": [0, 0, 100, 50]}]})
    put(tmp_path, "export/images/pics/cat.jpg", CAT)

    root = find_dataset_root(tmp_path)
    name, found = read(root)

    assert root == tmp_path / "export" and name == "coco"
    assert found["items"]["pics/cat.jpg"].annotations[0].shape["width"] == 100


def test_darknet_yolo_with_obj_names_boxes_and_a_seg_polygon_is_read(tmp_path: Path) -> None:
    put(tmp_path, "obj.names", "cat\ndog\n")
    put(tmp_path, "images/train/cat.jpg", CAT)
    put(tmp_path, "labels/train/cat.txt", "0 0.5 0.5 0.2 0.4\n1 0.1 0.2 0.3 0.2 0.2 0.8\n")
    put(tmp_path, "images/train/dog.png", DOG)

    name, found = read(tmp_path)

    cat, dog = found["items"]["cat.jpg"], found["items"]["dog.png"]
    assert name == "yolo" and (cat.subset, cat.annotated, dog.annotated) == ("training", True, False)
    assert [a.shape for a in cat.annotations] == [
        {"type": "rectangle", "x": 40, "y": 15, "width": 20, "height": 20},
        {"type": "polygon", "points": [{"x": 10, "y": 10}, {"x": 30, "y": 10}, {"x": 20, "y": 40}]}]
    assert [a.labels for a in cat.annotations] == [["cat"], ["dog"]]


def test_roboflow_style_yolo_with_data_yaml_and_subset_folders_is_read(tmp_path: Path) -> None:
    put(tmp_path, "data.yaml", "train: ../train/images\nval: ../valid/images\nnc: 2\nnames: ['cat', 'dog']\n")
    put(tmp_path, "train/images/cat.jpg", CAT)
    put(tmp_path, "train/labels/cat.txt", "1 0.5 0.5 1 1\n")
    put(tmp_path, "valid/images/dog.png", DOG)
    put(tmp_path, "valid/labels/dog.txt", "")

    name, found = read(tmp_path)

    cat, dog = found["items"]["cat.jpg"], found["items"]["dog.png"]
    assert name == "yolo" and (cat.subset, dog.subset, dog.annotated) == ("training", "validation", True)
    assert cat.annotations[0].labels == ["dog"] and cat.annotations[0].shape["width"] == 100


def test_pascal_voc_boxes_use_one_based_corners_and_image_sets_give_subsets(tmp_path: Path) -> None:
    put(tmp_path, "JPEGImages/000001.jpg", CAT)
    put(tmp_path, "JPEGImages/000002.png", DOG)
    put(tmp_path, "Annotations/000001.xml", """<?xml version="1.0"?>
<annotation><folder>VOC2012</folder><filename>000001.jpg</filename>
  <size><width>100</width><height>50</height><depth>3</depth></size>
  <object><name>cat</name><difficult>0</difficult>
    <bndbox><xmin>1</xmin><ymin>1</ymin><xmax>100</xmax><ymax>50</ymax></bndbox></object>
  <object><name>dog</name><bndbox><xmin>11</xmin><ymin>6</ymin><xmax>20</xmax><ymax>25</ymax></bndbox></object>
</annotation>""")
    put(tmp_path, "ImageSets/Main/train.txt", "000001\n")
    put(tmp_path, "ImageSets/Main/val.txt", "000002\n")
    put(tmp_path, "ImageSets/Main/trainval.txt", "000001\n000002\n")

    name, found = read(tmp_path)

    cat, dog = found["items"]["000001.jpg"], found["items"]["000002.png"]
    assert name == "voc" and (cat.subset, dog.subset, dog.annotated) == ("training", "validation", False)
    assert [a.shape for a in cat.annotations] == [
        {"type": "rectangle", "x": 0, "y": 0, "width": 100, "height": 50},
        {"type": "rectangle", "x": 10, "y": 5, "width": 10, "height": 20}]


def test_voc_labelmap_colours_and_classification_lists_are_read(tmp_path: Path) -> None:
    put(tmp_path, "labelmap.txt", "# label:color_rgb:parts:actions\nbackground:0,0,0::\ncat:255,128,0::\ndog:::\n")
    put(tmp_path, "JPEGImages/a.jpg", CAT)
    put(tmp_path, "ImageSets/Main/cat_train.txt", "a  1\n")
    put(tmp_path, "ImageSets/Main/dog_train.txt", "a -1\n")

    name, found = read(tmp_path)

    assert name == "voc" and [(label.name, label.color) for label in found["dataset"].labels] == [("cat", "#ff8000"), ("dog", None)]
    item = found["items"]["a.jpg"]
    assert (item.subset, item.annotated, [a.labels for a in item.annotations]) == ("training", True, [["cat"]])
    assert found["dataset"].task_type == "classification"


def test_a_datumaro_export_with_boxes_polygons_and_labels_is_read(tmp_path: Path) -> None:
    put(tmp_path, "images/train/cat.jpg", CAT)
    put(tmp_path, "images/default/dog.png", DOG)
    labels = {"label": {"labels": [{"name": "cat", "parent": "", "attributes": []},
                                   {"name": "dog", "parent": "", "attributes": []}], "attributes": []},
              "mask": {"colormap": [{"label_id": 1, "r": 0, "g": 0, "b": 255}]}}
    put(tmp_path, "annotations/train.json", {
        "dm_format_version": "1.0", "media_type": 2, "infos": {}, "categories": labels,
        "items": [{"id": "cat", "image": {"path": "cat.jpg", "size": [50, 100]}, "annotations": [
            {"id": 0, "type": "bbox", "attributes": {}, "group": 0, "label_id": 0, "z_order": 0, "bbox": [1, 2, 3, 4]},
            {"id": 1, "type": "polygon", "label_id": 1, "points": [0, 0, 5, 0, 5, 5]},
            {"id": 2, "type": "points", "label_id": 1, "points": [1, 1]}]}]})
    put(tmp_path, "annotations/default.json", {
        "categories": labels, "items": [{"id": "dog", "image": {"path": "dog.png"},
                                         "annotations": [{"type": "label", "label_id": 1}]}]})

    name, found = read(tmp_path)

    cat, dog = found["items"]["cat.jpg"], found["items"]["dog.png"]
    assert name == "datumaro" and found["dataset"].labels[1].color == "#0000ff"
    assert (cat.subset, dog.subset) == ("training", None)
    assert [a.shape["type"] for a in cat.annotations] == ["rectangle", "polygon"]
    assert dog.annotations[0].shape == {"type": "full_image"}
    assert "points" in found["dataset"].warnings[0]


def test_a_hand_written_viewfinder_manifest_is_read(tmp_path: Path) -> None:
    put(tmp_path, "media/cat.jpg", CAT)
    put(tmp_path, "viewfinder.json", {
        "version": 1,
        "task": {"task_type": "detection", "exclusive_labels": True, "labels": [{"name": "cat", "hotkey": "k"}]},
        "items": [{"name": "cat.jpg", "subset": "unassigned", "tags": ["x"],
                   "annotations": [{"labels": [{"name": "cat"}],
                                    "shape": {"type": "rectangle", "x": 0, "y": 0, "width": 5, "height": 5}}]}],
        "views": [{"name": "v", "items": ["cat.jpg"]}]})

    name, found = read(tmp_path)

    item = found["items"]["cat.jpg"]
    assert name == "viewfinder" and found["dataset"].labels[0].hotkey == "k"
    assert (item.subset, item.tags, item.annotated, item.width) == (None, ["x"], True, 100)
    assert found["dataset"].views == {"v": ["cat.jpg"]}
