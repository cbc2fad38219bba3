"""No serious or critical axe-core violation on any page (issue 10), checked in Chromium with
axe-playwright-python (it bundles axe-core). Public pages also have their landmarks right."""

from __future__ import annotations

import datetime as dt

import pytest
from axe_playwright_python.sync_playwright import Axe
from sqlmodel import select

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 20_000
BLOCKING = {"serious", "critical"}
# On public pages the moderate landmark rules count too: a screen reader user jumps by them.
LANDMARK_RULES = {"landmark-one-main", "region", "landmark-unique", "landmark-no-duplicate-main"}


def _violations(page, *, public: bool) -> list[str]:
    results = Axe().run(page)
    found = []
    for v in results.response["violations"]:
        if v["impact"] in BLOCKING or (public and v["id"] in LANDMARK_RULES):
            targets = [", ".join(n["target"]) for n in v["nodes"][:5]]
            found.append(f"{v['impact']} {v['id']}: {v['help']} -> {targets}")
    return found


def _first_incident_id(page) -> str:
    href = page.locator("a[href*='/incidents/']").first.get_attribute("href")
    return href.rsplit("/", 1)[-1]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_public_pages(app_server, browser, scheme, width):
    ctx = browser.new_context(color_scheme=scheme, viewport={"width": width, "height": 900})
    page = ctx.new_page()
    try:
        page.goto(app_server.url + "/status/demo")
        page.wait_for_selector("#overall-status", timeout=TIMEOUT_MS)
        assert _violations(page, public=True) == []
        page.goto(app_server.url + "/status/demo/history")
        page.wait_for_selector("text=Incident history", timeout=TIMEOUT_MS)
        page.wait_for_selector(".incident", timeout=TIMEOUT_MS)
        assert _violations(page, public=True) == []
        incident_id = _first_incident_id(page)
        page.goto(app_server.url + f"/status/demo/incidents/{incident_id}")
        page.wait_for_selector(".incident-update", timeout=TIMEOUT_MS)
        assert _violations(page, public=True) == []
    finally:
        ctx.close()


def test_the_embed_widget(app_server, browser):
    for query in ("", "?theme=dark", "?compact=1"):
        page = browser.new_page()
        try:
            page.goto(app_server.url + "/embed/demo" + query)
            page.wait_for_selector("text=Demo Status", timeout=TIMEOUT_MS)
            assert _violations(page, public=False) == [], query
        finally:
            page.close()


def test_login_and_every_console_page(app_server, browser):
    ctx = browser.new_context()
    page = ctx.new_page()
    try:
        page.goto(app_server.url + "/admin/login")
        page.wait_for_selector("#email", timeout=TIMEOUT_MS)
        assert _violations(page, public=False) == []
        login(page, app_server.url)
        page.wait_for_selector("text=Open incidents", timeout=TIMEOUT_MS)
        problems = {"/admin": _violations(page, public=False)}
        for path, ready in [("/admin/incidents", "#incident-title"), ("/admin/services", "#service-name"),
                            ("/admin/pages", "text=New page"), ("/admin/api-keys", "main h1"),
                            ("/admin/account", "main h1"), ("/admin/subscribers", "main h1"),
                            ("/admin/notifications", "main h1"), ("/admin/channels", "main h1"),
                            ("/admin/mailbox", "main h1"), ("/admin/monitors", "#checker-health"),
                            ("/admin/maintenance", "#maintenance-title")]:
            page.goto(app_server.url + path)
            page.wait_for_selector(ready, timeout=TIMEOUT_MS)
            problems[path] = _violations(page, public=False)
        page.goto(app_server.url + "/admin/incidents")
        page.wait_for_selector("#incident-title", timeout=TIMEOUT_MS)
        incident_id = _first_incident_id(page)
        page.goto(app_server.url + f"/admin/incidents/{incident_id}")
        page.wait_for_selector("#incident-heading", timeout=TIMEOUT_MS)
        problems["/admin/incidents/<id>"] = _violations(page, public=False)
        page.goto(app_server.url + "/admin/monitors")
        page.wait_for_selector("#checker-health", timeout=TIMEOUT_MS)
        page.locator(".monitor-row a").first.click()
        page.wait_for_selector("#monitor-url", timeout=TIMEOUT_MS)
        problems["/admin/monitors/<service id>"] = _violations(page, public=False)
        page.goto(app_server.url + "/admin/pages")
        page.wait_for_selector("text=New page", timeout=TIMEOUT_MS)
        page.get_by_role("button", name="Edit").first.click()
        page.wait_for_selector("#page-name", timeout=TIMEOUT_MS)
        problems["/admin/pages (editing)"] = _violations(page, public=False)
        assert {k: v for k, v in problems.items() if v} == {}
    finally:
        ctx.close()


def test_maintenance_pages(app_server, app_db_url, browser):
    """A public page with an upcoming (recurring) and an in-progress maintenance, the maintenance
    detail and history pages, and the console's maintenance list and detail pages."""
    from statusapp.db import session_scope
    from statusapp.domain import Actor, maintenance
    from statusapp.models import Maintenance, Service

    actor = Actor(1)
    with session_scope() as s:
        api_id = s.exec(select(Service.id).where(Service.name == "API")).first()
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    active = maintenance.create_maintenance(
        actor=actor, title="Axe in-progress window", scheduled_for=now, scheduled_until=now + dt.timedelta(hours=2),
        services=[api_id], status="in_progress", description="Some **Markdown**.", notify_on_create=False)
    start = (now + dt.timedelta(days=1)).replace(hour=2, minute=0, second=0)
    series = maintenance.create_series(
        actor=actor, title="Axe weekly window", rrule="FREQ=WEEKLY", dtstart_local=start.strftime("%Y-%m-%dT%H:%M"),
        time_zone="UTC", duration_minutes=60, services=[api_id])
    with session_scope() as s:
        occurrence = s.exec(select(Maintenance.id).where(Maintenance.series_id == series.id)
                            .order_by(Maintenance.scheduled_for)).first()
    ctx = browser.new_context()
    page = ctx.new_page()
    try:
        problems = {}
        for scheme, width in (("light", 1280), ("dark", 390)):
            page.emulate_media(color_scheme=scheme)
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(app_server.url + "/status/demo")
            page.wait_for_selector(".maintenance-banner", timeout=TIMEOUT_MS)
            page.wait_for_selector("#upcoming-maintenance", timeout=TIMEOUT_MS)
            problems[f"/status/demo {scheme}"] = _violations(page, public=True)
            page.goto(app_server.url + f"/status/demo/maintenance/{active.id}")
            page.wait_for_selector("#maintenance-description", timeout=TIMEOUT_MS)
            problems[f"/status/demo/maintenance/<id> {scheme}"] = _violations(page, public=True)
        page.goto(app_server.url + "/status/demo/history")
        page.wait_for_selector(".maintenance", timeout=TIMEOUT_MS)
        problems["/status/demo/history"] = _violations(page, public=True)

        login(page, app_server.url)
        page.wait_for_selector("text=Open incidents", timeout=TIMEOUT_MS)
        page.goto(app_server.url + "/admin/maintenance")
        page.wait_for_selector(".calendar-item", timeout=TIMEOUT_MS)
        problems["/admin/maintenance"] = _violations(page, public=False)
        for ident, ready in ((active.id, "#maintenance-extend"), (occurrence, "#maintenance-start-now")):
            page.goto(app_server.url + f"/admin/maintenance/{ident}")
            page.wait_for_selector(ready, timeout=TIMEOUT_MS)
            problems[f"/admin/maintenance/{ident}"] = _violations(page, public=False)
        page.get_by_text("Edit the series").click()
        page.wait_for_selector("#maintenance-save-series", timeout=TIMEOUT_MS)
        problems["/admin/maintenance/<occurrence> (series)"] = _violations(page, public=False)
        print({k: v for k, v in problems.items() if v})
        assert {k: v for k, v in problems.items() if v} == {}
    finally:
        ctx.close()
        maintenance.complete_maintenance(actor=actor, maintenance_id=active.id)
        maintenance.cancel_series(actor=actor, series_id=series.id)
