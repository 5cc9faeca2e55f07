"""OpenCV frame sources: video files, image folders, USB and IP cameras."""

from adapters.sources.factory import build_source
from adapters.sources.images_folder import ImagesFolderSource
from adapters.sources.ip_camera import IpCameraSource
from adapters.sources.live_camera import LiveCameraSource
from adapters.sources.usb_camera import UsbCameraSource
from adapters.sources.video_file import VideoFileSource

__all__ = [
    "ImagesFolderSource",
    "IpCameraSource",
    "LiveCameraSource",
    "UsbCameraSource",
    "VideoFileSource",
    "build_source",
]
