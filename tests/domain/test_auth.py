"""Admin sign-in: hashing, sessions, lock-out. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select, update

from statusapp.domain import AuthError, auth, organizations
from statusapp.models import AdminSession, LoginAttempt, User, utcnow
from statusapp.settings import get_settings
from tests.domain.helpers import expect_invalid, fresh, load


@pytest.fixture(autouse=True)
def _cheap_hashing(cheap_argon2):
    """These tests hash hundreds of passwords."""


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


# --------------------------------------------------------------------------- lock-out rules


def _fail(n: int, *, email="admin@example.com", ip="10.0.0.1") -> None:
    for _ in range(n):
        with pytest.raises(AuthError, match="Wrong email or password"):
            auth.login(email=email, password="wrong password!", client_ip=ip)


class _Clock:
    """Stands in for the `time` module of statusapp.domain.auth: records the per-email waits."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture
def clock(monkeypatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(auth, "time", fake, raising=False)
    return fake


def test_lockout_is_per_email_and_address_so_the_admin_elsewhere_still_signs_in(admin, clock):
    n = get_settings().login_max_failures
    _fail(n, ip="203.0.113.9")  # the attacker's address
    # The admin, from another address: slowed down (a delay), not refused.
    token, _ = auth.login(email="admin@example.com", password="correct horse battery", client_ip="198.51.100.7")
    assert auth.session_user(token) is not None
    assert clock.slept == [1.0]
    with pytest.raises(AuthError, match="Too many") as err:
        auth.login(email="admin@example.com", password="correct horse battery", client_ip="203.0.113.9")
    assert err.value.code == "locked"


def test_per_email_delay_grows_and_is_capped(admin):
    n = get_settings().login_max_failures
    delays = []
    for i in range(n + 6):
        pending = auth.begin_login(email="admin@example.com", client_ip=f"198.51.100.{i}")
        delays.append(pending.delay_seconds)
        with pytest.raises(AuthError):
            auth.finish_login(pending, "wrong password!")
    assert delays == [0.0] * n + [1.0, 2.0, 4.0, 8.0, auth.MAX_EMAIL_DELAY_SECONDS, auth.MAX_EMAIL_DELAY_SECONDS]


def test_one_address_guessing_many_emails_is_limited(admin, clock):
    n = get_settings().login_max_failures
    for i in range(n * 4):
        _fail(1, email=f"guess{i}@example.com", ip="203.0.113.9")
    with pytest.raises(AuthError, match="Too many"):
        auth.login(email="admin@example.com", password="correct horse battery", client_ip="203.0.113.9")
    assert auth.login(email="admin@example.com", password="correct horse battery", client_ip="10.9.9.9")


def test_refused_attempts_are_not_recorded(admin, clock):
    n = get_settings().login_max_failures
    _fail(n)
    for _ in range(3):
        with pytest.raises(AuthError):
            auth.login(email="admin@example.com", password="wrong password!", client_ip="10.0.0.1")
    with fresh() as s:
        assert len(s.exec(select(LoginAttempt)).all()) == n


@pytest.mark.parametrize("attempts", [40])
def test_parallel_attempts_never_get_more_evaluations_than_the_limit(admin, monkeypatch, clock, attempts):
    """Fired at once from one address, at most N wrong passwords are verified (argon2 runs)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    n = get_settings().login_max_failures
    verified = []
    start = threading.Barrier(attempts)

    class CountingHasher:
        def __init__(self, real):
            self.real = real

        def verify(self, hash_, password):
            verified.append(1)
            return self.real.verify(hash_, password)

    monkeypatch.setattr(auth, "password_hasher", CountingHasher(auth.password_hasher))

    def attempt(_):
        start.wait(timeout=30)
        try:
            auth.login(email="admin@example.com", password="wrong password!", client_ip="203.0.113.9")
        except AuthError as exc:
            return "locked" if "Too many" in str(exc) else "credentials"
        return "ok"

    with ThreadPoolExecutor(attempts) as pool:
        codes = list(pool.map(attempt, range(attempts), timeout=120))
    assert set(codes) <= {"credentials", "locked"}
    # All at once, they may all see each other and all be refused: never more than N verified.
    assert len(verified) <= n, f"{len(verified)} evaluations for a limit of {n}"
    assert codes.count("credentials") == len(verified)


# --------------------------------------------------------------------------- passwords, sessions


def test_change_password_needs_the_current_one_and_ends_other_sessions(org, admin):
    from statusapp.domain import Actor, ValidationError

    mine, _ = auth.login(email="admin@example.com", password="correct horse battery")
    stolen, _ = auth.login(email="admin@example.com", password="correct horse battery")
    actor = Actor(org.organization_id, admin.id)
    with pytest.raises(ValidationError) as err:
        auth.change_password(actor=actor, current_password="guess", new_password="a new long password",
                             keep_token=mine)
    assert err.value.errors == {"current_password": "That is not your current password."}
    with pytest.raises(ValidationError) as err:
        auth.change_password(actor=actor, current_password="correct horse battery", new_password="short",
                             keep_token=mine)
    assert "new_password" in err.value.errors
    assert auth.session_user(stolen) is not None  # nothing changed yet

    auth.change_password(actor=actor, current_password="correct horse battery",
                         new_password="a new long password", keep_token=mine)
    assert auth.session_user(mine) is not None
    assert auth.session_user(stolen) is None
    assert load(User, admin.id).password_hash.startswith("$argon2")
    with pytest.raises(AuthError):
        auth.login(email="admin@example.com", password="correct horse battery")
    assert auth.login(email="admin@example.com", password="a new long password")


def test_current_password_guesses_count_as_failed_sign_ins(org, admin):
    from statusapp.domain import Actor, ValidationError

    actor = Actor(org.organization_id, admin.id)
    n = get_settings().login_max_failures
    for _ in range(n):
        with pytest.raises(ValidationError):
            auth.change_password(actor=actor, current_password="guess", new_password="a new long password",
                                 client_ip="10.0.0.1")
    with pytest.raises(ValidationError) as err:
        auth.change_password(actor=actor, current_password="correct horse battery",
                             new_password="a new long password", client_ip="10.0.0.1")
    assert err.value.errors["current_password"] == auth.LOCKED_MESSAGE


def test_sign_out_everywhere_ends_every_session_of_the_user_only(org, admin):
    from statusapp.domain import Actor

    other = organizations.create_user(organization_id=org.organization_id, email="other@example.com",
                                      password="another long password")
    tokens = [auth.login(email="admin@example.com", password="correct horse battery")[0] for _ in range(3)]
    theirs, _ = auth.login(email="other@example.com", password="another long password")
    assert auth.sign_out_everywhere(actor=Actor(org.organization_id, admin.id)) == 3
    assert [auth.session_user(t) for t in tokens] == [None, None, None]
    assert auth.session_user(theirs).user_id == other.id
