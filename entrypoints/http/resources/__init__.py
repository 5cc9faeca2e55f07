"""Falcon resources: thin nouns that turn requests into commands and queries."""

from collections.abc import Callable
from typing import Any

import falcon

from application.commands import Written
from application.projections.projector import Projector


class ReadYourWrites:
    """Answers a command only once the read models have processed what it wrote."""

    def __init__(self, projector: Projector, timeout_s: float) -> None:
        self.projector = projector
        self.timeout_s = timeout_s

    def respond(self, resp: falcon.Response, written: Written, fetch: Callable[[], Any],
                status: str = falcon.HTTP_200, location: str | None = None) -> None:
        """Send `fetch()` with `status`; if the views lag past the bound, say 202 honestly."""
        if location:
            resp.location = location
        if written.position and not self.projector.wait_for(written.position, self.timeout_s):
            resp.status = falcon.HTTP_202
            resp.media = {"detail": "Accepted; the change is saved and will be visible shortly.",
                          "id": str(written.id)}
            return
        resp.status = status
        if status != falcon.HTTP_204:
            resp.media = fetch()


class CommandResource:
    """A resource that sends commands and answers with what the read models then show."""

    def __init__(self, commands: Any, read: Any, consistency: ReadYourWrites) -> None:
        self.commands = commands
        self.read = read
        self.consistency = consistency
