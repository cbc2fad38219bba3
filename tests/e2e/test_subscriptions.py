"""Subscribing end to end in Chromium against the app in production mode, with no Resend key
(the dev mailbox): subscribe on the public page, open the confirmation link from the console's
mailbox, receive the next incident's email, unsubscribe in one click, receive nothing more."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from statusapp.db import session_scope
from statusapp.domain import Actor, incidents
from statusapp.models import DevMail, DomainEvent, Service, Subscriber
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 20_000
SENDER_WAIT_S = 30  # the sender runs every 2 s; generous on a shared machine


def _wait(predicate, what: str, timeout: float = SENDER_WAIT_S):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.25)


def _mail(address: str, subject_part: str) -> DevMail | None:
    with session_scope() as s:
        return s.exec(select(DevMail).where(DevMail.to_address == address, DevMail.subject.contains(subject_part))
                      .order_by(DevMail.id.desc())).first()


def _open_in_mailbox(admin, base: str, address: str, subject_part: str):
    """The console's mailbox shows the email; returns the iframe holding its HTML."""
    _wait(lambda: _mail(address, subject_part), f"the email '{subject_part}' to {address}")
    admin.goto(base + "/admin/mailbox")
    row = admin.locator("#mail-list tr", has_text=address).filter(has_text=subject_part).first
    row.wait_for(timeout=TIMEOUT_MS)
    row.locator(".mail-link").click()
    # The tab's state may still show the previous email for a moment: wait for this one.
    expect(admin.locator("#mail-subject")).to_contain_text(subject_part, timeout=TIMEOUT_MS)
    # Shown sandboxed: an iframe with srcdoc and an empty sandbox, never inside the console DOM.
    frame = admin.locator("#mail-html")
    assert frame.get_attribute("sandbox") == ""
    assert frame.get_attribute("srcdoc")
    return admin.frame_locator("#mail-html")


def _api_service_id() -> int:
    with session_scope() as s:
        return s.exec(select(Service).where(Service.slug == "api")).one().id


def _declare(title: str) -> int:
    inc = incidents.create_incident(actor=Actor(1), title=title, impact="major", message="We are looking into it.",
                                    services={_api_service_id(): "major_outage"})
    return inc.id


def _processed(incident_id: int) -> bool:
    """Whether the sender has taken the newest "incident declared" outbox row of this incident
    (SQLite may give a new incident the id of one deleted earlier in the session)."""
    with session_scope() as s:
        rows = s.exec(select(DomainEvent).where(DomainEvent.kind == "incident.created")
                      .order_by(DomainEvent.id.desc())).all()
        newest = next((r for r in rows if r.payload.get("incident_id") == incident_id), None)
        return newest is not None and newest.processed_at is not None


def test_double_opt_in_incident_email_and_one_click_unsubscribe(app_server, app_db_url, browser):
    base = app_server.url
    address = f"reader-{uuid.uuid4().hex[:8]}@example.com"
    visitor = browser.new_context().new_page()
    visitor.goto(base + "/status/demo")
    visitor.click("#subscribe-open", timeout=TIMEOUT_MS)
    visitor.fill("#subscribe-email", "not an address")
    visitor.click("#subscribe-submit")
    visitor.locator(".field-error[data-field='email']").wait_for(timeout=TIMEOUT_MS)
    visitor.fill("#subscribe-email", address)
    visitor.click("#subscribe-submit")
    visitor.wait_for_selector("#subscribe-sent", timeout=TIMEOUT_MS)
    answer = visitor.inner_text("#subscribe-sent")

    admin = browser.new_context().new_page()
    login(admin, base)
    admin.wait_for_selector("text=Open incidents", timeout=TIMEOUT_MS)
    frame = _open_in_mailbox(admin, base, address, "Confirm your subscription")
    confirm = frame.get_by_role("link", name="Confirm subscription").get_attribute("href")
    assert confirm.startswith(base + "/subscription/confirm?token=")

    # Nothing before confirming: an incident now does not reach the address.
    early = _declare(f"Early {uuid.uuid4().hex[:6]}")
    _wait(lambda: _processed(early), "the sender to take the first incident")
    incidents.resolve_incident(actor=Actor(1), incident_id=early, deliver_notifications=False)

    visitor.goto(confirm)
    visitor.get_by_role("button", name="Confirm subscription").click()
    visitor.wait_for_selector("text=You are subscribed", timeout=TIMEOUT_MS)

    title = f"Checkout failing {uuid.uuid4().hex[:6]} <b>bold?</b>"
    incident_id = _declare(title)
    frame = _open_in_mailbox(admin, base, address, "Checkout failing")
    assert frame.locator("h1").inner_text() == title  # the markup shown as text, escaped
    assert frame.locator("b").count() == 0
    unsubscribe = frame.get_by_role("link", name="Unsubscribe").get_attribute("href")
    assert _mail(address, "Early") is None

    # One click, no login.
    visitor.goto(unsubscribe)
    visitor.get_by_role("button", name="Unsubscribe").click()
    visitor.wait_for_selector("text=Unsubscribed: no more status updates", timeout=TIMEOUT_MS)
    with session_scope() as s:
        assert s.exec(select(Subscriber).where(Subscriber.address == address)).one().status == "unsubscribed"

    incidents.resolve_incident(actor=Actor(1), incident_id=incident_id, deliver_notifications=False)
    later = _declare(f"Later {uuid.uuid4().hex[:6]}")
    _wait(lambda: _processed(later), "the sender to take the last incident")
    time.sleep(3)  # a sender run after the expansion has had time to send anything it would
    assert _mail(address, "Later") is None
    incidents.resolve_incident(actor=Actor(1), incident_id=later, deliver_notifications=False)

    # Asking again for the now-unsubscribed address (another visitor) answers exactly the same.
    visitor.context.close()
    other = browser.new_context().new_page()
    other.goto(base + "/status/demo")
    other.click("#subscribe-open", timeout=TIMEOUT_MS)
    other.fill("#subscribe-email", address)
    other.click("#subscribe-submit")
    other.wait_for_selector("#subscribe-sent", timeout=TIMEOUT_MS)
    assert other.inner_text("#subscribe-sent") == answer
    other.context.close()
    admin.context.close()


def test_rfc8058_one_click_post_to_the_list_unsubscribe_url(app_server, app_db_url):
    from statusapp.domain import subscribers

    address = f"oneclick-{uuid.uuid4().hex[:8]}@example.com"
    subscribers.import_subscribers(actor=Actor(1), page_id=1, csv_text=address)
    incident_id = _declare(f"One-click {uuid.uuid4().hex[:6]}")
    mail = _wait(lambda: _mail(address, "One-click"), "the incident email")
    header = mail.headers["List-Unsubscribe"]
    url = header.strip("<>")
    # A mail provider's one-click POST: no cookies, no page, this exact body.
    r = httpx.post(url, content=b"List-Unsubscribe=One-Click",
                   headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert r.status_code == 200
    with session_scope() as s:
        assert s.exec(select(Subscriber).where(Subscriber.address == address)).one().status == "unsubscribed"
    incidents.resolve_incident(actor=Actor(1), incident_id=incident_id, deliver_notifications=False)


def test_console_lists_subscribers_and_shows_a_failed_channel_test_with_its_reason(app_server, app_db_url, browser):
    from statusapp.domain import subscribers

    tag = uuid.uuid4().hex[:6]
    subscribers.import_subscribers(actor=Actor(1), page_id=1, csv_text=f"list-{tag}@example.com,api")
    admin = browser.new_context().new_page()
    login(admin, app_server.url)
    admin.wait_for_selector("text=Open incidents", timeout=TIMEOUT_MS)
    admin.goto(app_server.url + "/admin/subscribers")
    admin.fill("#subscriber-search", f"list-{tag}")
    admin.get_by_role("button", name="Search").click()
    row = admin.locator("#subscriber-table tr", has_text=f"list-{tag}@example.com")
    row.wait_for(timeout=TIMEOUT_MS)
    assert "Confirmed" in row.inner_text() and "API" in row.inner_text()
    admin.wait_for_selector("text=1 matching", timeout=TIMEOUT_MS)
    with admin.expect_download(timeout=TIMEOUT_MS) as download:
        admin.click("#export-csv")
    exported = open(download.value.path()).read()
    assert exported.startswith("email,services") and f"list-{tag}@example.com,api" in exported
    r = httpx.get(app_server.url + "/admin/subscribers.csv?page_id=1", timeout=10, follow_redirects=False)
    assert r.status_code == 303 and "list-" not in r.text  # no session, no export

    # A channel pointing at this machine: the outbound guard refuses it, and the console says why.
    admin.goto(app_server.url + "/admin/channels")
    admin.wait_for_selector("#channel-url", timeout=TIMEOUT_MS)
    admin.fill("#channel-name", f"ops-{tag}")
    admin.fill("#channel-url", "http://127.0.0.1:9/hook")
    admin.click("#add-channel")
    row = admin.locator("#channel-table tr", has_text=f"ops-{tag}")
    row.wait_for(timeout=TIMEOUT_MS)
    row.locator(".send-test").click()
    deadline = time.monotonic() + SENDER_WAIT_S
    while "Failed" not in row.inner_text():
        assert time.monotonic() < deadline, row.inner_text()
        time.sleep(1)
        admin.get_by_role("button", name="Refresh").click()
    assert "loopback" in row.inner_text()
    admin.context.close()
