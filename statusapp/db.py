"""Database engine, sessions and migrations (run at start-up; idempotent)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

from statusapp.settings import PROJECT_ROOT, get_settings

_engines: dict[str, Engine] = {}


def private_dir(path: Path) -> Path:
    """Create `path` readable by this user only (0700); an existing one of ours is tightened.

    The data folder holds the database, lock files and secrets: nobody else on the machine
    has any business listing or reading it.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):
        if path.stat().st_uid == os.getuid() and path.stat().st_mode & 0o077:
            path.chmod(0o700)
    return path


def private_sqlite_file(path: Path) -> None:
    """The SQLite file (and its -wal/-shm, which SQLite creates with the file's own mode) 0600."""
    private_dir(path.parent)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if file.stat().st_uid == os.getuid() and file.stat().st_mode & 0o077:
                file.chmod(0o600)


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets foreign keys, WAL, a busy timeout and private files."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not path.startswith("file:"):
            private_sqlite_file(Path(path))
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


def _lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (PostgreSQL advisory locks take a bigint)."""
    digest = hashlib.sha256(f"statusapp:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def try_advisory_lock(name: str, *, url: str | None = None, wait: bool = False) -> Iterator[bool]:
    """Hold the cross-process lock `name` for the duration of the block; yields whether it is held.

    With `wait=False` (the try-variant, for leader election) the block runs at once and sees
    False when another process holds the lock. PostgreSQL: a session advisory lock on a
    connection of its own, so losing that connection releases the lock. SQLite (one machine):
    an flock on `data/.lock-<name>`, released when the process dies.
    """
    url = url or get_settings().effective_database_url
    if not url.startswith("postgresql"):
        import fcntl

        lock_path = private_dir(get_settings().data_dir) / f".lock-{name}"
        with open(lock_path, "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
        return
    from sqlalchemy import text

    key = _lock_key(name)
    with get_engine(url).connect() as conn:
        if wait:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
            held = True
        else:
            held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()
        try:
            yield held
        finally:
            if held:
                with contextlib.suppress(Exception):
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()


@contextlib.contextmanager
def advisory_lock(name: str, *, url: str | None = None) -> Iterator[None]:
    """Wait for and hold the cross-process lock `name` (see `try_advisory_lock`)."""
    with try_advisory_lock(name, url=url, wait=True):
        yield


def migrate_locked(url: str | None = None) -> None:
    """`migrate`, serialized across processes (several workers start at once)."""
    with advisory_lock("migrate", url=url):
        migrate(url)
