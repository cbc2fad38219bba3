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

# Execution option that marks a connection as a write unit's (statusapp.domain.base).
WRITE_UNIT = "statusapp_write_unit"


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
            # The driver's own transaction handling opens a transaction only at the first write,
            # so reads before it see other commits: SQLAlchemy's "begin" below takes over.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):  # pragma: no cover - trivial
            # A write unit takes SQLite's write lock at its start (BEGIN IMMEDIATE): what it
            # reads to derive a status cannot change before it writes (no write skew).
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_UNIT) else "BEGIN")

        return engine
    # A dead server must fail a request within seconds, not hang it: connect and pool timeouts.
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, pool_timeout=10, connect_args={"connect_timeout": 5}
    )


class DatabaseUnavailable(Exception):
    """The database cannot be reached right now; nothing was read or written."""


def is_outage(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached (as opposed to a bug or bad input):
    callers then answer "database unavailable" instead of an error page."""
    from sqlalchemy import exc as sa_exc

    if isinstance(exc, DatabaseUnavailable):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError))
    return isinstance(exc, (sa_exc.TimeoutError, ConnectionError))


def get_engine(url: str | None = None) -> Engine:
    url = url or get_settings().effective_database_url
    if url not in _engines:
        _engines[url] = make_engine(url)
    return _engines[url]


def set_engine_url(url: str) -> None:
    """Point the app at another database (tests); the engine is made on first use."""
    get_settings().database_url = url


@contextlib.contextmanager
def session_scope(*, write: bool = False) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any exception.

    `write=True` for a transaction that writes after reading: on SQLite it takes the write lock
    at its start (BEGIN IMMEDIATE) instead of failing with "database is locked" when another
    writer commits between its read and its write."""
    with Session(get_engine(), expire_on_commit=False) as session:
        if write:
            session.connection(execution_options={WRITE_UNIT: True})
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


def pg_notify(channel: str, payload: str) -> None:
    """Send a PostgreSQL NOTIFY on `channel` (delivered to every LISTENing connection)."""
    from sqlalchemy import text

    with get_engine().connect() as conn:
        conn.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload})
        conn.commit()


def _lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (PostgreSQL advisory locks take a bigint)."""
    digest = hashlib.sha256(f"statusapp:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class AdvisoryLock:
    """A named lock across processes, held until `release()` or until the holder dies.

    PostgreSQL: a session advisory lock on a connection of its own (losing the connection loses
    the lock, so a dead holder frees it at once). SQLite (one machine): an flock on
    `data/.lock-<name>`, released by the kernel when the process dies. The jobs runner's leader
    election holds one for as long as it leads and checks it with `still_held()`.
    """

    def __init__(self, name: str, *, url: str | None = None) -> None:
        self.name = name
        self.url = url or get_settings().effective_database_url
        self._conn = None
        self._file = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def acquire(self, *, wait: bool) -> bool:
        if self.url.startswith("postgresql"):
            from sqlalchemy import text

            conn = get_engine(self.url).connect()
            try:
                key = {"k": _lock_key(self.name)}
                if wait:
                    conn.execute(text("SELECT pg_advisory_lock(:k)"), key)
                    got = True
                else:
                    got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), key).scalar())
                conn.commit()
            except BaseException:
                conn.invalidate()
                conn.close()
                raise
            if got:
                self._conn = conn
            else:
                conn.close()
            return got
        import fcntl

        path = private_dir(get_settings().data_dir) / f".lock-{self.name}"
        fh = open(path, "w")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return False
        self._file = fh
        return True

    def still_held(self) -> bool:
        """A round trip on the lock's own connection (PostgreSQL); False once it is lost."""
        if self._file is not None:
            return True
        if self._conn is None:
            return False
        from sqlalchemy import text

        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
            return True
        except Exception:
            self._drop_connection()
            return False

    def release(self) -> None:
        if self._file is not None:
            import fcntl

            with contextlib.suppress(OSError):
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._conn is not None:
            from sqlalchemy import text

            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _lock_key(self.name)})
                self._conn.commit()
                self._conn.close()
            except Exception:
                self._drop_connection()
            self._conn = None

    def _drop_connection(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.invalidate()
            self._conn.close()
        self._conn = None


@contextlib.contextmanager
def try_advisory_lock(name: str, *, url: str | None = None, wait: bool = False) -> Iterator[bool]:
    """Hold the lock `name` for the duration of the block; yields whether it is held (with
    `wait=False` the block runs at once and sees False when another process holds it)."""
    lock = AdvisoryLock(name, url=url)
    held = lock.acquire(wait=wait)
    try:
        yield held
    finally:
        if held:
            lock.release()


@contextlib.contextmanager
def advisory_lock(name: str, *, url: str | None = None) -> Iterator[None]:
    """Wait for and hold the cross-process lock `name` (see `try_advisory_lock`)."""
    with try_advisory_lock(name, url=url, wait=True):
        yield


def migrate_locked(url: str | None = None) -> None:
    """`migrate`, serialized across processes (several workers start at once)."""
    with advisory_lock("migrate", url=url):
        migrate(url)
