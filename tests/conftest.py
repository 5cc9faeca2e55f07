"""Fixtures shared by every test level: configs for both persistence modes, isolated per test."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from entrypoints.config import Config

POSTGRES_ADMIN_URL = os.environ.get("VIEWFINDER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _server_url(database: str) -> str:
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"


@pytest.fixture(scope="session")
def postgres_session_database() -> Iterator[str]:
    """One PostgreSQL database for this test run (runs never collide), dropped at the end."""
    name = f"vf_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _server_url(name)
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_database(postgres_session_database: str) -> Iterator[str]:
    """A fresh schema for one test (tables of the event store and read models); yields its URL."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_session_database, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{postgres_session_database}?schema={schema}"
    finally:
        with psycopg.connect(postgres_session_database, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def config(request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    """The same test runs once on the embedded default and once on PostgreSQL."""
    database_url = request.getfixturevalue("postgres_database") if request.param == "postgres" else None
    return Config(data_dir=tmp_path / "data", database_url=database_url, consistency_timeout_s=10.0,
                  engine_poll_interval_s=0.005)
