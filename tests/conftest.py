"""Shared fixtures: a migrated database per test on SQLite and on PostgreSQL.

`db` is parametrized over two backends:

* ``sqlite``: a fresh file database under the test's tmp_path;
* ``postgresql``: one throwaway database per test session (created on the server given
  by STATUSAPP_TEST_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres),
  migrated once and truncated before every test; dropped at the end of the session.
  When the server cannot be reached those tests are skipped.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlmodel import Session, SQLModel, func, select

import statusapp.models  # noqa: F401  (registers every table in SQLModel.metadata)
from statusapp import db as app_db
from statusapp.domain import Actor, Change, add_listener, remove_listener
from statusapp.domain import organizations
from statusapp.settings import get_settings
from tests.support.pg import PostgresUnavailable, throwaway_database



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
    try:
        with throwaway_database() as url:
            app_db.migrate(url)
            try:
                yield url
            finally:
                _drop_engine(url)
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))


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
def cheap_argon2(monkeypatch):
    """The same argon2, with its cheapest parameters, for tests that hash many passwords."""
    from argon2 import PasswordHasher

    from statusapp.domain import auth

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "password_hasher", cheap)
    monkeypatch.setattr(organizations, "password_hasher", cheap)
    monkeypatch.setattr(auth, "_DUMMY_HASH", cheap.hash("statusapp-dummy-password"))


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
