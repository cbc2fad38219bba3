"""The issue's flows in a real browser against the app in production mode."""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import httpx
import pytest
from playwright.sync_api import expect
from sqlmodel import func, select

from statusapp.db import session_scope
from statusapp.domain import Actor
from statusapp.domain import pages as page_ops
from statusapp.models import Incident, Service
from tests.e2e.conftest import login
from tests.support.aio import run
from tests.support.appserver import ADMIN_EMAIL, ADMIN_PASSWORD, OPS_TOKEN

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 20_000  # generous: CI machines are shared; measured delays are printed


def test_declared_incident_appears_live_on_open_public_page(app_server, browser):
    visitor = browser.new_context().new_page()
    visitor.goto(app_server.url + "/status/demo")
    visitor.wait_for_selector("text=All Systems Operational", timeout=TIMEOUT_MS)
    visitor.evaluate("window.__not_reloaded = true")

    admin = browser.new_context().new_page()
    login(admin, app_server.url)
    admin.wait_for_selector("text=Open incidents", timeout=TIMEOUT_MS)
    admin.goto(app_server.url + "/admin/incidents")
    admin.wait_for_selector("#incident-title", timeout=TIMEOUT_MS)
    title = f"Checkout failing {uuid.uuid4().hex[:6]} <b>bold?</b>"
    admin.fill("#incident-title", title)
    admin.locator(".service-choice", has_text="API").get_by_role("combobox").click()
    admin.get_by_role("option", name="major_outage").click()

    started = time.monotonic()
    admin.click("#declare-incident")
    visitor.wait_for_selector(f"text={title}", timeout=TIMEOUT_MS)
    delay = time.monotonic() - started
    print(f"\nincident appeared on the open public page {delay * 1000:.0f} ms after the click")

    assert visitor.evaluate("window.__not_reloaded") is True, "the visitor's page reloaded"
    assert visitor.inner_text("#overall-status") == "Major System Outage"
    api_row = visitor.locator(".service", has_text="Public REST API")
    assert "Major outage" in api_row.inner_text()
    # User text is shown as text, never as markup.
    assert visitor.locator("#active-incidents b").count() == 0
    assert delay < 5, f"took {delay:.1f}s"
    # The admin landed on the new incident's page.
    admin.wait_for_selector("#incident-heading", timeout=TIMEOUT_MS)
    assert admin.inner_text("#incident-heading") == title

    # Resolving it clears the banner live, again without reload.
    admin.click("#resolve")
    visitor.wait_for_selector("text=All Systems Operational", timeout=TIMEOUT_MS)
    assert visitor.evaluate("window.__not_reloaded") is True


def test_private_and_unknown_pages_answer_404(app_server, app_db_url, browser):
    slug = f"internal-{uuid.uuid4().hex[:6]}"
    page_ops.create_page(actor=Actor(1), name="Internal", slug=slug, is_public=False)
    for path in (f"/status/{slug}", "/status/no-such-page", f"/status/{slug}/history"):
        r = httpx.get(app_server.url + path, timeout=10)
        assert r.status_code == 404, path
        assert "not found" in r.text.lower()
    page = browser.new_page()
    response = page.goto(app_server.url + f"/status/{slug}")
    assert response.status == 404
    assert "404" in page.inner_text("#not-found")
    page.close()
    assert httpx.get(app_server.url + "/status/demo", timeout=10).status_code == 200


def test_wrong_password_is_refused(app_server, browser):
    ctx = browser.new_context()
    page = ctx.new_page()
    login(page, app_server.url, password="not-the-password")
    page.wait_for_selector("#login-error", timeout=TIMEOUT_MS)
    assert "Wrong email or password" in page.inner_text("#login-error")
    assert not [c for c in ctx.cookies() if c["name"] == "statusapp_session"]
    page.goto(app_server.url + "/admin")
    page.wait_for_url("**/admin/login**", timeout=TIMEOUT_MS)
    ctx.close()


@pytest.mark.parametrize("path", ["/admin/login/", "//admin/", "/admin//incidents", "/status/demo"])
def test_pages_send_frame_blocking_headers(app_server, path):
    r = httpx.get(app_server.url + path, timeout=10)
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    if path != "/status/demo":
        assert r.headers["cache-control"] == "no-store"


async def _call_handler(url: str, event_name: str, payload: dict, cookie: str | None, origin: str | None = None) -> None:
    """Call a Reflex event handler by name over a raw socket.io connection, as any client can."""
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    received = asyncio.Event()
    client.on("event", lambda data: received.set(), namespace="/_event")
    headers = {"Cookie": cookie} if cookie else {}
    if origin:
        headers["Origin"] = origin
    try:
        await client.connect(f"{url}?token={uuid.uuid4()}", socketio_path="/_event", namespaces=["/_event"],
                             transports=["websocket"], headers=headers, wait_timeout=10)
    except Exception:
        http = getattr(client.eio, "http", None)  # a refused connect leaves its HTTP session open
        if http is not None and not http.closed:
            await http.close()
        raise
    try:
        await client.emit("event", {"name": event_name, "payload": payload,
                                    "router_data": {"pathname": "/admin", "asPath": "/admin"}}, namespace="/_event")
        await asyncio.wait_for(received.wait(), 10)
        await asyncio.sleep(0.5)
    finally:
        await client.disconnect()


def call_handler(*args) -> None:
    run(_call_handler(*args), timeout=60)


def _service_and_incident_count():
    with session_scope() as s:
        api = s.exec(select(Service).where(Service.slug == "api")).one()
        return api.manual_status, s.exec(select(func.count()).select_from(Incident)).one()


def test_unauthenticated_websocket_call_of_admin_handler_changes_nothing(app_server, app_db_url):
    from statusapp.ui.admin.dashboard import DashboardAdmin

    handler = DashboardAdmin.get_full_name() + ".set_manual_status"
    with session_scope() as s:
        api_id = s.exec(select(Service).where(Service.slug == "api")).one().id
    before = _service_and_incident_count()
    assert before[0] == "operational"

    call_handler(app_server.url, handler, {"service_id": api_id, "status": "major_outage"}, None)
    call_handler(app_server.url, handler, {"service_id": api_id, "status": "major_outage"},
                 "statusapp_session=forged-token")
    assert _service_and_incident_count() == before

    # The same call with a real session does change it: the test reaches the handler.
    r = httpx.post(app_server.url + "/auth/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                   headers={"Origin": app_server.url}, follow_redirects=False, timeout=10)
    cookie = f"statusapp_session={r.cookies['statusapp_session']}"
    call_handler(app_server.url, handler, {"service_id": api_id, "status": "major_outage"}, cookie)
    assert _service_and_incident_count()[0] == "major_outage"
    call_handler(app_server.url, handler, {"service_id": api_id, "status": "operational"}, cookie)
    assert _service_and_incident_count()[0] == "operational"


def test_bad_slug_shows_message_by_the_field_and_saves_nothing(app_server, app_db_url, browser):
    page = browser.new_context().new_page()
    login(page, app_server.url)
    page.wait_for_selector("text=Open incidents", timeout=TIMEOUT_MS)
    page.goto(app_server.url + "/admin/services")
    page.wait_for_selector("#service-name", timeout=TIMEOUT_MS)
    with session_scope() as s:
        before = s.exec(select(func.count()).select_from(Service)).one()
    page.fill("#service-name", "Payments")
    page.fill("#service-slug", "Bad Slug!")
    page.click("#save-service")
    error = page.locator(".field-error[data-field='slug']")
    error.wait_for(timeout=TIMEOUT_MS)
    assert "lowercase letters" in error.inner_text()
    page.fill("#service-slug", "api")  # taken by the demo
    page.click("#save-service")
    page.wait_for_selector("text=A service with slug 'api' already exists.", timeout=TIMEOUT_MS)
    with session_scope() as s:
        assert s.exec(select(func.count()).select_from(Service)).one() == before
    page.context.close()


def test_two_admins_see_each_others_changes_live(app_server, app_db_url, browser):
    first = browser.new_context().new_page()
    second = browser.new_context().new_page()
    for page in (first, second):
        login(page, app_server.url)
        page.wait_for_selector("text=Open incidents", timeout=TIMEOUT_MS)
    second.goto(app_server.url + "/admin/services")
    second.wait_for_selector("#service-name", timeout=TIMEOUT_MS)
    second.evaluate("window.__not_reloaded = true")
    slug = f"search-{uuid.uuid4().hex[:6]}"
    first.goto(app_server.url + "/admin/services")
    first.wait_for_selector("#service-name", timeout=TIMEOUT_MS)
    first.fill("#service-name", "Search " + slug)
    first.fill("#service-slug", slug)
    first.click("#save-service")
    second.wait_for_selector(f"text=Search {slug}", timeout=TIMEOUT_MS)
    assert second.evaluate("window.__not_reloaded") is True
    first.context.close()
    second.context.close()


def test_root_history_and_incident_pages(app_server, browser):
    page = browser.new_context().new_page()
    page.goto(app_server.url + "/")
    page.wait_for_selector("text=Demo Status", timeout=TIMEOUT_MS)  # the first public page
    page.wait_for_function("document.title.includes('Demo Status')", timeout=TIMEOUT_MS)
    assert "Operational" in page.title() or "Outage" in page.title() or "Degraded" in page.title()
    page.goto(app_server.url + "/status/demo/history")
    page.wait_for_selector("text=Incident history", timeout=TIMEOUT_MS)
    page.wait_for_selector("text=Elevated API error rates", timeout=TIMEOUT_MS)
    page.click("text=Elevated API error rates")
    page.wait_for_url("**/status/demo/incidents/**", timeout=TIMEOUT_MS)
    page.wait_for_selector("text=The rollback is complete", timeout=TIMEOUT_MS)
    # Newest update first.
    updates = page.locator(".incident-update").all_inner_texts()
    assert updates[0].startswith("Resolved") and updates[-1].startswith("Investigating")
    page.goto(app_server.url + "/status/demo/incidents/999999")
    page.wait_for_selector("#not-found", timeout=TIMEOUT_MS)
    page.context.close()


def _page_sockets(url: str) -> int:
    health = httpx.get(url + "/healthz", headers={"Authorization": f"Bearer {OPS_TOKEN}"}, timeout=10).json()
    return sum(health["page_sockets"].values())


def test_closed_tabs_stop_being_listeners(app_server, browser):
    base = _page_sockets(app_server.url)
    tabs = [browser.new_context().new_page() for _ in range(3)]
    for tab in tabs:
        tab.goto(app_server.url + "/status/demo")
        tab.wait_for_selector("#overall-status", timeout=TIMEOUT_MS)
    assert _page_sockets(app_server.url) == base + 3
    for tab in tabs[:2]:
        tab.context.close()
    deadline = time.monotonic() + 10
    while _page_sockets(app_server.url) != base + 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _page_sockets(app_server.url) == base + 1
    tabs[2].context.close()


def test_cross_site_websocket_cannot_use_the_admin_cookie(app_server, app_db_url):
    """A page on another site cannot even open our websocket (its Origin is refused at the
    handshake), let alone use the victim's cookie through it."""
    import socketio

    from statusapp.ui.admin.dashboard import DashboardAdmin

    r = httpx.post(app_server.url + "/auth/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                   headers={"Origin": app_server.url}, follow_redirects=False, timeout=10)
    cookie = f"statusapp_session={r.cookies['statusapp_session']}"
    with session_scope() as s:
        api_id = s.exec(select(Service).where(Service.slug == "api")).one().id
    with pytest.raises(socketio.exceptions.ConnectionError):
        call_handler(app_server.url, DashboardAdmin.get_full_name() + ".set_manual_status",
                     {"service_id": api_id, "status": "major_outage"}, cookie, "https://evil.example")
    assert _service_and_incident_count()[0] == "operational"


def test_incident_lifecycle_in_the_console(app_server, app_db_url, browser):
    from statusapp.domain import incidents as incident_ops

    title = f"Queue backlog {uuid.uuid4().hex[:6]}"
    inc = incident_ops.create_incident(actor=Actor(1), title=title, impact="minor", message="Looking into it.")
    visitor = browser.new_context().new_page()
    visitor.goto(app_server.url + f"/status/demo/incidents/{inc.id}")
    visitor.wait_for_selector("text=Looking into it.", timeout=TIMEOUT_MS)

    admin = browser.new_context().new_page()
    login(admin, app_server.url)
    admin.wait_for_selector("text=Open incidents", timeout=TIMEOUT_MS)
    admin.goto(app_server.url + f"/admin/incidents/{inc.id}")
    admin.wait_for_selector("#incident-heading", timeout=TIMEOUT_MS)
    # One click on a status fills its template; one click posts it.
    admin.click(".status-choice >> text=Monitoring")
    expect(admin.locator("#update-message")).to_have_value(re.compile("monitoring the results"), timeout=TIMEOUT_MS)
    admin.click("#post-update")
    admin.wait_for_selector("text=Update posted.", timeout=TIMEOUT_MS)
    admin.click("#resolve")
    admin.wait_for_selector("text=Incident resolved.", timeout=TIMEOUT_MS)
    admin.fill("textarea >> nth=-1", "Root cause: a <script>slow</script> consumer.")
    admin.click("text=Publish postmortem")
    admin.wait_for_selector("text=Postmortem published.", timeout=TIMEOUT_MS)

    visitor.reload()
    visitor.wait_for_selector("text=Root cause: a <script>slow</script> consumer.", timeout=TIMEOUT_MS)
    statuses = [t.split(" ")[0] for t in visitor.locator(".incident-update").all_inner_texts()]
    assert statuses == ["Resolved", "Monitoring", "Investigating"]

    admin.click("text=Delete incident")
    admin.get_by_role("alertdialog").get_by_role("button", name="Delete incident").click()
    admin.wait_for_url("**/admin/incidents**", timeout=TIMEOUT_MS)
    with session_scope() as s:
        assert s.get(Incident, inc.id) is None
    visitor.reload()
    visitor.wait_for_selector("#not-found", timeout=TIMEOUT_MS)


def test_admin_creates_a_branded_page_then_hides_it_while_a_visitor_watches(app_server, app_db_url, browser):
    slug = f"eu-{uuid.uuid4().hex[:6]}"
    admin = browser.new_context().new_page()
    login(admin, app_server.url)
    admin.wait_for_selector("text=Open incidents", timeout=TIMEOUT_MS)
    admin.goto(app_server.url + "/admin/pages")
    admin.wait_for_selector("text=New page", timeout=TIMEOUT_MS)
    admin.click("text=New page")
    admin.fill("#page-name", "EU Status")
    admin.fill("#page-slug", slug)
    admin.fill("#page-brand_color", "#ff0000")
    expect(admin.locator("#page-preview h1, #page-preview h2, #page-preview h3, #page-preview h4, #page-preview h5"
                         ).first).to_have_text("EU Status", timeout=TIMEOUT_MS)
    admin.fill("#page-brand_color", "red")  # invalid: message by the field, nothing saved
    admin.click("#save-page")
    admin.locator(".field-error[data-field='brand_color']").wait_for(timeout=TIMEOUT_MS)
    assert httpx.get(app_server.url + f"/status/{slug}", timeout=10).status_code == 404
    admin.fill("#page-brand_color", "#c2410c")
    admin.click("#save-page")
    admin.wait_for_selector("text=Page 'EU Status' saved.", timeout=TIMEOUT_MS)

    visitor = browser.new_context().new_page()
    visitor.goto(app_server.url + f"/status/{slug}")
    visitor.wait_for_selector("text=EU Status", timeout=TIMEOUT_MS)
    color = visitor.eval_on_selector("text=EU Status", "e => getComputedStyle(e).color")
    assert color == "rgb(194, 65, 12)"

    admin.click("#page-is-public")  # untick
    admin.click("#save-page")
    admin.wait_for_selector("text=Page 'EU Status' saved.", timeout=TIMEOUT_MS)
    visitor.wait_for_selector("#not-found", timeout=TIMEOUT_MS)  # pushed live, no reload
    assert httpx.get(app_server.url + f"/status/{slug}", timeout=10).status_code == 404
    admin.context.close()
    visitor.context.close()


def test_a_lost_connection_shows_a_calm_note_not_an_error(app_server, app_db_url, browser):
    """Issue 13: Reflex's red "Cannot connect to server" toast is replaced on public pages by
    a note that says the page shows the last known status; it goes when the socket is back."""
    ctx = browser.new_context()
    visitor = ctx.new_page()
    visitor.goto(app_server.url + "/status/demo")
    visitor.wait_for_selector("#overall-status", timeout=TIMEOUT_MS)
    ctx.set_offline(True)
    try:
        note = visitor.locator("#connection-note")
        note.wait_for(timeout=TIMEOUT_MS)
        assert "Live updates paused, showing status as of" in note.inner_text()
        assert visitor.locator("text=Cannot connect to server").count() == 0
    finally:
        ctx.set_offline(False)
    visitor.locator("#connection-note").wait_for(state="detached", timeout=30_000)
    with session_scope() as s:
        api = s.exec(select(Service).where(Service.slug == "api")).one()
    from statusapp.domain import services as service_ops

    service_ops.set_manual_status(actor=Actor(api.organization_id), service_id=api.id, status="degraded_performance")
    try:
        visitor.wait_for_selector("text=Partially Degraded Service", timeout=TIMEOUT_MS)
    finally:
        service_ops.set_manual_status(actor=Actor(api.organization_id), service_id=api.id, status="operational")
    ctx.close()
