"""Admin sign-in: argon2 verification, rate-limited attempts, server-side sessions, passwords.

The browser holds only a random token; the database holds its SHA-256, so a leaked
database does not yield usable sessions.

Limits on guessing (window `login_window_seconds`, N = `login_max_failures`):

* one email from one client address: after N failed (or still running) attempts, refused;
* one client address, any email: after 4N, refused;
* one email from anywhere: after N failures, each further attempt waits a growing delay
  (1 s, 2 s, 4 s ... up to MAX_EMAIL_DELAY_SECONDS) and is then evaluated. Someone who knows
  an admin's email can slow the admin's sign-in down, not keep them out.

An attempt is recorded (committed) BEFORE it is counted and verified, and the counts include
attempts still being verified, so parallel attempts cannot all slip under a limit: of any
number fired at once, at most N are verified (the last to commit its row sees every other).
A refused attempt's row is removed again (refusals do not extend a lock-out).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
import time

from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import delete, func, select

from statusapp.db import session_scope
from statusapp.domain.base import Actor
from statusapp.domain.errors import AuthError, ValidationError
from statusapp.domain.organizations import MIN_PASSWORD_LENGTH, password_hasher
from statusapp.domain.validation import EMAIL_MAX, PASSWORD_MAX, Errors
from statusapp.models import AdminSession, LoginAttempt, User, utcnow
from statusapp.settings import get_settings

# Verifying against this keeps unknown emails as slow as known ones (no user enumeration).
_DUMMY_HASH = password_hasher.hash("statusapp-dummy-password")

PER_ADDRESS_FACTOR = 4  # failures from one address (any email) allowed: N x this
MAX_EMAIL_DELAY_SECONDS = 10.0
CLIENT_IP_MAX = 64

LOCKED_MESSAGE = "Too many failed sign-ins. Try again in a few minutes."
WRONG_MESSAGE = "Wrong email or password."


@dataclasses.dataclass(frozen=True)
class SessionUser:
    user_id: int
    organization_id: int
    email: str
    name: str


@dataclasses.dataclass(frozen=True)
class PendingLogin:
    """An attempt recorded and allowed to proceed; verify it after `delay_seconds`."""

    attempt_id: int
    email: str
    delay_seconds: float


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _normalize_email(email: object) -> str:
    return email.strip().lower()[:EMAIL_MAX] if isinstance(email, str) else ""


def email_delay_seconds(failures: int, max_failures: int) -> float:
    """The wait before an attempt on an email that already has `failures` failures."""
    if failures < max_failures:
        return 0.0
    return min(MAX_EMAIL_DELAY_SECONDS, float(2 ** min(failures - max_failures, 16)))


def _failures(session, since: dt.datetime, **where: str) -> int:
    """Attempts in the window that did not succeed (failed, or still being verified)."""
    conditions = [LoginAttempt.succeeded == False, LoginAttempt.created_at >= since]  # noqa: E712
    conditions += [getattr(LoginAttempt, column) == value for column, value in where.items()]
    return session.exec(select(func.count()).select_from(LoginAttempt).where(*conditions)).one()


def _record_attempt(email: str, client_ip: str) -> PendingLogin:
    """Commit the attempt, then count (it included); refuse over a limit, else say how long to wait."""
    settings = get_settings()
    limit = settings.login_max_failures
    with session_scope(write=True) as session:
        row = LoginAttempt(email=email, client_ip=client_ip, succeeded=False)
        session.add(row)
    since = utcnow() - dt.timedelta(seconds=settings.login_window_seconds)
    with session_scope(write=True) as session:
        pair = _failures(session, since, email=email, client_ip=client_ip)
        per_address = _failures(session, since, client_ip=client_ip)
        per_email = _failures(session, since, email=email)
        if pair > limit or per_address > limit * PER_ADDRESS_FACTOR:
            session.exec(delete(LoginAttempt).where(LoginAttempt.id == row.id))
            refused = True
        else:
            refused = False
    if refused:
        raise AuthError(LOCKED_MESSAGE, code="locked")
    return PendingLogin(row.id, email, email_delay_seconds(per_email - 1, limit))


def _verify(password_hash: str | None, password: object) -> bool:
    """argon2 check; an over-long password is wrong without hashing it."""
    if not isinstance(password, str) or len(password) > PASSWORD_MAX:
        return False
    try:
        password_hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def begin_login(*, email: str, client_ip: str = "") -> PendingLogin:
    """Record a sign-in attempt; raises AuthError(code="locked") when a limit refuses it.

    The caller waits `delay_seconds` (without holding a thread) and then calls `finish_login`.
    """
    return _record_attempt(_normalize_email(email), (client_ip or "")[:CLIENT_IP_MAX])


def finish_login(pending: PendingLogin, password: str) -> tuple[str, SessionUser]:
    """Verify the password of a recorded attempt and open a session; returns (browser token, user)."""
    with session_scope() as session:
        user = session.exec(select(User).where(User.email == pending.email)).first()
        password_hash = user.password_hash if user else None
    ok = _verify(password_hash, password) and user is not None
    if not ok:
        raise AuthError(WRONG_MESSAGE, code="credentials")
    settings = get_settings()
    now = utcnow()
    token = secrets.token_urlsafe(32)
    with session_scope(write=True) as session:
        attempt = session.get(LoginAttempt, pending.attempt_id)
        if attempt is not None:
            attempt.succeeded = True
            session.add(attempt)
        session.add(
            AdminSession(
                token_hash=_hash_token(token),
                user_id=user.id,
                expires_at=now + dt.timedelta(hours=settings.session_hours),
            )
        )
        fresh_user = session.get(User, user.id)
        fresh_user.last_login_at = now
        session.add(fresh_user)
        result = SessionUser(user.id, user.organization_id, user.email, user.name)
    return token, result


def login(*, email: str, password: str, client_ip: str = "") -> tuple[str, SessionUser]:
    """`begin_login`, its delay, `finish_login`: for synchronous callers (CLI, tests). The web
    sign-in waits the delay on its event loop instead of in a thread."""
    pending = begin_login(email=email, client_ip=client_ip)
    if pending.delay_seconds:
        time.sleep(pending.delay_seconds)
    return finish_login(pending, password)


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
        expired = sess.expires_at <= utcnow()
        found = SessionUser(user.id, user.organization_id, user.email, user.name)
    if expired:
        with session_scope(write=True) as session:
            session.exec(delete(AdminSession).where(AdminSession.id == sess.id))
        return None
    return found


def logout(token: str | None) -> None:
    if not token:
        return
    with session_scope(write=True) as session:
        session.exec(delete(AdminSession).where(AdminSession.token_hash == _hash_token(token)))


def sign_out_everywhere(*, actor: Actor) -> int:
    """End every session of the acting user (this browser's too); returns how many ended."""
    with session_scope(write=True) as session:
        result = session.exec(delete(AdminSession).where(AdminSession.user_id == actor.user_id))
        return result.rowcount or 0


def change_password(
    *, actor: Actor, current_password: str, new_password: str, client_ip: str = "", keep_token: str | None = None
) -> None:
    """Set a new password for the acting user after checking the current one.

    Every other session of the user ends (a thief holding one is signed out); the session
    whose token is `keep_token` (the browser making the change) stays signed in. Wrong current
    passwords count as failed sign-ins of the user's email, so a stolen session cannot be used
    to guess the password faster than the sign-in page allows.
    """
    errors = Errors()
    new = new_password if isinstance(new_password, str) else ""
    if len(new) < MIN_PASSWORD_LENGTH:
        errors.add("new_password", f"At least {MIN_PASSWORD_LENGTH} characters.")
    elif len(new) > PASSWORD_MAX:
        errors.add("new_password", f"At most {PASSWORD_MAX} characters.")
    errors.raise_if_any()
    with session_scope() as session:
        user = session.get(User, actor.user_id) if actor.user_id else None
        if user is None or user.organization_id != actor.organization_id:
            raise AuthError("Sign in again.", code="credentials")
        email, old_hash = user.email, user.password_hash
    try:
        pending = _record_attempt(email, (client_ip or "")[:CLIENT_IP_MAX])
    except AuthError:
        raise ValidationError.one("current_password", LOCKED_MESSAGE) from None
    if not _verify(old_hash, current_password):
        raise ValidationError.one("current_password", "That is not your current password.")
    new_hash = password_hasher.hash(new)
    with session_scope(write=True) as session:
        user = session.get(User, actor.user_id)
        user.password_hash = new_hash
        session.add(user)
        attempt = session.get(LoginAttempt, pending.attempt_id)
        if attempt is not None:
            attempt.succeeded = True
            session.add(attempt)
        ending = delete(AdminSession).where(AdminSession.user_id == actor.user_id)
        if keep_token:
            ending = ending.where(AdminSession.token_hash != _hash_token(keep_token))
        session.exec(ending)
