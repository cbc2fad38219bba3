"""What the console shows: subscribers (search, filter by service, keyset pages, counts), the
delivery log with reasons, channels with their last delivery (chat URLs redacted), the mailbox."""

from __future__ import annotations

from statusapp.domain import incidents, subscribers, tokens
from statusapp.domain.deliveries import prune
from statusapp.models import DevMail, SubscribeAttempt
from statusapp.queries import notifications as reads
from tests.notifications.helpers import count, import_confirmed, mailbox_sender, make_page, run_sender, subscriber
from tests.support.webhook_receiver import WebhookReceiver


def test_subscriber_list_search_filter_pages_and_counts(org, other_org, monkeypatch):
    monkeypatch.setattr(reads, "PAGE_SIZE", 3)
    page, svc = make_page(org)
    import_confirmed(org, page.id, [f"user{i}@example.com" for i in range(7)] + ["api-only@example.com,acme-api"])
    subscribers.unsubscribe(token=tokens.manage_token(subscriber("user0@example.com").id, "user0@example.com"))
    listing = reads.list_subscribers(org.organization_id, page.id)
    assert (listing.counts.total, listing.counts.confirmed, listing.counts.unsubscribed) == (8, 7, 1)
    seen, after = [], 0
    while True:
        chunk = reads.list_subscribers(org.organization_id, page.id, after_id=after)
        seen += [r.address for r in chunk.rows]
        if not chunk.next_after:
            break
        after = chunk.next_after
    assert len(seen) == 8 == len(set(seen))
    web = reads.list_subscribers(org.organization_id, page.id, service_id=svc["web"].id)
    assert web.matching == 7 and "api-only@example.com" not in [r.address for r in web.rows]
    found = reads.list_subscribers(org.organization_id, page.id, search="API-ONLY")
    assert [(r.address, r.services) for r in found.rows] == [("api-only@example.com", "API")]
    assert reads.list_subscribers(other_org.organization_id, page.id).rows == []


def test_delivery_log_counts_and_reasons_problems_first(org):
    page, svc = make_page(org)
    import_confirmed(org, page.id, ["a@example.com", "b@example.com"])
    with WebhookReceiver() as rx:
        rx.answer(404, times=20)
        hook = subscribers.create_channel(actor=org, page_id=page.id, kind="slack", url=rx.url("/services/T/B/secret"),
                                          name="#ops")
        inc = incidents.create_incident(actor=org, title="Logged", impact="minor", message="x",
                                        services={svc["api"].id: None})
        run_sender(mailbox_sender())
    (row,) = reads.delivery_log(org.organization_id)
    assert row.title == "Incident declared: Logged"
    assert (row.total, row.sent, row.failed) == (3, 2, 1)
    rows = reads.event_deliveries(org.organization_id, row.event_id)
    assert rows[0].status == "failed" and "HTTP 404" in rows[0].last_error
    assert rows[0].address == "http://127.0.0.1/…"  # a Slack URL is a credential: never shown
    (channel,) = reads.channels(org.organization_id)
    assert (channel.id, channel.last_status, channel.name) == (hook.id, "failed", "#ops")
    assert "secret" not in channel.target
    assert inc.id


def test_mailbox_lists_and_opens_only_the_organizations_mail(org, other_org):
    page, _ = make_page(org)
    subscribers.subscribe(page_id=page.id, email="ada@example.com")
    run_sender(mailbox_sender())
    (listed,) = reads.dev_mails(org.organization_id)
    assert listed.to_address == "ada@example.com"
    mail = reads.dev_mail(org.organization_id, listed.id)
    assert "Confirm subscription" in mail.html and "/subscription/confirm?token=" in mail.text
    assert reads.dev_mail(other_org.organization_id, listed.id) is None
    assert reads.dev_mails(org.organization_id, search="nobody") == []


def test_old_rate_limit_attempts_and_mailbox_emails_are_pruned(org):
    import datetime as dt

    page, _ = make_page(org)
    subscribers.subscribe(page_id=page.id, email="ada@example.com", client_ip="192.0.2.1")
    run_sender(mailbox_sender())
    prune(now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
    assert (count(SubscribeAttempt), count(DevMail)) == (1, 1)
    prune(now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=8))
    assert (count(SubscribeAttempt), count(DevMail)) == (0, 0)
