"""Admin sign-in: hashing, sessions, lock-out. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select, update

from statusapp.domain import AuthError, auth, organizations
from statusapp.models import AdminSession, LoginAttempt, User, utcnow
from statusapp.settings import get_settings
from tests.domain.helpers import expect_invalid, fresh, load


@pytest.fixture
def admin(org):
    user = organizations.create_user(
        organization_id=org.organization_id, email="Admin@Example.com", password="correct horse battery", name="Ada"
    )
    return user


def test_password_is_stored_as_argon2_hash(admin):
    got = load(User, admin.id)
    assert got.email == "admin@example.com"
    assert got.password_hash.startswith("$argon2")
    assert "correct horse battery" not in got.password_hash
    assert organizations.count_users() == 1


def test_duplicate_user_email_rejected(org, admin, row_counts):
    expect_invalid(
        row_counts, "email", organizations.create_user,
        organization_id=org.organization_id, email="ADMIN@example.com", password="another long password",
    )


def test_login_and_session_and_logout(org, admin):
    token, user = auth.login(email=" ADMIN@example.com ", password="correct horse battery", client_ip="10.0.0.1")
    assert isinstance(token, str) and len(token) >= 32
    assert (user.user_id, user.organization_id, user.email, user.name) == (
        admin.id, org.organization_id, "admin@example.com", "Ada",
    )
    assert auth.session_user(token) == user
    assert load(User, admin.id).last_login_at is not None
    with fresh() as s:
        [sess] = s.exec(select(AdminSession)).all()
    assert sess.token_hash != token and len(sess.token_hash) == 64  # only the SHA-256 is kept

    auth.logout(token)
    assert auth.session_user(token) is None
    assert auth.session_user("not-a-token") is None
    assert auth.session_user(None) is None


def test_wrong_password_and_unknown_email(admin):
    with pytest.raises(AuthError):
        auth.login(email="admin@example.com", password="wrong password!")
    with pytest.raises(AuthError):
        auth.login(email="nobody@example.com", password="correct horse battery")
    with fresh() as s:
        attempts = s.exec(select(LoginAttempt).order_by(LoginAttempt.id)).all()
        assert [(a.email, a.succeeded) for a in attempts] == [
            ("admin@example.com", False), ("nobody@example.com", False),
        ]
        assert s.exec(select(AdminSession)).all() == []


def test_lockout_after_max_failures(admin):
    max_failures = get_settings().login_max_failures
    for _ in range(max_failures - 1):
        with pytest.raises(AuthError):
            auth.login(email="admin@example.com", password="wrong password!")
    # One failure below the limit the right password still works.
    token, _ = auth.login(email="admin@example.com", password="correct horse battery")
    assert auth.session_user(token) is not None

    with pytest.raises(AuthError):
        auth.login(email="admin@example.com", password="wrong password!")
    with pytest.raises(AuthError, match="Too many"):
        auth.login(email="admin@example.com", password="correct horse battery")
    with fresh() as s:
        assert len(s.exec(select(AdminSession)).all()) == 1  # no session for the refused login


def test_lockout_ends_when_window_passes(admin):
    settings = get_settings()
    for _ in range(settings.login_max_failures):
        with pytest.raises(AuthError):
            auth.login(email="admin@example.com", password="wrong password!")
    with pytest.raises(AuthError, match="Too many"):
        auth.login(email="admin@example.com", password="correct horse battery")
    with fresh() as s:
        s.exec(
            update(LoginAttempt).values(
                created_at=utcnow() - dt.timedelta(seconds=settings.login_window_seconds + 5)
            )
        )
        s.commit()
    token, _ = auth.login(email="admin@example.com", password="correct horse battery")
    assert auth.session_user(token).user_id == admin.id


def test_expired_session_is_refused_and_removed(admin):
    token, _ = auth.login(email="admin@example.com", password="correct horse battery")
    with fresh() as s:
        s.exec(update(AdminSession).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
        s.commit()
    assert auth.session_user(token) is None
    with fresh() as s:
        assert s.exec(select(AdminSession)).all() == []
