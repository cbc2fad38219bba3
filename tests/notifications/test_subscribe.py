"""Subscribing from a public page: double opt-in, answers that reveal nothing, rate limits,
signed links (forged and expired ones refused), manage, one-click unsubscribe, CSV import."""

from __future__ import annotations

import datetime as dt

import pytest

from statusapp.domain import NotFound, ValidationError, incidents, subscribers, tokens
from statusapp.models import SubscribeAttempt, Subscriber, SubscriberService
from statusapp.settings import get_settings
from tests.domain.helpers import expect_invalid
from tests.notifications.helpers import (
    count,
    find_subscriber,
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


def subscribe(page, address=ADDRESS, ip="203.0.113.7", **kw):
    return subscribers.subscribe(page_id=page.id, email=address, client_ip=ip, **kw)


def confirmation_link(address=ADDRESS) -> str:
    (mail,) = [m for m in mails(address) if "Confirm" in m.subject]
    return link_in(mail.text, "/subscription/confirm")


def test_double_opt_in_nothing_reaches_an_address_before_it_confirms(org):
    page, svc = make_page(org)
    assert subscribe(page, "  Ada@Example.com ") is None
    sub = subscriber(ADDRESS)
    assert (sub.status, sub.kind, sub.all_services) == ("pending", "email", True)

    incidents.create_incident(actor=org, title="Before confirming", impact="major", message="Down.",
                              services={svc["api"].id: "major_outage"})
    run_sender(mailbox_sender())
    (mail,) = mails(ADDRESS)  # the confirmation only, not the incident
    assert mail.subject == "[Acme Status] Confirm your subscription"
    assert "List-Unsubscribe" not in mail.headers
    link = confirmation_link()
    assert link.startswith(get_settings().public_url + "/subscription/confirm?token=")
    assert link in mail.html.replace("&amp;", "&")

    confirmed = subscribers.confirm(token=token_of(link))
    assert confirmed.newly and subscriber(ADDRESS).status == "confirmed"
    assert subscribers.confirm(token=token_of(link)).newly is False  # idempotent

    incidents.create_incident(actor=org, title="After confirming", impact="minor", message="Slow.",
                              services={svc["web"].id: "degraded_performance"})
    run_sender(mailbox_sender())
    subjects = [m.subject for m in mails(ADDRESS)]
    assert subjects == ["[Acme Status] Confirm your subscription", "[Acme Status] New incident: After confirming"]


def test_the_answer_is_the_same_for_a_subscribed_address_and_its_choice_is_kept(org):
    page, svc = make_page(org)
    import_confirmed(org, page.id, [f"{ADDRESS},acme-api"])
    before = subscriber(ADDRESS)
    # Someone else asks for the same address with another choice: same (empty) answer ...
    assert subscribe(page, ADDRESS, all_services=False, service_ids=[svc["web"].id]) is None
    after = subscriber(ADDRESS)
    assert (after.status, after.all_services) == ("confirmed", False)
    assert after.id == before.id
    run_sender(mailbox_sender())
    # ... and the owner gets a manage link by email, not a second confirmation.
    (mail,) = mails(ADDRESS)
    assert mail.subject == "[Acme Status] You are already subscribed"
    manage = link_in(mail.text, "/subscription/manage")
    assert subscribers.unsubscribe(token=token_of(manage)) is None


def test_forged_malformed_and_expired_links_are_refused(org, monkeypatch):
    page, _ = make_page(org)
    subscribe(page)
    run_sender(mailbox_sender())
    good = token_of(confirmation_link())
    sid = subscriber(ADDRESS).id
    forged = [
        good[:-1] + ("A" if good[-1] != "A" else "B"),  # one character of the signature changed
        tokens.confirm_token(sid, "mallory@example.com", dt.datetime.now(dt.timezone.utc)),  # signed for another address
        tokens.manage_token(sid, ADDRESS),  # a manage token is no confirmation token
        "", "garbage", "1.2.3.4", "x" * 500,
    ]
    for token in forged:
        with pytest.raises(ValidationError) as err:
            subscribers.confirm(token=token)
        assert err.value.errors["token"] == tokens.INVALID, token
    assert subscriber(ADDRESS).status == "pending"

    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=get_settings().confirm_link_hours, minutes=1)
    with pytest.raises(ValidationError) as err:
        subscribers.confirm(token=tokens.confirm_token(sid, ADDRESS, old))
    assert err.value.errors["token"] == tokens.EXPIRED
    # A token made with another secret key is worthless here.
    monkeypatch.setattr(get_settings(), "secret_key", "another-installation")
    with pytest.raises(ValidationError):
        subscribers.confirm(token=good)


def test_bad_input_gets_a_message_by_the_field_and_writes_nothing(org, row_counts):
    page, svc = make_page(org)
    other_page, other = make_page(org, "other", ("db",))
    expect_invalid(row_counts, "email", subscribers.subscribe, page_id=page.id, email="not-an-address")
    expect_invalid(row_counts, "email", subscribers.subscribe, page_id=page.id, email="a@b")
    expect_invalid(row_counts, "email", subscribers.subscribe, page_id=page.id, email="")
    expect_invalid(row_counts, "webhook_url", subscribers.subscribe, page_id=page.id, email=ADDRESS,
                   webhook_url="ftp://example.com/hook")
    expect_invalid(row_counts, "webhook_url", subscribers.subscribe, page_id=page.id, email=ADDRESS,
                   webhook_url="javascript:alert(1)")
    expect_invalid(row_counts, "services", subscribers.subscribe, page_id=page.id, email=ADDRESS,
                   all_services=False, service_ids=[other["db"].id])
    expect_invalid(row_counts, "services", subscribers.subscribe, page_id=page.id, email=ADDRESS,
                   all_services=False, service_ids=["x"])
    expect_invalid(row_counts, "services", subscribers.subscribe, page_id=page.id, email=ADDRESS,
                   all_services=False, service_ids=[])


def test_a_chosen_set_of_services_is_kept(org):
    page, svc = make_page(org)
    subscribe(page, all_services=False, service_ids=[svc["api"].id, str(svc["api"].id)])
    assert subscriber(ADDRESS).all_services is False and count(SubscriberService) == 1


def test_private_and_unknown_pages_cannot_be_subscribed_to(org):
    private, _ = make_page(org, "internal", is_public=False)
    for page_id in (private.id, 99999, "abc"):
        with pytest.raises(NotFound):
            subscribers.subscribe(page_id=page_id, email=ADDRESS)
    assert count(Subscriber) == 0


def test_rate_limits_per_client_address_and_per_target_address(org, monkeypatch):
    monkeypatch.setattr(get_settings(), "subscribe_max_per_ip", 3)
    monkeypatch.setattr(get_settings(), "subscribe_max_per_address", 2)
    page, _ = make_page(org)
    # Per target address: silent. The third request answers the same and sends nothing more.
    for _ in range(3):
        assert subscribe(page, ADDRESS, ip=f"198.51.100.{_}") is None
    run_sender(mailbox_sender())
    assert len(mails(ADDRESS)) == 2
    # Per client address: an explicit refusal, about the requester's own requests only.
    for i in range(3):
        subscribe(page, f"user{i}@example.com", ip="192.0.2.1")
    with pytest.raises(ValidationError) as err:
        subscribe(page, "user9@example.com", ip="192.0.2.1")
    assert err.value.errors == {"_": subscribers.TOO_MANY_FROM_IP}
    assert find_subscriber("user9@example.com") is None
    assert count(SubscribeAttempt) == 6
    subscribe(page, "user9@example.com", ip="192.0.2.2")  # another network is not refused


def test_manage_choose_services_unsubscribe_in_one_step_and_come_back(org):
    page, svc = make_page(org)
    import_confirmed(org, page.id, [ADDRESS])
    sid = subscriber(ADDRESS).id
    token = tokens.manage_token(sid, ADDRESS)
    with pytest.raises(ValidationError) as err:
        subscribers.update_choice(token=token, all_services=False, service_ids=[])
    assert "services" in err.value.errors
    subscribers.update_choice(token=token, all_services=False, service_ids=[svc["web"].id])
    assert (subscriber(ADDRESS).all_services, count(SubscriberService)) == (False, 1)
    subscribers.unsubscribe(token=token)
    subscribers.unsubscribe(token=token)  # twice is fine (mail clients retry one-click POSTs)
    assert subscriber(ADDRESS).status == "unsubscribed"
    subscribers.resubscribe(token=token)
    assert subscriber(ADDRESS).status == "confirmed"
    with pytest.raises(ValidationError):
        subscribers.unsubscribe(token=tokens.manage_token(sid, "someone@example.com"))


def test_webhook_subscription_is_confirmed_by_email_and_shows_its_secret_once(org):
    page, _ = make_page(org)
    subscribe(page, ADDRESS, webhook_url="https://hooks.example.com/status")
    sub = subscriber("https://hooks.example.com/status")
    assert (sub.kind, sub.contact_email, sub.status) == ("webhook", ADDRESS, "pending")
    assert sub.secret.startswith("whsec_")
    run_sender(mailbox_sender())
    (mail,) = mails(ADDRESS)
    assert "the webhook https://hooks.example.com/status" in mail.text
    first = subscribers.confirm(token=token_of(link_in(mail.text, "/subscription/confirm")))
    assert first.secret == sub.secret and first.kind == "webhook"
    again = subscribers.confirm(token=token_of(link_in(mail.text, "/subscription/confirm")))
    assert again.secret == ""  # shown once
    rotated = subscribers.rotate_secret(token=tokens.manage_token(sub.id, sub.address))
    assert rotated != sub.secret and subscriber(sub.address).secret == rotated


def test_csv_import_keeps_good_lines_and_reports_bad_ones_by_line(org):
    page, svc = make_page(org)
    import_confirmed(org, page.id, ["gone@example.com"])
    subscribers.unsubscribe(token=tokens.manage_token(subscriber("gone@example.com").id, "gone@example.com"))
    report = import_confirmed(org, page.id, [
        "email,services",                 # 1: header
        "one@example.com",                # 2
        "two@example.com,acme-api;acme-web",  # 3
        "not an address",                 # 4
        "three@example.com,no-such-service",  # 5
        "ONE@example.com",                # 6: duplicate of line 2
        "",                               # 7: blank
        "gone@example.com",               # 8: unsubscribed earlier
        "four@example.com,acme-web",      # 9
    ])
    assert report.added == 3
    assert [line for line, _ in report.errors] == [4, 5, 6, 8]
    messages = dict(report.errors)
    assert "not an address" in messages[4] and "no-such-service" in messages[5]
    assert "line 2" in messages[6] and "unsubscribed" in messages[8]
    assert subscriber("two@example.com").all_services is False
    assert subscriber("gone@example.com").status == "unsubscribed"  # their choice wins
    with pytest.raises(ValidationError):
        subscribers.import_subscribers(actor=org, page_id=page.id, csv_text="\n\n")


def test_the_console_operations_stay_inside_the_organization(org, other_org):
    page, _ = make_page(org)
    import_confirmed(org, page.id, [ADDRESS])
    sid = subscriber(ADDRESS).id
    with pytest.raises(NotFound):
        subscribers.remove_subscriber(actor=other_org, subscriber_id=sid)
    with pytest.raises(NotFound):
        subscribers.import_subscribers(actor=other_org, page_id=page.id, csv_text="x@example.com")
    subscribers.remove_subscriber(actor=org, subscriber_id=sid)
    assert count(Subscriber) == 0
