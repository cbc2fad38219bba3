"""Throwaway PostgreSQL databases on the test server (STATUSAPP_TEST_PG_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres)."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

from sqlalchemy.engine import make_url

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


class PostgresUnavailable(Exception):
    """The reason, ready to print in a skip message."""


def _server():
    return make_url(os.environ.get("STATUSAPP_TEST_PG_URL") or DEFAULT_PG_URL)


def _conninfo(url) -> str:
    """A SQLAlchemy URL as a libpq URI psycopg accepts (no '+psycopg' driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _admin_connection():
    import psycopg

    server = _server()
    try:
        return psycopg.connect(_conninfo(server), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        raise PostgresUnavailable(
            f"PostgreSQL not reachable at {server.host or 'localhost'}:{server.port or 5432} ({detail})"
        ) from exc


@contextlib.contextmanager
def throwaway_database(prefix: str = "statusapp_test") -> Iterator[str]:
    """Create an empty database, yield its SQLAlchemy URL, drop it afterwards (even if in use)."""
    import psycopg

    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    with _admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _server().set(database=name).render_as_string(hide_password=False)
    finally:
        with _admin_connection() as admin:
            try:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except psycopg.errors.SyntaxError:  # PostgreSQL < 13
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
