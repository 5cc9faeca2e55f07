"""Health: event store, read models (lag per projection) and broker."""

import falcon

from application.policies import PolicyRunner
from application.ports.job_queue import JobQueue
from application.projections.projector import Projector
from entrypoints.config import Config


class Health:
    """/api/health: 200 when everything answers, 503 otherwise."""

    def __init__(self, config: Config, projector: Projector, policies: PolicyRunner, queue: JobQueue) -> None:
        self.config = config
        self.projector = projector
        self.policies = policies
        self.queue = queue

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        report = {"event_store": self._event_store(), "read_models": self._read_models(), "broker": self._broker()}
        healthy = all(part["ok"] for part in report.values())
        resp.status = falcon.HTTP_200 if healthy else falcon.HTTP_503
        resp.media = {"status": "ok" if healthy else "degraded", **report}

    def _event_store(self) -> dict:
        kind = "postgresql" if self.config.scale_out else "sqlite"
        try:
            return {"ok": True, "kind": kind, "position": self.projector.store.max_position()}
        except Exception as error:  # noqa: BLE001 - health reports any failure as data
            return {"ok": False, "kind": kind, "error": str(error)}

    def _read_models(self) -> dict:
        try:
            lag = self.projector.lag()
        except Exception as error:  # noqa: BLE001
            return {"ok": False, "error": str(error)}
        return {"ok": True, "lag": lag, "max_lag": max(lag.values(), default=0), "policy_lag": self.policies.lag()}

    def _broker(self) -> dict:
        if self.config.redis_url is None:
            return {"ok": True, "kind": "embedded"}
        return {"ok": self.queue.healthy(), "kind": "redis"}
