"""Scheduled maintenance in a real browser: an admin schedules a window in the console (a bad
end is refused by the field, nothing saved), an open public page lists it as upcoming, and
starting it shows the in-progress banner and "Under maintenance" without a reload."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlmodel import func, select

from statusapp.db import session_scope
from statusapp.models import Maintenance
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 20_000
SERVICE = "API"  # the demo's API service (described as "Public REST API")
DESCRIBED = "Public REST API"


def _count(title: str) -> int:
    with session_scope() as s:
        return s.exec(select(func.count()).select_from(Maintenance).where(Maintenance.title == title)).one()


def test_schedule_in_console_then_start_live_on_open_page(app_server, app_db_url, browser):
    visitor = browser.new_context().new_page()
    visitor.goto(app_server.url + "/status/demo")
    visitor.wait_for_selector("#overall-status", timeout=TIMEOUT_MS)
    visitor.evaluate("window.__not_reloaded = true")

    admin = browser.new_context().new_page()
    login(admin, app_server.url)
    admin.wait_for_selector("text=Open incidents", timeout=TIMEOUT_MS)
    admin.get_by_role("link", name="Maintenance").first.click()
    admin.wait_for_selector("#maintenance-title", timeout=TIMEOUT_MS)
    expect(admin.locator("#maintenance-calendar")).to_be_visible()

    title = f"Database upgrade {uuid.uuid4().hex[:6]}"
    admin.fill("#maintenance-title", title)
    admin.fill("#maintenance-description", "Writes **paused** for a few minutes.")
    admin.locator(".maintenance-service", has_text=re.compile(r"^\s*API\s*$")).get_by_role("checkbox").click()
    admin.fill("#maintenance-zone", "UTC")
    day = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2)).date().isoformat()
    admin.fill("#maintenance-start", f"{day}T10:00")
    admin.fill("#maintenance-end", f"{day}T09:00")  # before the start

    admin.click("#create-maintenance")
    error = admin.locator(".field-error[data-field='scheduled_until']")
    expect(error).to_have_text("The end must be after the start.", timeout=TIMEOUT_MS)
    assert _count(title) == 0, "a refused window was saved"

    admin.fill("#maintenance-end", f"{day}T11:00")
    admin.click("#create-maintenance")
    admin.wait_for_selector("#maintenance-heading", timeout=TIMEOUT_MS)
    expect(admin.locator("#maintenance-heading")).to_have_text(title)
    expect(admin.locator("#maintenance-status")).to_have_text("Scheduled")
    assert _count(title) == 1
    with session_scope() as s:
        m = s.exec(select(Maintenance).where(Maintenance.title == title)).one()
        assert m.scheduled_for.replace(tzinfo=dt.timezone.utc) == dt.datetime.fromisoformat(f"{day}T10:00+00:00")

    # The open public page lists it under upcoming maintenance, without a reload.
    upcoming = visitor.locator("#upcoming-maintenance")
    expect(upcoming).to_contain_text(title, timeout=TIMEOUT_MS)
    expect(upcoming).to_contain_text(SERVICE)
    assert visitor.evaluate("window.__not_reloaded") is True

    try:
        admin.click("#maintenance-start-now")
        expect(admin.locator("#maintenance-status")).to_have_text("In progress", timeout=TIMEOUT_MS)
        banner = visitor.locator(".maintenance-banner")
        expect(banner).to_contain_text("Maintenance in progress: " + title, timeout=TIMEOUT_MS)
        expect(visitor.locator(".service", has_text=DESCRIBED).first).to_contain_text("Under maintenance")
        expect(upcoming).not_to_contain_text(title)  # in progress now, no longer upcoming
        assert visitor.evaluate("window.__not_reloaded") is True
    finally:
        # Leave the demo page as the other browser tests expect it.
        admin.click("#maintenance-complete")
    expect(admin.locator("#maintenance-status")).to_have_text("Completed", timeout=TIMEOUT_MS)
    expect(visitor.locator(".maintenance-banner")).to_have_count(0, timeout=TIMEOUT_MS)
    expect(visitor.locator(".service", has_text=DESCRIBED).first).not_to_contain_text("Under maintenance")
    assert visitor.evaluate("window.__not_reloaded") is True

    # The public detail page and the history list it.
    visitor.goto(app_server.url + f"/status/demo/maintenance/{m.id}")
    expect(visitor.locator("h1")).to_contain_text(title, timeout=TIMEOUT_MS)
    expect(visitor.locator("#maintenance-description strong")).to_have_text("paused")
    visitor.goto(app_server.url + "/status/demo/history")
    expect(visitor.locator(".maintenance", has_text=title)).to_contain_text("Completed", timeout=TIMEOUT_MS)
