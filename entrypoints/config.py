"""The one typed configuration object, read from the environment when asked (never at import)."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class ConfigError(ValueError):
    """Raised when an environment variable holds a value Viewfinder cannot use."""


def _int(env: Mapping[str, str], key: str, default: int) -> int:
    try:
        return int(env.get(key, default))
    except ValueError:
        raise ConfigError(f"{key} must be an integer, not {env[key]!r}.") from None


def _float(env: Mapping[str, str], key: str, default: float) -> float:
    try:
        return float(env.get(key, default))
    except ValueError:
        raise ConfigError(f"{key} must be a number, not {env[key]!r}.") from None


@dataclass(frozen=True)
class Config:
    """Everything deployment-specific: where data lives, which servers to use, limits."""

    data_dir: Path = Path("data")
    database_url: str | None = None
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    api_workers: int = 2
    api_threads: int = 8
    max_body_bytes: int = 64 * 1024 * 1024
    max_config_bytes: int = 64 * 1024
    max_image_bytes: int = 50 * 1024 * 1024
    max_image_pixels: int = 100_000_000
    max_staged_bytes: int = 20 * 1024**3
    redis_namespace: str = "viewfinder"
    worker_threads: int = 3
    job_stale_after_s: float = 10.0
    diagnostic_jobs: bool = False
    consistency_timeout_s: float = 5.0
    engine_poll_interval_s: float = 0.005

    @property
    def scale_out(self) -> bool:
        return self.database_url is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Config":
        env = os.environ if env is None else env
        return cls(
            data_dir=Path(env.get("VIEWFINDER_DATA_DIR", "data")).absolute(),
            database_url=env.get("VIEWFINDER_DATABASE_URL") or None,
            redis_url=env.get("VIEWFINDER_REDIS_URL") or None,
            host=env.get("VIEWFINDER_HOST", "127.0.0.1"),
            port=_int(env, "VIEWFINDER_PORT", 8000),
            api_workers=_int(env, "VIEWFINDER_API_WORKERS", 2),
            api_threads=_int(env, "VIEWFINDER_API_THREADS", 8),
            max_body_bytes=_int(env, "VIEWFINDER_MAX_BODY_BYTES", 64 * 1024 * 1024),
            max_image_bytes=_int(env, "VIEWFINDER_MAX_IMAGE_BYTES", 50 * 1024 * 1024),
            max_image_pixels=_int(env, "VIEWFINDER_MAX_IMAGE_PIXELS", 100_000_000),
            max_staged_bytes=_int(env, "VIEWFINDER_MAX_STAGED_BYTES", 20 * 1024**3),
            redis_namespace=env.get("VIEWFINDER_REDIS_NAMESPACE", "viewfinder"),
            worker_threads=_int(env, "VIEWFINDER_WORKER_THREADS", 3),
            job_stale_after_s=_float(env, "VIEWFINDER_JOB_STALE_AFTER", 10.0),
            diagnostic_jobs=env.get("VIEWFINDER_DIAGNOSTIC_JOBS", "") in ("1", "true", "yes"),
            consistency_timeout_s=_float(env, "VIEWFINDER_CONSISTENCY_TIMEOUT", 5.0),
            engine_poll_interval_s=_float(env, "VIEWFINDER_ENGINE_POLL_INTERVAL", 0.005),
        )
