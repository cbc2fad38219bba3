"""Shared fixtures: a migrated database per test on SQLite and on PostgreSQL.

`db` is parametrized over two backends:

* ``sqlite``: a fresh file database under the test's tmp_path;
* ``postgresql``: one throwaway database per test session (created on the server given
  by STATUSAPP_TEST_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres),
  migrated once and truncated before every test; dropped at the end of the session.
  When the server cannot be reached those tests are skipped.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, func, select

import statusapp.models  # noqa: F401  (registers every table in SQLModel.metadata)
from statusapp import db as app_db
from statusapp.domain import Actor, Change, add_listener, remove_listener
from statusapp.domain import organizations
from statusapp.settings import get_settings

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _libpq_conninfo(url) -> str:
    """A SQLAlchemy URL as a libpq URI psycopg accepts (no '+psycopg' driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _drop_engine(url: str) -> None:
    engine = app_db._engines.pop(url, None)
    if engine is not None:
        engine.dispose()


# --------------------------------------------------------------------------- settings


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory, monkeypatch) -> Iterator[None]:
    """Keep the secret key file (and anything else in data_dir) out of the repo's data/.

    get_settings() is cached, so setting the env var alone is not enough once it exists.
    """
    data_dir = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("STATUSAPP_DATA_DIR", str(data_dir))
    settings = get_settings()
    monkeypatch.setattr(settings, "data_dir", data_dir)
    yield


# --------------------------------------------------------------------------- backends


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    """A SQLite file migrated (alembic upgrade head) once per session; each test gets a copy."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    url = f"sqlite:///{path}"
    app_db.migrate(url)
    _drop_engine(url)
    return str(path)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a throwaway, migrated PostgreSQL database for this test session."""
    server = make_url(os.environ.get("STATUSAPP_TEST_PG_URL") or DEFAULT_PG_URL)
    unreachable = f"PostgreSQL not reachable at {server.host or 'localhost'}:{server.port or 5432}"
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        pytest.skip(f"{unreachable} (psycopg is not installed)")

    name = f"statusapp_test_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(_libpq_conninfo(server), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        pytest.skip(f"{unreachable} ({detail})")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        app_db.migrate(url)
        yield url
    finally:
        _drop_engine(url)
        with psycopg.connect(_libpq_conninfo(server), autocommit=True, connect_timeout=3) as admin:
            try:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except psycopg.errors.SyntaxError:  # PostgreSQL < 13
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
                )
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _truncate_all(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with app_db.get_engine(url).begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path) -> Iterator[str]:
    """The app pointed at an empty, migrated database; yields its URL."""
    settings = get_settings()
    saved_url = settings.database_url
    if request.param == "sqlite":
        path = tmp_path / "statusapp.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_url")
        _truncate_all(url)
    app_db.set_engine_url(url)
    try:
        yield url
    finally:
        settings.database_url = saved_url
        if request.param == "sqlite":
            _drop_engine(url)


@pytest.fixture
def session(db) -> Iterator[Session]:
    """A plain session for reading what the operations wrote (expire_on_commit off)."""
    with Session(app_db.get_engine(db), expire_on_commit=False) as s:
        yield s


# --------------------------------------------------------------------------- domain helpers


@pytest.fixture
def org(db) -> Actor:
    """An Actor (no user) of a fresh organization."""
    return Actor(organizations.create_organization(name="Acme").id)


@pytest.fixture
def other_org(db) -> Actor:
    return Actor(organizations.create_organization(name="Other Corp").id)


class ChangeRecorder:
    """Collects the Changes announced to listeners while it is installed."""

    def __init__(self) -> None:
        self.changes: list[Change] = []

    def __call__(self, change: Change) -> None:
        self.changes.append(change)

    @property
    def kinds(self) -> list[str]:
        return [c.kind for c in self.changes]

    def clear(self) -> None:
        self.changes.clear()


@pytest.fixture
def capture_changes() -> Iterator[ChangeRecorder]:
    """A listener recording every Change announced after commit; removed after the test."""
    rec = ChangeRecorder()
    add_listener(rec)
    try:
        yield rec
    finally:
        remove_listener(rec)


def count_rows(url: str | None = None) -> dict[str, int]:
    """Row count of every table, for "nothing was written" checks."""
    with Session(app_db.get_engine(url)) as s:
        return {
            t.name: s.exec(select(func.count()).select_from(t)).one()
            for t in SQLModel.metadata.sorted_tables
        }


@pytest.fixture
def row_counts(db):
    """Call it to get {table: row count} of the test database."""
    return lambda: count_rows(db)


def pytest_collection_modifyitems(config, items):
    """Fast tests first; the browser tests (which start the app) last."""
    items.sort(key=lambda item: "/e2e/" in str(item.fspath))
