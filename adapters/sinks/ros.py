"""ROS sink: std_msgs/String JSON messages through a rosbridge server (ROS 1 and ROS 2 alike).

Tested against a small rosbridge-protocol server written for the tests (WebSocket + the
advertise/publish/unadvertise operations), not against a real ROS installation.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from adapters.sinks.payload import build_message, parse_output_formats
from application.ports.frames import Frame
from application.ports.sinks import FrameSink, PredictionPayload, SinkStats, SinkUnavailableError

logger = logging.getLogger(__name__)

MESSAGE_TYPE = "std_msgs/String"


class RosSink(FrameSink):
    """Publishes on a topic through roslibpy's asyncio transport, which reconnects by itself."""

    def __init__(
        self,
        topic: str,
        output_formats: Iterable[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 9090,
        connect_timeout: float = 3.0,
    ) -> None:
        self._topic_name, self._host, self._port = topic, host, port
        self._formats = parse_output_formats(output_formats)
        self._connect_timeout = connect_timeout
        self._ros: Any = None
        self._topic: Any = None
        self._stats = SinkStats()

    def _connect(self) -> Any:
        import roslibpy  # imported on use: it starts an event loop thread

        ros = roslibpy.Ros(self._host, self._port, transport="asyncio")
        ros.factory.maxDelay = 10.0  # the default backoff grows to an hour
        # Without reconnect_on_close the topic forgets its advertisement when the connection
        # drops, so the first publish after a reconnection advertises again, in order.
        self._topic = roslibpy.Topic(ros, self._topic_name, MESSAGE_TYPE, reconnect_on_close=False)
        return ros

    def send(
        self,
        frame: Frame,
        image_with_predictions_jpeg: bytes | None,
        prediction: PredictionPayload,
    ) -> None:
        """Publish one message; raises while rosbridge is unreachable (reconnects meanwhile)."""
        import roslibpy

        if self._ros is None:
            self._ros = self._connect()
        try:
            self._ros.run(self._connect_timeout)  # returns at once when connected
        except roslibpy.core.RosTimeoutError as error:
            self._stats.failed += 1
            raise SinkUnavailableError(
                f"rosbridge at {self._host}:{self._port} is not reachable."
            ) from error
        message = build_message(frame, image_with_predictions_jpeg, prediction, self._formats)
        self._topic.publish(roslibpy.Message({"data": json.dumps(message)}))
        self._stats.dispatched += 1

    def close(self) -> None:
        """Unadvertise and disconnect; stop reconnecting."""
        ros, self._ros = self._ros, None
        if ros is None:
            return
        ros.factory._stop = True  # roslibpy exposes no public way to cancel reconnecting
        if ros.is_connected:
            self._topic.unadvertise()
            try:
                ros.close(self._connect_timeout)
            except Exception:  # closing must never crash the pipeline; the socket goes anyway
                logger.warning("rosbridge at %s:%s did not close cleanly", self._host, self._port)

    @property
    def stats(self) -> SinkStats:
        """A copy of the counters."""
        return SinkStats(**self._stats.as_dict())
