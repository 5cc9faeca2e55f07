"""The `viewfinder` command: serve | api | engine | worker | projections rebuild|status | media sweep."""

import argparse
import json
import logging
import signal
import sys
import threading
from types import FrameType


def _container():  # type: ignore[no-untyped-def]
    from entrypoints.bootstrap import bootstrap
    from entrypoints.config import Config

    return bootstrap(Config.from_env())


def run_engine() -> int:
    from entrypoints.engine import Engine

    engine = Engine(_container())

    def stop(signum: int, frame: FrameType | None) -> None:
        engine.stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    engine.run()
    return 0


def run_worker() -> int:
    from adapters.dramatiq_queue import start_worker

    container = _container()
    if container.config.redis_url is None:
        print("viewfinder worker needs VIEWFINDER_REDIS_URL; the embedded engine runs jobs itself.", file=sys.stderr)
        return 2
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.set())
    worker = start_worker(container.jobs.broker, container.config.worker_threads)
    stopping.wait()
    worker.stop(timeout=10_000)
    return 0


def run_api() -> int:
    from entrypoints.config import Config
    from entrypoints.gunicorn_app import GunicornApp

    GunicornApp(Config.from_env()).run()
    return 0


def run_serve() -> int:
    from entrypoints.supervisor import supervise

    return supervise()


def rebuild_projections() -> int:
    container = _container()
    events = container.projector.rebuild()
    print(json.dumps({"replayed_events": events, "positions": container.projector.positions()}))
    return 0


def projection_status() -> int:
    container = _container()
    print(json.dumps({"positions": container.projector.positions(), "lag": container.projector.lag()}))
    return 0


def sweep_media_files() -> int:
    from application.media_sweep import sweep_media

    container = _container()
    container.projector.catch_up()
    removed = sweep_media(container.media, container.read_store,
                          lag=lambda: max(container.projector.lag().values(), default=0))
    print(json.dumps({"removed": removed}))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="viewfinder", description="Self-hosted backend for edge computer vision.")
    commands = root.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="API and engine on this machine (the embedded default)")
    commands.add_parser("api", help="only the HTTP API (gunicorn, gthread workers)")
    commands.add_parser("engine", help="only the engine: projections, policies, job recovery (scale-out)")
    commands.add_parser("worker", help="a Dramatiq worker that runs jobs (scale-out, needs Redis)")
    projections = commands.add_parser("projections", help="read-model maintenance")
    projections.add_argument("action", choices=["rebuild", "status"])
    media = commands.add_parser("media", help="media file maintenance")
    media.add_argument("action", choices=["sweep"], help="remove files no item references (older than 1 h)")
    return root


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parser().parse_args(argv)
    if args.command == "projections":
        return rebuild_projections() if args.action == "rebuild" else projection_status()
    if args.command == "media":
        return sweep_media_files()
    return {"serve": run_serve, "api": run_api, "engine": run_engine, "worker": run_worker}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
