"""Database engine, sessions and migrations (run at start-up; idempotent)."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from statusapp.settings import PROJECT_ROOT, get_settings

_engines: dict[str, Engine] = {}


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def get_engine(url: str | None = None) -> Engine:
    url = url or get_settings().effective_database_url
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


def set_engine_url(url: str) -> None:
    """Point the app at another database (tests); the engine is made on first use."""
    get_settings().database_url = url


@contextlib.contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any exception."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@functools.cache
def _alembic_config_path() -> str:
    return str(PROJECT_ROOT / "alembic.ini")


def migrate(url: str | None = None) -> None:
    """Bring the database to the newest schema (alembic upgrade head)."""
    from alembic import command
    from alembic.config import Config

    url = url or get_settings().effective_database_url
    get_engine(url)  # creates the SQLite file's folder
    cfg = Config(_alembic_config_path())
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


def migrate_locked(url: str | None = None) -> None:
    """`migrate`, serialized across processes (several workers start at once on PostgreSQL)."""
    url = url or get_settings().effective_database_url
    if not url.startswith("postgresql"):
        import fcntl

        lock_path = get_settings().data_dir / ".migrate.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            migrate(url)
        return
    from sqlalchemy import text

    engine = get_engine(url)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(727001)"))
        try:
            migrate(url)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(727001)"))
            conn.commit()
