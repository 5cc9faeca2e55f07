"""Webhook sink: JSON over HTTP POST/PUT/PATCH, retried with backoff on 5xx and timeouts."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

import requests

from adapters.sinks.payload import build_message, parse_output_formats
from application.errors import InvalidInputError
from application.ports.frames import Frame
from application.ports.sinks import FrameSink, PredictionPayload, SinkStats, SinkUnavailableError

METHODS = ("POST", "PUT", "PATCH")
RETRIED_STATUSES = frozenset({408, 425, 429})


def describe_url(url: str) -> str:
    """The URL without credentials or query, which may carry tokens."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class WebhookSink(FrameSink):
    """Sends one JSON request per frame; transient failures are retried, others reported."""

    def __init__(  # noqa: PLR0913 - mirrors the sink config
        self,
        webhook_url: str,
        http_method: str = "POST",
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        output_formats: Iterable[str] | None = None,
        attempts: int = 3,
        backoff: tuple[float, float] = (0.5, 8.0),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        method = http_method.upper()
        if method not in METHODS:
            raise InvalidInputError(
                f"Unsupported webhook method '{http_method}'.",
                {"http_method": ["Must be POST, PUT or PATCH."]},
            )
        self._url, self._method, self._timeout = webhook_url, method, timeout
        self._headers = {"Content-Type": "application/json", **dict(headers or {})}
        self._formats = parse_output_formats(output_formats)
        self._attempts, self._backoff, self._sleep = max(1, attempts), backoff, sleep
        self._session = requests.Session()
        self._stats = SinkStats()

    def send(
        self,
        frame: Frame,
        image_with_predictions_jpeg: bytes | None,
        prediction: PredictionPayload,
    ) -> None:
        """Deliver the message; raises SinkUnavailableError once the attempts are spent."""
        body = json.dumps(
            build_message(frame, image_with_predictions_jpeg, prediction, self._formats)
        ).encode()
        problem = ""
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(min(self._backoff[0] * 2 ** (attempt - 1), self._backoff[1]))
            problem = self._attempt(body)
            if not problem:
                self._stats.dispatched += 1
                return
        self._stats.failed += 1
        raise SinkUnavailableError(
            f"Webhook {describe_url(self._url)} failed after {self._attempts} attempts: {problem}."
        )

    def _attempt(self, body: bytes) -> str:
        """'' on success, else why it failed; a non-retriable answer raises at once."""
        try:
            response = self._session.request(
                self._method, self._url, data=body, headers=self._headers, timeout=self._timeout
            )
        except requests.Timeout:
            return f"no answer within {self._timeout:g} s"
        except requests.ConnectionError:
            return "cannot connect"
        response.close()
        status = response.status_code
        if status < 400:
            return ""
        if status >= 500 or status in RETRIED_STATUSES:
            return f"HTTP {status}"
        self._stats.failed += 1
        raise SinkUnavailableError(
            f"Webhook {describe_url(self._url)} rejected the message with HTTP {status}."
        )

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    @property
    def stats(self) -> SinkStats:
        """A copy of the counters."""
        return SinkStats(**self._stats.as_dict())
