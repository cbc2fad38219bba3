"""The `statusapp` command a newcomer runs (through `make run`)."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from statusapp import cli
from statusapp.db import session_scope
from statusapp.models import StatusPage, User
from statusapp.settings import get_settings


@pytest.fixture
def empty_sqlite(tmp_path, monkeypatch):
    settings = get_settings()
    monkeypatch.setattr(settings, "database_url", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setattr(settings, "data_dir", tmp_path)
    return tmp_path


def _count(model) -> int:
    with session_scope() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_bootstrap_creates_admin_and_demo_once(empty_sqlite, monkeypatch, capsys):
    monkeypatch.setattr(get_settings(), "admin_email", "")
    monkeypatch.setattr(get_settings(), "admin_password", "")
    monkeypatch.setattr(get_settings(), "demo", True)
    assert cli.main(["bootstrap"]) == 0
    out = capsys.readouterr().out
    assert "First admin created: admin@example.com" in out
    assert "Password (shown once):" in out
    assert _count(User) == 1 and _count(StatusPage) == 1
    assert cli.main(["bootstrap"]) == 0  # idempotent: no second admin, no second demo
    assert "First admin" not in capsys.readouterr().out
    assert _count(User) == 1 and _count(StatusPage) == 1


def test_bootstrap_makes_the_link_signing_secret_once_readable_only_by_its_owner(empty_sqlite, monkeypatch):
    monkeypatch.setattr(get_settings(), "secret_key", "")
    monkeypatch.setattr(get_settings(), "demo", False)
    assert cli.main(["bootstrap"]) == 0
    path = empty_sqlite / "secret_key"
    secret = path.read_text()
    assert len(secret) >= 60 and path.stat().st_mode & 0o777 == 0o600
    assert cli.main(["bootstrap"]) == 0
    assert path.read_text() == secret == get_settings().effective_secret_key  # kept: old links keep working
    monkeypatch.setattr(get_settings(), "secret_key", "from-the-environment")
    assert get_settings().effective_secret_key == "from-the-environment"


def test_bootstrap_uses_configured_admin_and_can_skip_demo(empty_sqlite, monkeypatch, capsys):
    monkeypatch.setattr(get_settings(), "admin_email", "ops@example.org")
    monkeypatch.setattr(get_settings(), "admin_password", "a-long-enough-password")
    monkeypatch.setattr(get_settings(), "demo", False)
    assert cli.main(["bootstrap"]) == 0
    out = capsys.readouterr().out
    assert "ops@example.org" in out and "a-long-enough-password" not in out
    assert _count(StatusPage) == 0


def test_create_admin_rejects_bad_input_and_writes_nothing(empty_sqlite, capsys):
    assert cli.main(["create-admin", "--email", "not-an-email", "--password", "short"]) == 2
    err = capsys.readouterr().err
    assert "email" in err and "password" in err
    assert _count(User) == 0
    assert cli.main(["create-admin", "--email", "b@example.org", "--generate"]) == 0
    assert "password:" in capsys.readouterr().out
    assert _count(User) == 1


def test_api_key_create_prints_a_working_key_once(empty_sqlite, capsys):
    from statusapp import access

    assert cli.main(["api-key", "create", "--name", "deploy"]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert "shown once" in err and token not in err
    actor = access.api_key_actor(f"Bearer {token}")
    assert actor is not None and actor.organization_id == 1
    assert cli.main(["api-key", "create", "--name", "x", "--org", "999"]) == 2
    assert "no organization" in capsys.readouterr().err
    assert cli.main(["api-key", "create", "--name", " "]) == 2
    assert "name" in capsys.readouterr().err


def test_create_admin_reads_the_password_from_stdin(empty_sqlite, monkeypatch, capsys):
    import io

    from statusapp.domain import auth

    monkeypatch.setattr("sys.stdin", io.StringIO("a password from a pipe\n"))
    assert cli.main(["create-admin", "--email", "pipe@example.org", "--password-stdin"]) == 0
    out, err = capsys.readouterr()
    assert "a password from a pipe" not in out + err
    token, _ = auth.login(email="pipe@example.org", password="a password from a pipe")
    assert auth.session_user(token) is not None

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert cli.main(["create-admin", "--email", "empty@example.org", "--password-stdin"]) == 2
    assert "no password on standard input" in capsys.readouterr().err
    assert _count(User) == 1


def test_password_on_the_command_line_warns(empty_sqlite, capsys):
    assert cli.main(["create-admin", "--email", "argv@example.org", "--password", "a-long-enough-password"]) == 0
    assert "prefer --password-stdin" in capsys.readouterr().err
