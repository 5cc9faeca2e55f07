"""Dataset formats: COCO, YOLO, Pascal VOC, Datumaro and Viewfinder's own, read and written by hand."""

from adapters.formats.coco import CocoFormat
from adapters.formats.datumaro import DatumaroFormat
from adapters.formats.viewfinder import ViewfinderFormat
from adapters.formats.voc import VocFormat
from adapters.formats.yolo import YoloFormat
from application.ports.dataset_formats import DatasetFormat, UnknownDatasetFormatError


def all_formats() -> list[DatasetFormat]:
    """One instance of every format, in detection precedence."""
    return [ViewfinderFormat(), DatumaroFormat(), CocoFormat(), VocFormat(), YoloFormat()]


def format_named(name: str) -> DatasetFormat:
    """The format called `name` ('coco', 'yolo', 'voc', 'datumaro', 'viewfinder')."""
    for dataset_format in all_formats():
        if dataset_format.name == name:
            return dataset_format
    known = ", ".join(f.name for f in all_formats())
    raise UnknownDatasetFormatError(f"{name!r} is not a dataset format (known: {known}).")


__all__ = ["CocoFormat", "DatumaroFormat", "ViewfinderFormat", "VocFormat", "YoloFormat", "all_formats",
           "format_named"]
