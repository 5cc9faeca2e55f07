"""Sources and sinks: typed configurations that pipelines attach to."""

from uuid import uuid4

import pytest

from domain.connection import (
    ConnectionDeletedError,
    ConnectionInUseError,
    ConnectionTypeChangeError,
)
from domain.errors import InvalidValueError
from domain.sink import Sink
from domain.source import Source

USER = "alice"


def usb_camera() -> Source:
    source = Source(id=uuid4(), name="Gate", type="usb_camera", config={"device_id": 0, "codec": None}, user=USER)
    source.collect_events()
    return source


def event_names(source: Source) -> list[str]:
    return [type(event).__name__ for event in source.collect_events()]


def test_only_known_types_are_accepted() -> None:
    Source.check_type("ip_camera")
    Sink.check_type("webhook")
    with pytest.raises(InvalidValueError):
        Source.check_type("webhook")
    with pytest.raises(InvalidValueError):
        Sink.check_type("usb_camera")


def test_the_type_of_a_connection_cannot_change() -> None:
    source = usb_camera()
    with pytest.raises(ConnectionTypeChangeError) as raised:
        source.reconfigure("Gate", "ip_camera", {"stream_url": "rtsp://cam/1"}, USER)
    assert raised.value.field == "source_type"
    assert source.type == "usb_camera" and source.pending_events == []


def test_a_reconfiguration_records_only_real_changes() -> None:
    source = usb_camera()
    source.reconfigure("Gate", "usb_camera", {"device_id": 0, "codec": None}, USER)
    assert source.pending_events == []
    source.reconfigure("Dock", "usb_camera", {"device_id": 2, "codec": None}, USER)
    assert event_names(source) == ["Reconfigured"]
    assert (source.name, source.config) == ("Dock", {"device_id": 2, "codec": None})


def test_attaching_and_detaching_are_idempotent() -> None:
    source, pipeline = usb_camera(), uuid4()
    source.attach(pipeline, USER)
    source.attach(pipeline, USER)
    assert event_names(source) == ["Attached"] and source.used_by == [pipeline]
    source.detach(pipeline, USER)
    source.detach(pipeline, USER)
    source.detach(uuid4(), USER)
    assert event_names(source) == ["Detached"] and source.used_by == []


def test_a_connection_in_use_cannot_be_deleted_until_every_pipeline_lets_go() -> None:
    source, first, second = usb_camera(), uuid4(), uuid4()
    source.attach(first, USER)
    source.attach(second, USER)
    source.detach(first, USER)
    source.collect_events()
    with pytest.raises(ConnectionInUseError) as raised:
        source.delete(USER)
    assert "used by 1 pipeline" in raised.value.detail and source.pending_events == []
    source.detach(second, USER)
    source.delete(USER)
    assert event_names(source) == ["Detached", "Deleted"] and source.deleted


def test_a_deleted_connection_refuses_changes() -> None:
    source = usb_camera()
    source.delete(USER)
    source.collect_events()
    for attempt in (lambda: source.reconfigure("Other", "usb_camera", {}, USER),
                    lambda: source.attach(uuid4(), USER),
                    lambda: source.delete(USER)):
        with pytest.raises(ConnectionDeletedError):
            attempt()
    assert source.pending_events == []


def test_the_stored_config_is_a_copy_of_what_was_given() -> None:
    config = {"folder_path": "/out", "output_formats": ["predictions"]}
    sink = Sink(id=uuid4(), name="Out", type="folder", config=config, user=USER)
    config["folder_path"] = "/elsewhere"
    assert sink.config["folder_path"] == "/out"
