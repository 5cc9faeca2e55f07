"""Source: where a pipeline reads frames from (camera, stream, video file, image folder)."""

from domain.connection import Connection

SOURCE_TYPES = ("usb_camera", "ip_camera", "video_file", "images_folder")


class Source(Connection):
    """A configured frame source."""

    kind = "source"
    types = SOURCE_TYPES
