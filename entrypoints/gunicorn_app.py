"""Serving the Falcon app with gunicorn's gthread worker; each worker builds its own container."""

from typing import Any

import falcon
from gunicorn.app.base import BaseApplication

from entrypoints.config import Config


class GunicornApp(BaseApplication):  # type: ignore[misc]
    """gunicorn, configured from our Config instead of command-line flags."""

    def __init__(self, config: Config) -> None:
        self.config = config
        super().__init__()

    def load_config(self) -> None:
        settings: dict[str, Any] = {
            "bind": f"{self.config.host}:{self.config.port}",
            "workers": self.config.api_workers,
            "worker_class": "gthread",
            "threads": self.config.api_threads,
            "timeout": 60,
            "graceful_timeout": 5,
            "keepalive": 5,
            "preload_app": False,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "info",
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> falcon.App:
        from entrypoints.bootstrap import bootstrap
        from entrypoints.http.app import create_app

        return create_app(bootstrap(self.config))
