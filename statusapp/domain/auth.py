"""Admin login: argon2 verification, rate-limited failures, server-side sessions.

The browser holds only a random token; the database holds its SHA-256, so a leaked
database does not yield usable sessions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets

from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import delete, func, select

from statusapp.db import WRITE_UNIT, session_scope
from statusapp.domain.errors import AuthError
from statusapp.domain.organizations import password_hasher
from statusapp.models import AdminSession, LoginAttempt, User, utcnow
from statusapp.settings import get_settings

# Verifying against this keeps unknown emails as slow as known ones (no user enumeration).
_DUMMY_HASH = password_hasher.hash("statusapp-dummy-password")


@dataclasses.dataclass(frozen=True)
class SessionUser:
    user_id: int
    organization_id: int
    email: str
    name: str


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(*, email: str, password: str, client_ip: str = "") -> tuple[str, SessionUser]:
    """Check the credentials and open a session; returns (browser token, user).

    After `login_max_failures` failures for one email (or one client IP) within
    `login_window_seconds`, every attempt is refused until the window passes.
    """
    settings = get_settings()
    email = (email or "").strip().lower()
    now = utcnow()
    since = now - dt.timedelta(seconds=settings.login_window_seconds)
    with session_scope() as session:
        failures_for_email = session.exec(
            select(func.count()).select_from(LoginAttempt).where(
                LoginAttempt.email == email, LoginAttempt.succeeded == False, LoginAttempt.created_at >= since  # noqa: E712
            )
        ).one()
        failures_for_ip = 0
        if client_ip:
            failures_for_ip = session.exec(
                select(func.count()).select_from(LoginAttempt).where(
                    LoginAttempt.client_ip == client_ip,
                    LoginAttempt.succeeded == False,  # noqa: E712
                    LoginAttempt.created_at >= since,
                )
            ).one()
        if failures_for_email >= settings.login_max_failures or failures_for_ip >= settings.login_max_failures * 4:
            # Refusals are not recorded: the lock-out ends when the window passes.
            raise AuthError("Too many failed logins. Try again in a few minutes.")
    with session_scope() as session:
        # This transaction reads, then writes: on SQLite it must take the write lock first
        # (BEGIN IMMEDIATE), or any commit in between (the notification sender's, another
        # login's) makes its first write fail at once with "database is locked".
        session.connection(execution_options={WRITE_UNIT: True})
        user = session.exec(select(User).where(User.email == email)).first()
        try:
            password_hasher.verify(user.password_hash if user else _DUMMY_HASH, password or "")
            ok = user is not None
        except (VerificationError, InvalidHashError):
            ok = False
        session.add(LoginAttempt(email=email[:320], client_ip=client_ip[:64], succeeded=ok))
        if not ok:
            failed = True
        else:
            failed = False
            token = secrets.token_urlsafe(32)
            session.add(
                AdminSession(
                    token_hash=_hash_token(token),
                    user_id=user.id,
                    expires_at=now + dt.timedelta(hours=settings.session_hours),
                )
            )
            user.last_login_at = now
            session.add(user)
            result = SessionUser(user.id, user.organization_id, user.email, user.name)
    if failed:
        raise AuthError("Wrong email or password.")
    return token, result


def session_user(token: str | None) -> SessionUser | None:
    """The user of a live session token, or None (unknown, expired, empty)."""
    if not token:
        return None
    with session_scope() as session:
        row = session.exec(
            select(AdminSession, User)
            .join(User, User.id == AdminSession.user_id)
            .where(AdminSession.token_hash == _hash_token(token))
        ).first()
        if row is None:
            return None
        sess, user = row
        if sess.expires_at <= utcnow():
            session.delete(sess)
            return None
        return SessionUser(user.id, user.organization_id, user.email, user.name)


def logout(token: str | None) -> None:
    if not token:
        return
    with session_scope() as session:
        session.exec(delete(AdminSession).where(AdminSession.token_hash == _hash_token(token)))
