"""Monitoring in a real browser against the app in production mode: a target on loopback goes
down and an already-open public page shows the outage, with no admin action; the console's
monitor form tests a target before saving."""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from statusapp.db import session_scope
from statusapp.domain import Actor
from statusapp.domain import monitoring as monitor_ops
from statusapp.domain import pages as page_ops
from statusapp.domain import services as service_ops
from statusapp.models import Monitor, StatusPage, StatusPageService
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 20_000
OUTAGE_TIMEOUT_MS = 45_000  # a 10 s interval (the shortest allowed), the first check spread over it


class Target:
    """An HTTP target on 127.0.0.1 that answers 200 while `up`, else 503."""

    def __init__(self) -> None:
        self.up = True
        target = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                status, body = (200, b"all good") if target.up else (503, b"maintenance")
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/health"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Target":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def monitored_service_on_demo(url: str) -> Iterator[tuple[int, str]]:
    """A new service on the demo page with an HTTP monitor of `url` (10 s, 1 failure confirms);
    yields its id and name."""
    actor = Actor(1)
    slug = f"checkout-{uuid.uuid4().hex[:6]}"
    svc = service_ops.create_service(actor=actor, name="Checkout " + slug[-6:], slug=slug)
    with session_scope() as s:
        page = s.exec(select(StatusPage).where(StatusPage.slug == "demo")).one()
        ids = list(s.exec(select(StatusPageService.service_id).where(StatusPageService.page_id == page.id)
                          .order_by(StatusPageService.position)))
    page_ops.update_page(actor=actor, page_id=page.id, service_ids=[*ids, svc.id])
    monitor_ops.set_monitor(actor=actor, service_id=svc.id, data={
        "kind": "http", "url": url, "interval_seconds": "10", "failures_to_confirm": "1"})
    try:
        yield svc.id, svc.name
    finally:
        with contextlib.suppress(Exception):
            monitor_ops.delete_monitor(actor=actor, service_id=svc.id)
        page_ops.update_page(actor=actor, page_id=page.id, service_ids=ids)
        service_ops.delete_service(actor=actor, service_id=svc.id)


def test_a_target_going_down_shows_on_an_open_public_page_with_no_admin_action(app_server, app_db_url, browser):
    # The visitor is on the page (its finished-day bars loaded) before the service is added.
    visitor = browser.new_context().new_page()
    visitor.goto(app_server.url + "/status/demo")
    visitor.wait_for_selector(".uptime-bar", timeout=TIMEOUT_MS)
    visitor.evaluate("window.__not_reloaded = true")
    with Target() as target, monitored_service_on_demo(target.url) as (service_id, name):
        row = visitor.locator(".service", has_text=name)
        row.wait_for(timeout=TIMEOUT_MS)
        # The new service arrives live with all its bars: 89 finished days (pushed because the
        # page's finished days changed) and today, with the percentage in words.
        expect(row.locator(".uptime-bar")).to_have_count(90, timeout=TIMEOUT_MS)
        assert visitor.evaluate("window.__not_reloaded") is True
        assert "uptime" in row.locator(".uptime-percent").inner_text()
        # By keyboard: the strip is one tab stop (today) and the arrow keys move between days.
        row.locator(".uptime-bar").last.focus()
        visitor.keyboard.press("ArrowLeft")
        label = visitor.evaluate("document.activeElement.getAttribute('aria-label')")
        assert label.endswith(": no data"), label  # the service did not exist yesterday
        # Wait until the checker has checked it once (up), so the page is truly live.
        deadline = time.monotonic() + OUTAGE_TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            with session_scope() as s:
                if s.exec(select(Monitor).where(Monitor.service_id == service_id)).one().last_ok:
                    break
            time.sleep(0.5)
        visitor.evaluate("window.__not_reloaded = true")
        assert "Operational" in row.inner_text()

        target.up = False
        started = time.monotonic()
        visitor.wait_for_function(
            "name => [...document.querySelectorAll('.service')].some(e => e.innerText.includes(name) "
            "&& e.innerText.includes('Major outage'))", arg=name, timeout=OUTAGE_TIMEOUT_MS)
        print(f"\nthe outage reached the open page {time.monotonic() - started:.1f} s after the target went down")
        visitor.wait_for_selector(f"#active-incidents >> text={name} is not responding", timeout=TIMEOUT_MS)
        assert visitor.evaluate("window.__not_reloaded") is True, "the visitor's page reloaded"

        target.up = True
        visitor.wait_for_function(
            "name => [...document.querySelectorAll('.service')].some(e => e.innerText.includes(name) "
            "&& e.innerText.includes('Operational'))", arg=name, timeout=OUTAGE_TIMEOUT_MS)
        visitor.wait_for_selector("#active-incidents", state="detached", timeout=TIMEOUT_MS)
        assert visitor.evaluate("window.__not_reloaded") is True
        visitor.context.close()


def test_console_monitor_form_tests_before_saving(app_server, app_db_url, browser):
    with Target() as target:
        slug = f"search-{uuid.uuid4().hex[:6]}"
        svc = service_ops.create_service(actor=Actor(1), name="Search " + slug[-6:], slug=slug)
        admin = browser.new_context().new_page()
        login(admin, app_server.url)
        admin.wait_for_selector("text=Open incidents", timeout=TIMEOUT_MS)
        admin.goto(app_server.url + f"/admin/monitors/{svc.id}")
        admin.wait_for_selector("#monitor-url", timeout=TIMEOUT_MS)

        admin.fill("#monitor-url", "ftp://example.com/")
        admin.click("#monitor-test")
        error = admin.locator(".field-error[data-field='url']")
        error.wait_for(timeout=TIMEOUT_MS)
        assert "http" in error.inner_text()

        admin.fill("#monitor-url", target.url)
        admin.click("#monitor-test")
        admin.wait_for_selector("#tryout-result >> text=Up: HTTP 200", timeout=TIMEOUT_MS)
        with session_scope() as s:  # testing saved nothing
            assert s.exec(select(Monitor).where(Monitor.service_id == svc.id)).first() is None

        admin.fill("#monitor-interval_seconds", "5")
        admin.click("#monitor-save")
        admin.locator(".field-error[data-field='interval_seconds']").wait_for(timeout=TIMEOUT_MS)
        admin.fill("#monitor-interval_seconds", "30")
        admin.click("#monitor-save")
        admin.wait_for_selector("text=Monitor saved.", timeout=TIMEOUT_MS)
        with session_scope() as s:
            saved = s.exec(select(Monitor).where(Monitor.service_id == svc.id)).one()
        assert saved.interval_seconds == 30 and saved.check["url"] == target.url

        admin.goto(app_server.url + "/admin/monitors")
        admin.wait_for_selector(f".monitor-row >> text=Search {slug[-6:]}", timeout=TIMEOUT_MS)
        admin.wait_for_selector("#checker-health", timeout=TIMEOUT_MS)
        monitor_ops.delete_monitor(actor=Actor(1), service_id=svc.id)
        service_ops.delete_service(actor=Actor(1), service_id=svc.id)
        admin.context.close()
