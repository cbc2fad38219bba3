"""The pages behind the email links, the console's CSV export and Resend's bounce webhook,
over HTTP (FastAPI's TestClient on the app's router)."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import time

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from statusapp.domain import auth, organizations, subscribers, tokens
from statusapp.settings import get_settings
from statusapp.web_subscriptions import router
from tests.notifications.helpers import (
    import_confirmed,
    link_in,
    mailbox_sender,
    mails,
    make_page,
    run_sender,
    subscriber,
    token_of,
)

ADDRESS = "ada@example.com"


@pytest.fixture
def client(db):
    app = FastAPI()
    app.include_router(router)
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def confirm_url(page) -> str:
    subscribers.subscribe(page_id=page.id, email=ADDRESS)
    run_sender(mailbox_sender())
    return link_in(mails(ADDRESS)[-1].text, "/subscription/confirm")


def path_of(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


def test_opening_a_confirmation_link_changes_nothing_the_button_confirms(org, client):
    page, _ = make_page(org, name='Acme <script>alert(1)</script>')
    url = path_of(confirm_url(page))
    r = client.get(url)
    assert r.status_code == 200 and "Confirm subscription" in r.text
    assert "<script>alert(1)</script>" not in r.text and "&lt;script&gt;" in r.text
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert subscriber(ADDRESS).status == "pending"  # link scanners GET links
    r = client.post("/subscription/confirm", data={"token": token_of(url)})
    assert r.status_code == 200 and "You are subscribed" in r.text
    assert subscriber(ADDRESS).status == "confirmed"


def test_broken_links_get_a_clear_message(org, client):
    page, _ = make_page(org)
    token = token_of(confirm_url(page))
    for path in ("/subscription/confirm?token=" + token[:-2] + "xx", "/subscription/manage?token=nope",
                 "/subscription/unsubscribe?token="):
        r = client.get(path)
        assert r.status_code == 400 and tokens.INVALID in r.text, path
    r = client.post("/subscription/confirm", data={"token": "1.2.3"})
    assert r.status_code == 400 and subscriber(ADDRESS).status == "pending"


def test_rfc8058_one_click_post_unsubscribes_and_get_does_not(org, client):
    page, _ = make_page(org)
    import_confirmed(org, page.id, [ADDRESS])
    token = tokens.manage_token(subscriber(ADDRESS).id, ADDRESS)
    r = client.get("/subscription/unsubscribe", params={"token": token})
    assert r.status_code == 200 and subscriber(ADDRESS).status == "confirmed"
    # What a mail client sends for List-Unsubscribe-Post: the URL as is, this exact body.
    r = client.post("/subscription/unsubscribe?token=" + token, content=b"List-Unsubscribe=One-Click",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200 and "Unsubscribed" in r.text
    assert subscriber(ADDRESS).status == "unsubscribed"
    r = client.post("/subscription/manage", data={"token": token, "action": "resubscribe"}, follow_redirects=False)
    assert r.status_code == 303 and subscriber(ADDRESS).status == "confirmed"


def test_manage_page_saves_a_choice_and_shows_errors_by_the_field(org, client):
    page, svc = make_page(org)
    import_confirmed(org, page.id, [ADDRESS])
    token = tokens.manage_token(subscriber(ADDRESS).id, ADDRESS)
    r = client.get("/subscription/manage", params={"token": token})
    assert r.status_code == 200 and "API" in r.text and 'value="all" checked' in r.text
    r = client.post("/subscription/manage", data={"token": token, "scope": "some", "action": "save"})
    assert r.status_code == 400 and "Choose at least one service" in r.text
    r = client.post("/subscription/manage", data={"token": token, "scope": "some", "service": [str(svc["web"].id)],
                                                  "action": "save"}, follow_redirects=False)
    assert r.status_code == 303
    assert subscriber(ADDRESS).all_services is False
    assert "Saved." in client.get(r.headers["location"]).text


def test_a_webhook_secret_is_shown_once_on_confirmation(org, client):
    page, _ = make_page(org)
    subscribers.subscribe(page_id=page.id, email=ADDRESS, webhook_url="https://hooks.example.com/x")
    run_sender(mailbox_sender())
    token = token_of(link_in(mails(ADDRESS)[-1].text, "/subscription/confirm"))
    secret = subscriber("https://hooks.example.com/x").secret
    assert secret in client.post("/subscription/confirm", data={"token": token}).text
    assert secret not in client.post("/subscription/confirm", data={"token": token}).text


def _signed_in_cookie(org) -> dict[str, str]:
    organizations.create_user(organization_id=org.organization_id, email="admin@example.com", password="correct-horse-1")
    token, _ = auth.login(email="admin@example.com", password="correct-horse-1")
    return {"statusapp_session": token}


def test_csv_export_needs_a_session_and_round_trips_through_import(org, other_org, client):
    page, _ = make_page(org)
    import_confirmed(org, page.id, ["one@example.com,acme-api", "=cmd@example.com", "two@example.com"])
    r = client.get(f"/admin/subscribers.csv?page_id={page.id}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/login"
    client.cookies.update(_signed_in_cookie(org))
    r = client.get(f"/admin/subscribers.csv?page_id={page.id}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][:2] == ["email", "services"]
    assert ["one@example.com", "acme-api"] == rows[1][:2]
    assert rows[2][0] == "'=cmd@example.com"  # a spreadsheet shows it, does not run it
    assert len(rows) == 4
    other_page, _ = make_page(other_org, "elsewhere")
    assert len(client.get(f"/admin/subscribers.csv?page_id={other_page.id}").text.strip().splitlines()) == 0
    # What the export writes, an import reads back.
    copy, _ = make_page(org, "copy", service_slugs=("api",))
    report = subscribers.import_subscribers(actor=org, page_id=copy.id,
                                            csv_text=r.text.replace("acme-api", "copy-api"))
    assert report.added == 3 and report.errors == []


def _svix(secret: str, body: bytes, stamp: int | None = None) -> dict[str, str]:
    stamp = stamp or int(time.time())
    key = base64.b64decode(secret.removeprefix("whsec_"))
    sig = base64.b64encode(hmac.new(key, f"msg_1.{stamp}.".encode() + body, hashlib.sha256).digest()).decode()
    return {"svix-id": "msg_1", "svix-timestamp": str(stamp), "svix-signature": f"v1,{sig}"}


def test_resend_bounces_count_toward_quarantine(org, client, monkeypatch):
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    monkeypatch.setattr(get_settings(), "resend_webhook_secret", secret)
    monkeypatch.setattr(get_settings(), "bounce_quarantine", 2)
    page, _ = make_page(org)
    import_confirmed(org, page.id, [ADDRESS])
    from statusapp.domain import incidents

    incidents.create_incident(actor=org, title="x", impact="minor", message="x")
    run_sender(mailbox_sender())
    body = json.dumps({"type": "email.bounced", "data": {"email_id": "nope", "to": [ADDRESS],
                                                          "bounce": {"message": "mailbox full"}}}).encode()
    assert client.post("/hooks/resend", content=body, headers=_svix("whsec_" + "A" * 43 + "=", body)).status_code == 401
    assert client.post("/hooks/resend", content=body, headers=_svix(secret, body, stamp=1)).status_code == 401
    for _ in range(2):
        assert client.post("/hooks/resend", content=body, headers=_svix(secret, body)).status_code == 200
    sub = subscriber(ADDRESS)
    assert (sub.status, sub.failure_count) == ("quarantined", 2) and "mailbox full" in sub.last_error
