"""Several workers behind Redis: a change committed in one worker reaches visitors of all."""

from __future__ import annotations

import contextlib
import time

import httpx
import pytest
from sqlmodel import select

from statusapp.db import session_scope
from statusapp.models import Service
from tests.e2e.test_flows import call_handler
from tests.support.appserver import ADMIN_EMAIL, ADMIN_PASSWORD, AppServer
from tests.support.pg import PostgresUnavailable, throwaway_database
from tests.test_live_hub import REDIS_URL, _redis_available

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not _redis_available(), reason=f"Redis not reachable at {REDIS_URL}")]
TABS = 8


@pytest.fixture(scope="module")
def redis_app(tmp_path_factory):
    """Production shape: PostgreSQL (when reachable), Redis, two workers that both migrate the
    empty database at start-up."""
    data_dir = tmp_path_factory.mktemp("e2e-redis")
    with contextlib.ExitStack() as stack:
        try:
            database_url = stack.enter_context(throwaway_database("statusapp_e2e"))
        except PostgresUnavailable as exc:
            print(f"\n{exc}: the two-worker test runs on SQLite")
            database_url = f"sqlite:///{data_dir / 'redis.db'}"
        server = AppServer(database_url=database_url, data_dir=data_dir, redis_url=REDIS_URL, workers=2)
        server.start()
        stack.callback(server.stop)
        yield server


def test_change_reaches_visitors_on_every_worker(redis_app, browser, monkeypatch):
    from statusapp.settings import get_settings
    from statusapp.ui.admin.dashboard import DashboardAdmin

    monkeypatch.setattr(get_settings(), "database_url", redis_app.database_url)
    with session_scope() as s:
        api_id = s.exec(select(Service).where(Service.slug == "api")).one().id

    tabs = []
    for _ in range(TABS):  # separate connections; the kernel spreads them over both workers
        page = browser.new_context().new_page()
        page.goto(redis_app.url + "/status/demo")
        tabs.append(page)
    for page in tabs:
        page.wait_for_selector("text=All Systems Operational", timeout=15_000)

    r = httpx.post(redis_app.url + "/auth/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                   headers={"Origin": redis_app.url}, follow_redirects=False, timeout=10)
    cookie = f"statusapp_session={r.cookies['statusapp_session']}"
    started = time.monotonic()
    call_handler(redis_app.url, DashboardAdmin.get_full_name() + ".set_manual_status",
                 {"service_id": api_id, "status": "major_outage"}, cookie)
    for page in tabs:
        page.wait_for_selector("text=Major System Outage", timeout=5_000)
    print(f"\n{TABS} tabs over 2 workers had the change after {(time.monotonic() - started) * 1000:.0f} ms")
    for page in tabs:
        page.context.close()


def test_two_admins_changing_one_service_at_once_every_page_ends_on_the_database_status(redis_app, browser,
                                                                                       monkeypatch):
    """Issue 13: each worker rebuilds after its own commit and publishes; an older view could
    arrive after a newer one and stay. Views carry a version: the page must end right."""
    import asyncio

    from statusapp.settings import get_settings
    from statusapp.ui.admin.dashboard import DashboardAdmin
    from tests.e2e.test_flows import _call_handler
    from tests.support.aio import run

    monkeypatch.setattr(get_settings(), "database_url", redis_app.database_url)
    with session_scope() as s:
        web_id = s.exec(select(Service).where(Service.slug == "website")).one().id
    tabs = []
    for _ in range(4):
        page = browser.new_context().new_page()
        page.goto(redis_app.url + "/status/demo")
        page.wait_for_selector("#overall-status", timeout=15_000)
        tabs.append(page)
    cookies = []
    for _ in range(2):
        r = httpx.post(redis_app.url + "/auth/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                       headers={"Origin": redis_app.url}, follow_redirects=False, timeout=10)
        cookies.append(f"statusapp_session={r.cookies['statusapp_session']}")
    handler = DashboardAdmin.get_full_name() + ".set_manual_status"
    labels = {"partial_outage": "Partial outage", "degraded_performance": "Degraded performance"}
    for round_ in range(4):
        first, second = ("partial_outage", "degraded_performance") if round_ % 2 else ("degraded_performance", "partial_outage")

        async def both():
            await asyncio.gather(
                _call_handler(redis_app.url, handler, {"service_id": web_id, "status": first}, cookies[0]),
                _call_handler(redis_app.url, handler, {"service_id": web_id, "status": second}, cookies[1]),
            )

        run(both(), timeout=60)
        with session_scope() as s:
            shown = s.get(Service, web_id).status
        for page in tabs:
            row = page.locator(".service", has_text="Marketing site and dashboard")
            row.locator(f"text={labels[shown]}").wait_for(timeout=6_000)
    for page in tabs:
        page.context.close()
