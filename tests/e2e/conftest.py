"""Browser tests: the real app in production mode (`statusapp serve`) driven by Debian
Chromium through Playwright. Skipped, with the reason printed, when Chromium is missing."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from statusapp import db as app_db
from tests.support.appserver import ADMIN_EMAIL, ADMIN_PASSWORD, AppServer
from tests.support.dns_server import DnsServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]


@pytest.fixture(scope="session")
def dns_server() -> Iterator[DnsServer]:
    """The DNS server the app asks for custom-domain TXT records (a real one, on loopback)."""
    with DnsServer() as server:
        yield server


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, dns_server) -> Iterator[AppServer]:
    data_dir = tmp_path_factory.mktemp("e2e-app")
    server = AppServer(database_url=f"sqlite:///{data_dir / 'e2e.db'}", data_dir=data_dir,
                       extra_env={"STATUSAPP_DNS_SERVERS": dns_server.address})
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app_db_url(app_server, monkeypatch) -> Iterator[str]:
    """Point this test process's domain layer at the server's database (to set up or check rows)."""
    from statusapp.settings import get_settings

    settings = get_settings()
    monkeypatch.setattr(settings, "database_url", app_server.database_url)
    yield app_server.database_url
    engine = app_db._engines.pop(app_server.database_url, None)
    if engine is not None:
        engine.dispose()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium not installed (make test installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def login(page, base_url: str, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
    page.goto(base_url + "/admin/login")
    try:
        page.wait_for_selector("#email", timeout=20_000)
    except Exception:
        page.screenshot(path="/tmp/login-fail.png")
        print("LOGIN PAGE", page.url, page.content()[:3000])
        raise
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#sign-in")
