"""The sender end to end on both databases: who gets what (per-service filtering, several
pages, deliver_notifications off), escaping, the real `resend` SDK against the fake Resend
server, signed webhooks, Slack and Discord, one slow receiver not delaying the others."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import resend

from statusapp.domain import incidents, pages, services, subscribers, tokens
from statusapp.jobs.notifications import Sender
from statusapp.notify.channels.email import EmailChannel
from statusapp.notify.channels.webhook import SIGNATURE_HEADER, verify_signature
from statusapp.settings import get_settings
from tests.notifications.helpers import (
    allow_loopback,
    deliveries,
    fast_config,
    import_confirmed,
    mailbox_sender,
    mails,
    make_page,
    run_sender,
    subscriber,
)
from tests.notify.factories import HOSTILE_MESSAGE, HOSTILE_TITLE
from tests.support.fake_resend import FakeResend
from tests.support.webhook_receiver import WebhookReceiver


@pytest.fixture
def fake():
    saved = (resend.api_key, resend.api_url, resend.default_http_client)
    with FakeResend() as server:
        yield server
    resend.api_key, resend.api_url, resend.default_http_client = saved


def resend_sender(fake: FakeResend, **kw) -> Sender:
    channel = EmailChannel(api_key="re_test", sender="status@example.com", api_url=fake.url, timeout_s=kw.pop("timeout_s", 2.0))
    return Sender(email=channel, config=fast_config(**kw), policy=allow_loopback)


def recipients(fake: FakeResend) -> list[str]:
    return sorted(e["to"][0] for e in fake.emails)


def test_a_subscriber_gets_only_events_touching_a_service_they_chose(org):
    page, svc = make_page(org)
    import_confirmed(org, page.id, ["all@example.com", "api@example.com,acme-api", "web@example.com,acme-web",
                                    "both@example.com,acme-api;acme-web"])
    incidents.create_incident(actor=org, title="API down", impact="major", message="Down.",
                              services={svc["api"].id: "major_outage"})
    run_sender(mailbox_sender())
    assert sorted(m.to_address for m in mails()) == ["all@example.com", "api@example.com", "both@example.com"]
    # An incident without services is about the whole page: everyone hears of it.
    incidents.create_incident(actor=org, title="Everything", impact="minor", message="Hm.")
    run_sender(mailbox_sender())
    assert len([m for m in mails() if "Everything" in m.subject]) == 4


def test_an_update_with_deliver_notifications_off_sends_nothing(org):
    page, svc = make_page(org)
    import_confirmed(org, page.id, ["all@example.com"])
    inc = incidents.create_incident(actor=org, title="Quiet", impact="minor", message="x",
                                    services={svc["api"].id: None}, deliver_notifications=False)
    incidents.post_update(actor=org, incident_id=inc.id, status="identified", message="y", deliver_notifications=False)
    run_sender(mailbox_sender())
    assert mails() == [] and deliveries() == []
    incidents.resolve_incident(actor=org, incident_id=inc.id)
    run_sender(mailbox_sender())
    assert [m.subject for m in mails()] == ["[Acme Status] Resolved: Quiet"]


def test_an_incident_on_several_pages_reaches_each_address_once(org):
    api = services.create_service(actor=org, name="API", slug="api")
    first = pages.create_page(actor=org, name="First", slug="first", service_ids=[api.id])
    second = pages.create_page(actor=org, name="Second", slug="second", service_ids=[api.id])
    import_confirmed(org, first.id, ["both@example.com", "first@example.com"])
    import_confirmed(org, second.id, ["both@example.com", "second@example.com"])
    incidents.create_incident(actor=org, title="Shared", impact="major", message="x", services={api.id: None})
    run_sender(mailbox_sender())
    got = sorted((m.to_address, m.subject.split("]")[0] + "]") for m in mails())
    assert got == [("both@example.com", "[First]"), ("first@example.com", "[First]"),
                   ("second@example.com", "[Second]")]


def test_private_pages_notify_only_the_channels_an_admin_added(org):
    page, svc = make_page(org)
    import_confirmed(org, page.id, ["reader@example.com"])
    pages.update_page(actor=org, page_id=page.id, is_public=False)
    with WebhookReceiver() as rx:
        subscribers.create_channel(actor=org, page_id=page.id, kind="slack", url=rx.url("/slack"))
        incidents.create_incident(actor=org, title="Internal", impact="minor", message="x",
                                  services={svc["api"].id: None})
        run_sender(mailbox_sender())
        assert mails() == [] and len(rx.requests) == 1


def test_hostile_titles_and_messages_are_escaped_in_html_and_text(org):
    page, svc = make_page(org, name='Acme <img src=x onerror=alert(0)> "Status"')
    import_confirmed(org, page.id, ["reader@example.com"])
    services.update_service(actor=org, service_id=svc["api"].id, name="<svg onload=alert(5)> API")
    incidents.create_incident(actor=org, title=HOSTILE_TITLE, impact="major", message=HOSTILE_MESSAGE,
                              services={svc["api"].id: "major_outage"})
    run_sender(mailbox_sender())
    (mail,) = mails()
    for raw in ("<script>", "<img src=x", "<svg onload", "<b>bold?</b>", 'onmouseover="alert'):
        assert raw not in mail.html, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html
    assert "&lt;svg onload=alert(5)&gt; API" in mail.html
    assert "<script>steal()</script>" in mail.text  # plain text shows it as typed: it is not HTML
    assert "\n" not in mail.subject and "<script>" in mail.subject  # a subject is plain text too


def test_batches_of_100_through_the_real_sdk_once_each(org, fake):
    page, svc = make_page(org)
    import_confirmed(org, page.id, [f"user{i}@example.com" for i in range(250)])
    incidents.create_incident(actor=org, title="Batch", impact="major", message="x",
                              services={svc["api"].id: "major_outage"})
    run_sender(resend_sender(fake, email_concurrency=2))
    assert fake.batch_calls == 3 and len(fake.emails) == 250
    assert recipients(fake) == sorted(f"user{i}@example.com" for i in range(250))
    keys = [c.idempotency_key for c in fake.calls]
    assert len(set(keys)) == 3 and all(k.startswith("sa-") for k in keys)
    assert {c.batch_validation for c in fake.calls} == {"permissive"}
    sent = deliveries("sent")
    assert len(sent) == 250 and all(d.provider_id for d in sent)
    email = next(e for e in fake.emails if e["to"] == ["user7@example.com"])
    unsubscribe = email["headers"]["List-Unsubscribe"].strip("<>")
    sid = subscriber("user7@example.com").id
    assert unsubscribe == get_settings().public_url + "/subscription/unsubscribe?token=" + tokens.manage_token(sid, "user7@example.com")
    assert email["from"] == '"Acme Status" <status@example.com>'


def test_addresses_resend_refuses_fail_alone_and_repeated_failures_quarantine(org, fake, monkeypatch):
    monkeypatch.setattr(get_settings(), "bounce_quarantine", 2)
    page, svc = make_page(org)
    import_confirmed(org, page.id, ["good@example.com", "bad@example.com"])
    original = fake._answer

    def refuse_bad(path, headers, body, key, mode):  # Resend refusing one address in permissive mode
        status, extra, payload = original(path, headers, body, key, mode)
        emails = json.loads(body)
        bad = [i for i, e in enumerate(emails) if e["to"] == ["bad@example.com"]]
        if status == 200 and bad:
            data = json.loads(payload)
            data["errors"] = [{"index": bad[0], "message": "Invalid `to` field."}]
            data["data"] = data["data"][:len(emails) - 1]
            payload = json.dumps(data).encode()
        return status, extra, payload

    monkeypatch.setattr(fake, "_answer", refuse_bad)
    for title in ("One", "Two"):
        incidents.create_incident(actor=org, title=title, impact="minor", message="x", services={svc["api"].id: None})
        run_sender(resend_sender(fake))
    failed = deliveries("failed")
    assert [d.address for d in failed] == ["bad@example.com", "bad@example.com"]
    assert "Invalid `to` field" in failed[0].last_error
    assert subscriber("bad@example.com").status == "quarantined"
    assert subscriber("good@example.com").status == "confirmed"
    assert len(deliveries("sent")) == 2


def test_a_webhook_subscriber_gets_signed_statuspage_json_it_can_verify(org):
    page, svc = make_page(org)
    with WebhookReceiver() as rx:
        channel = subscribers.create_channel(actor=org, page_id=page.id, kind="webhook", url=rx.url("/hook"))
        inc = incidents.create_incident(actor=org, title="Webhooked", impact="critical", message="All down.",
                                        services={svc["api"].id: "major_outage"})
        run_sender(mailbox_sender())
        (req,) = rx.requests
    assert verify_signature(channel.secret, req.headers[SIGNATURE_HEADER], req.body)
    assert not verify_signature("whsec_wrong", req.headers[SIGNATURE_HEADER], req.body)
    body = json.loads(req.body)
    assert body["incident"]["id"] == str(inc.id) and body["incident"]["name"] == "Webhooked"
    assert body["incident"]["impact"] == "critical"
    assert body["incident"]["incident_updates"][0]["body"] == "All down."
    assert body["page"] == {"id": str(page.id), "status_indicator": "critical", "status_description": "Major System Outage"}
    assert body["meta"]["unsubscribe"].startswith(get_settings().public_url + "/subscription/unsubscribe?token=")
    assert req.headers["X-Statusapp-Event"] == "incident.created"


def test_webhooks_go_through_the_outbound_guard(org):
    """With the real policy (public addresses only), a loopback receiver is refused at connect
    time: a permanent failure with the reason in the log, and the receiver sees nothing."""
    page, svc = make_page(org)
    with WebhookReceiver() as rx:
        subscribers.create_channel(actor=org, page_id=page.id, kind="webhook", url=rx.url("/hook"))
        incidents.create_incident(actor=org, title="x", impact="minor", message="x", services={svc["api"].id: None})
        run_sender(Sender(email=None, config=fast_config()))  # the default policy
        assert rx.requests == []
    (row,) = deliveries()
    assert row.status == "failed" and "loopback" in row.last_error


def test_slack_and_discord_get_their_native_formats_and_send_test_works(org):
    page, svc = make_page(org)
    with WebhookReceiver() as rx:
        slack = subscribers.create_channel(actor=org, page_id=page.id, kind="slack", url=rx.url("/slack"), name="#ops")
        discord = subscribers.create_channel(actor=org, page_id=page.id, kind="discord", url=rx.url("/discord"))
        subscribers.request_channel_test(actor=org, subscriber_id=slack.id)
        run_sender(mailbox_sender())
        (test,) = rx.requests
        assert test.path == "/slack" and "Test message" in json.loads(test.body)["text"]
        incidents.create_incident(actor=org, title="Chat", impact="major", message="x", services={svc["api"].id: None})
        run_sender(mailbox_sender())
        by_path = {r.path: json.loads(r.body) for r in rx.requests[1:]}
    assert by_path["/slack"]["blocks"][0]["type"] == "header"
    assert by_path["/discord"]["embeds"][0]["title"].endswith("Chat")
    assert discord.secret == "" and slack.secret == ""


def test_one_slow_receiver_does_not_delay_the_others(org):
    page, svc = make_page(org)
    with WebhookReceiver() as slow, WebhookReceiver() as fast_rx:
        slow.answer(200, delay=4)
        subscribers.create_channel(actor=org, page_id=page.id, kind="webhook", url=slow.url("/slow"))
        subscribers.create_channel(actor=org, page_id=page.id, kind="webhook", url=fast_rx.url("/fast"))
        incidents.create_incident(actor=org, title="x", impact="minor", message="x", services={svc["api"].id: None})
        sender = mailbox_sender(hook_timeout_s=10.0)

        async def main():
            task = asyncio.create_task(sender.run_once())
            started = time.monotonic()
            while not fast_rx.requests:
                assert time.monotonic() - started < 3, "the fast receiver waited for the slow one"
                await asyncio.sleep(0.02)
            fast_at = time.monotonic() - started
            await asyncio.wait_for(task, 20)
            await sender.aclose()
            return fast_at

        fast_at = asyncio.run(main())
    assert fast_at < 2.0
    assert sorted(d.status for d in deliveries()) == ["sent", "sent"]


def test_a_failing_receiver_is_retried_with_backoff_then_succeeds(org):
    page, svc = make_page(org)
    with WebhookReceiver() as rx:
        rx.answer(500, times=2)
        subscribers.create_channel(actor=org, page_id=page.id, kind="webhook", url=rx.url("/hook"))
        incidents.create_incident(actor=org, title="x", impact="minor", message="x", services={svc["api"].id: None})
        sender = mailbox_sender()
        run_sender(sender)
        (row,) = deliveries()
        assert row.status == "retrying" and "HTTP 500" in row.last_error
        deadline = time.monotonic() + 10
        while deliveries()[0].status != "sent":
            assert time.monotonic() < deadline
            time.sleep(0.1)
            run_sender(mailbox_sender())
        assert len(rx.requests) == 3
        ids = {r.headers["X-Statusapp-Delivery"] for r in rx.requests}
        assert len(ids) == 1  # the same delivery id on every retry: receivers can dedupe
