"""A database outage, seen by the people who come to look (issue 13, section 3).

The app reaches PostgreSQL through a TCP proxy on loopback that the test cuts and restores,
so the shared server is never touched. Visitors keep the last known status with a calm note,
a visitor who arrives with nothing cached is told and retries by itself, an admin's change
says it was not saved, sign-in answers a readable 503, and everything comes back without a
restart. The worker logs the outage once.
"""

from __future__ import annotations

import contextlib
import time

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlmodel import select

from statusapp import db as app_db
from statusapp.db import session_scope
from statusapp.domain import Actor
from statusapp.domain import pages as page_ops
from statusapp.models import Service
from tests.e2e.conftest import login
from tests.support.appserver import ADMIN_EMAIL, ADMIN_PASSWORD, AppServer
from tests.support.pg import PostgresUnavailable, throwaway_database
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 20_000


def _seed(direct_url: str) -> None:
    """Before the app starts: the demo, and a page of a second organization that the app's
    cache will not hold until somebody opens it."""
    from statusapp.demo import load_demo
    from statusapp.domain import organizations, services
    from statusapp.settings import get_settings

    settings = get_settings()
    saved = settings.database_url
    settings.database_url = direct_url
    try:
        app_db.migrate(direct_url)
        load_demo(lively=False)
        other = Actor(organizations.create_organization(name="Other Corp").id)
        svc = services.create_service(actor=other, name="Other API", slug="other-api")
        page_ops.create_page(actor=other, name="Second Status", slug="second", service_ids=[svc.id])
    finally:
        settings.database_url = saved
        engine = app_db._engines.pop(direct_url, None)
        if engine is not None:
            engine.dispose()


@pytest.fixture(scope="module")
def outage_app(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("e2e-outage")
    with contextlib.ExitStack() as stack:
        try:
            direct_url = stack.enter_context(throwaway_database("statusapp_outage"))
        except PostgresUnavailable as exc:
            pytest.skip(f"{exc}: the database outage test needs PostgreSQL")
        _seed(direct_url)
        url = make_url(direct_url)
        proxy = stack.enter_context(TcpProxy(url.host or "127.0.0.1", url.port or 5432))
        proxied_url = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        server = AppServer(database_url=proxied_url, data_dir=data_dir)
        server.start()
        stack.callback(server.stop)
        yield server, proxy, direct_url


@pytest.fixture
def direct_db(outage_app, monkeypatch):
    """This test process reads and writes the database directly, not through the proxy."""
    from statusapp.settings import get_settings

    _server, _proxy, direct_url = outage_app
    monkeypatch.setattr(get_settings(), "database_url", direct_url)
    yield direct_url
    engine = app_db._engines.pop(direct_url, None)
    if engine is not None:
        engine.dispose()


def _status(slug: str) -> str:
    with session_scope() as s:
        return s.exec(select(Service).where(Service.slug == slug)).one().status


def test_visitors_admins_and_sign_in_through_a_database_outage(outage_app, direct_db, browser):
    server, proxy, _ = outage_app

    visitor = browser.new_context().new_page()
    visitor.goto(server.url + "/status/demo")
    visitor.wait_for_selector("text=All Systems Operational", timeout=TIMEOUT_MS)
    visitor.evaluate("window.__not_reloaded = true")
    admin = browser.new_context().new_page()
    login(admin, server.url)
    admin.wait_for_selector("text=Open incidents", timeout=TIMEOUT_MS)

    proxy.cut()
    try:
        # The open page learns live updates are paused (pushed; no reload).
        visitor.wait_for_selector(".live-paused", timeout=TIMEOUT_MS)
        assert "showing status as of" in visitor.inner_text(".live-paused")
        assert visitor.inner_text("#overall-status") == "All Systems Operational"
        # A new visitor of a page this worker knows gets its last known view, with the note.
        newcomer = browser.new_context().new_page()
        newcomer.goto(server.url + "/status/demo")
        newcomer.wait_for_selector(".live-paused", timeout=TIMEOUT_MS)
        assert newcomer.inner_text("#overall-status") == "All Systems Operational"
        assert newcomer.locator("text=An error occurred").count() == 0
        # A visitor of a page never loaded is told, calmly, and retries by itself.
        stranger = browser.new_context().new_page()
        stranger.goto(server.url + "/status/second")
        stranger.wait_for_selector("#status-unavailable", timeout=TIMEOUT_MS)
        # An admin's change is refused in words and saves nothing.
        admin.get_by_role("combobox", name="Manual status of API").click()
        admin.get_by_role("option", name="major_outage").click()
        admin.wait_for_selector("text=Database unavailable: not saved. Try again.", timeout=TIMEOUT_MS)
        # Sign-in answers a readable 503.
        r = httpx.post(server.url + "/auth/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                       headers={"Origin": server.url}, follow_redirects=False, timeout=30)
        assert r.status_code == 503 and "Sign-in is unavailable right now" in r.text
    finally:
        proxy.restore()
    assert _status("api") == "operational"

    # Back without a restart: the note goes, the stranger's page loads and goes live.
    visitor.wait_for_selector(".live-paused", state="detached", timeout=TIMEOUT_MS)
    stranger.wait_for_selector("text=Second Status", timeout=45_000)
    started = time.monotonic()
    deadline = started + 30
    while True:  # the admin's change goes through once the pool reconnects
        admin.get_by_role("combobox", name="Manual status of API").click()
        admin.get_by_role("option", name="major_outage").click()
        admin.wait_for_timeout(1000)
        if _status("api") == "major_outage" or time.monotonic() > deadline:
            break
    assert _status("api") == "major_outage"
    visitor.wait_for_selector("text=Major System Outage", timeout=TIMEOUT_MS)
    # The stranger's page joined its room after the retry: it is live too.
    with session_scope() as s:
        other_api = s.exec(select(Service).where(Service.slug == "other-api")).one()
    from statusapp.domain import services as service_ops

    service_ops.set_manual_status(actor=Actor(other_api.organization_id), service_id=other_api.id, status="partial_outage")
    stranger.wait_for_selector("text=Partial System Outage", timeout=TIMEOUT_MS)
    assert visitor.evaluate("window.__not_reloaded") is True
    log = server.log_path.read_text()
    assert log.count("outbox watch: database unreachable") == 1, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
