"""Subscriber operations: subscribe (double opt-in), confirm, manage, unsubscribe; and the
console's import, removal, reinstatement and chat/webhook channels.

Double opt-in: `subscribe` only writes a pending subscriber and an outbox row; the sender
then emails a signed, expiring confirmation link, and nothing else reaches the address until
`confirm`. The public answer is the same whatever the address's state (new, pending,
confirmed, unsubscribed, quarantined, or over its rate limit), so the form cannot be used to
learn who subscribes: a confirmed address gets its manage link by email instead.

Rate limits (`subscribe_attempt` rows): per client address, an explicit refusal (it tells the
requester only about their own requests); per target address, silence (no email is sent,
the answer is unchanged), so nobody can flood an inbox with confirmation emails.

Links carry `tokens` (see tokens.py): the token is the only credential of the public
operations, which therefore take a token instead of an actor.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import secrets
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import delete, select

from statusapp.domain import tokens
from statusapp.domain.base import Actor, unit_of_work
from statusapp.domain.errors import NotFound, ValidationError
from statusapp.domain.events import (
    ChannelCreated,
    ChannelTestRequested,
    SubscriberConfirmed,
    SubscriberRemoved,
    SubscriberRequested,
    SubscribersImported,
    SubscriberUnsubscribed,
    SubscriberUpdated,
)
from statusapp.domain.validation import Errors, clean_text, parse_id, shown
from statusapp.enums import SubscriberKind, SubscriberStatus
from statusapp.models import (
    Service,
    StatusPage,
    StatusPageService,
    SubscribeAttempt,
    Subscriber,
    SubscriberService,
    utcnow,
)
from statusapp.settings import get_settings

RATE_WINDOW = dt.timedelta(hours=1)
TOO_MANY_FROM_IP = "Too many subscription requests from your network. Please try again in an hour."
CHOOSE_ONE = "Choose at least one service, or all of them."
MAX_IMPORT_LINES = 100_000
MAX_IMPORT_BYTES = 10 * 1024 * 1024
CHAT_KINDS = (SubscriberKind.webhook, SubscriberKind.slack, SubscriberKind.discord)


# --------------------------------------------------------------------------- input checks


def clean_email(errors: Errors, field: str, value: object) -> str:
    """A deliverable-looking address, lower-cased (one subscription per mailbox); checked by
    email-validator, with an MX lookup when STATUSAPP_EMAIL_CHECK_DELIVERABILITY is on."""
    from email_validator import EmailNotValidError, validate_email

    text = "" if value is None else str(value).strip()
    if not text:
        errors.add(field, "Enter your email address.")
        return ""
    if len(text) > 320:
        errors.add(field, "At most 320 characters.")
        return ""
    try:
        valid = validate_email(text, check_deliverability=get_settings().email_check_deliverability)
    except EmailNotValidError as exc:
        errors.add(field, str(exc))
        return ""
    return valid.normalized.lower()


def clean_hook_url(errors: Errors, field: str, value: object) -> str:
    """An absolute http(s) URL with a host. Where it may point is checked when it is used:
    every post goes through statusapp.outbound, which refuses private addresses."""
    text = "" if value is None else str(value).strip()
    if not text:
        errors.add(field, "Enter the URL to post to.")
        return ""
    if len(text) > 1000:
        errors.add(field, "At most 1000 characters.")
        return ""
    try:
        parts = urlsplit(text)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname \
            or any(c.isspace() for c in text):
        errors.add(field, "Use an http:// or https:// URL, e.g. https://example.com/hooks/status.")
        return ""
    return text


def _page_service_ids(session, page_id: int) -> set[int]:
    return set(session.exec(select(StatusPageService.service_id).where(StatusPageService.page_id == page_id)))


def _clean_choice(session, errors: Errors, page_id: int, service_ids: Iterable[Any] | None) -> list[int]:
    """The chosen services (ids on this page); an empty list means all of the page's services."""
    chosen: list[int] = []
    on_page = _page_service_ids(session, page_id)
    for raw in service_ids or []:
        sid = parse_id(raw)
        if sid is None:
            errors.add("services", f"{shown(raw)} is not a service.")
            continue
        if sid not in on_page:
            errors.add("services", "Choose services shown on this page.")
            continue
        if sid not in chosen:
            chosen.append(sid)
    return chosen


def _set_services(session, subscriber: Subscriber, service_ids: Sequence[int]) -> None:
    session.exec(delete(SubscriberService).where(SubscriberService.subscriber_id == subscriber.id))
    subscriber.all_services = not service_ids
    for sid in service_ids:
        session.add(SubscriberService(subscriber_id=subscriber.id, service_id=sid))


def _public_page(session, page_id: Any) -> StatusPage:
    pid = parse_id(page_id)
    if pid is None:
        raise NotFound("status page")
    page = session.get(StatusPage, pid)
    if page is None or not page.is_public:
        raise NotFound("status page", pid)
    return page


def _count_since(session, column, value: str, since: dt.datetime) -> int:
    return session.exec(
        select(func.count()).select_from(SubscribeAttempt).where(column == value, SubscribeAttempt.created_at >= since)
    ).one()


def new_secret() -> str:
    """A webhook signing secret: shown once, then only used to sign."""
    return "whsec_" + secrets.token_urlsafe(32)


# --------------------------------------------------------------------------- public operations


def subscribe(*, page_id: Any, email: str, service_ids: Iterable[Any] | None = None, all_services: bool = True,
              webhook_url: str = "", client_ip: str = "") -> None:
    """Ask for a subscription to a public page: by email, or (with `webhook_url`) a webhook
    whose confirmation and manage links go to `email`; every service of the page, or (with
    `all_services` False) the chosen ones. Returns nothing a caller could tell apart; raises
    ValidationError for bad input or too many requests from `client_ip`."""
    if not all_services and not list(service_ids or []):
        raise ValidationError.one("services", CHOOSE_ONE)
    for attempt in range(2):  # a concurrent twin may create the same subscriber first
        try:
            return _subscribe(page_id, email, [] if all_services else service_ids, webhook_url, client_ip)
        except IntegrityError:
            if attempt:
                raise


def _subscribe(page_id: Any, email: str, service_ids: Iterable[Any] | None, webhook_url: str, client_ip: str) -> None:
    settings = get_settings()
    errors = Errors()
    address = clean_email(errors, "email", email)
    kind = SubscriberKind.webhook if (webhook_url or "").strip() else SubscriberKind.email
    target = clean_hook_url(errors, "webhook_url", webhook_url) if kind == SubscriberKind.webhook else address
    client_ip = (client_ip or "")[:64]
    with unit_of_work() as uow:
        s = uow.session
        page = _public_page(s, page_id)
        chosen = _clean_choice(s, errors, page.id, service_ids)
        errors.raise_if_any()
        now = utcnow()
        if client_ip and _count_since(s, SubscribeAttempt.client_ip, client_ip, now - RATE_WINDOW) >= settings.subscribe_max_per_ip:
            raise ValidationError.one("_", TOO_MANY_FROM_IP)
        recent = _count_since(s, SubscribeAttempt.address, target, now - RATE_WINDOW)
        s.add(SubscribeAttempt(address=target, client_ip=client_ip, created_at=now))
        if recent >= settings.subscribe_max_per_address:
            return  # silently: no email, the same answer
        sub = s.exec(select(Subscriber).where(
            Subscriber.page_id == page.id, Subscriber.kind == kind.value, Subscriber.address == target
        ).with_for_update()).first()
        if sub is None:
            sub = Subscriber(organization_id=page.organization_id, page_id=page.id, kind=kind.value, address=target,
                             contact_email=address if kind == SubscriberKind.webhook else "",
                             secret=new_secret() if kind == SubscriberKind.webhook else "",
                             status=SubscriberStatus.pending.value, source="public", created_at=now)
            s.add(sub)
            s.flush()
        status = SubscriberStatus(sub.status)
        if status == SubscriberStatus.quarantined:
            return  # its mail bounces: nothing would arrive
        if status == SubscriberStatus.confirmed:
            # The choice stays: whoever asks must not change someone else's subscription.
            mail = "manage_link"
        else:
            sub.status = SubscriberStatus.pending.value
            _set_services(s, sub, chosen)
            s.add(sub)
            mail = "confirm"
        uow.announce(page.organization_id, SubscriberRequested(
            subscriber_id=sub.id, page_id=page.id, mail=mail, issued_at=now.isoformat()))


def _by_token(session, token: str, purpose: str) -> Subscriber:
    sid = tokens.token_subscriber_id(token)
    sub = session.get(Subscriber, sid, with_for_update=True, populate_existing=True)
    if sub is None:
        raise ValidationError.one("token", tokens.INVALID)
    tokens.verify(token, purpose, sub.id, sub.address)
    return sub


@dataclasses.dataclass(frozen=True)
class Confirmed:
    """What the confirmation page says: which page, how, and (first time only) the webhook's
    signing secret, which is never shown again."""

    subscriber_id: int
    page_id: int
    kind: str
    address: str
    newly: bool
    secret: str = ""


def confirm(*, token: str) -> Confirmed:
    """Confirm a pending subscription from its emailed link (idempotent for a confirmed one)."""
    with unit_of_work() as uow:
        sub = _by_token(uow.session, token, tokens.CONFIRM)
        status = SubscriberStatus(sub.status)
        if status == SubscriberStatus.confirmed:
            return Confirmed(sub.id, sub.page_id, sub.kind, sub.address, newly=False)
        if status != SubscriberStatus.pending:
            raise ValidationError.one("token", "This subscription has ended. Subscribe again on the status page.")
        sub.status = SubscriberStatus.confirmed.value
        sub.confirmed_at = utcnow()
        sub.failure_count = 0
        uow.session.add(sub)
        uow.announce(sub.organization_id, SubscriberConfirmed(subscriber_id=sub.id, page_id=sub.page_id))
        return Confirmed(sub.id, sub.page_id, sub.kind, sub.address, newly=True,
                         secret=sub.secret if sub.kind == SubscriberKind.webhook.value else "")


def update_choice(*, token: str, all_services: bool, service_ids: Iterable[Any] | None = None) -> None:
    """The manage page: every service of the page, or the chosen ones."""
    errors = Errors()
    with unit_of_work() as uow:
        s = uow.session
        sub = _by_token(s, token, tokens.MANAGE)
        chosen = [] if all_services else _clean_choice(s, errors, sub.page_id, service_ids)
        if not all_services and not chosen:
            errors.add("services", CHOOSE_ONE)
        errors.raise_if_any()
        _set_services(s, sub, chosen)
        s.add(sub)
        uow.announce(sub.organization_id, SubscriberUpdated(subscriber_id=sub.id, page_id=sub.page_id))


def unsubscribe(*, token: str) -> None:
    """One click, no login (also RFC 8058's one-click POST). Unsubscribing twice is fine."""
    with unit_of_work() as uow:
        sub = _by_token(uow.session, token, tokens.MANAGE)
        if sub.status == SubscriberStatus.unsubscribed.value:
            return
        sub.status = SubscriberStatus.unsubscribed.value
        sub.unsubscribed_at = utcnow()
        uow.session.add(sub)
        uow.announce(sub.organization_id, SubscriberUnsubscribed(subscriber_id=sub.id, page_id=sub.page_id))


def resubscribe(*, token: str) -> None:
    """From the manage page after unsubscribing: the token proves the address, so no new
    confirmation is needed (a quarantined address stays quarantined)."""
    with unit_of_work() as uow:
        sub = _by_token(uow.session, token, tokens.MANAGE)
        if sub.status == SubscriberStatus.quarantined.value:
            raise ValidationError.one("_", "Emails to this address bounced repeatedly; ask the page's team to reinstate it.")
        if sub.status == SubscriberStatus.confirmed.value:
            return
        sub.status = SubscriberStatus.confirmed.value
        sub.confirmed_at = utcnow()
        uow.session.add(sub)
        uow.announce(sub.organization_id, SubscriberConfirmed(subscriber_id=sub.id, page_id=sub.page_id))


def rotate_secret(*, token: str) -> str:
    """A new signing secret for a webhook subscription (shown once); the old one stops working."""
    with unit_of_work() as uow:
        sub = _by_token(uow.session, token, tokens.MANAGE)
        if sub.kind != SubscriberKind.webhook.value:
            raise ValidationError.one("_", "Only webhook subscriptions have a signing secret.")
        sub.secret = new_secret()
        uow.session.add(sub)
        uow.announce(sub.organization_id, SubscriberUpdated(subscriber_id=sub.id, page_id=sub.page_id))
        return sub.secret


# --------------------------------------------------------------------------- console operations


def _org_page(session, actor: Actor, page_id: Any) -> StatusPage:
    pid = parse_id(page_id)
    if pid is None:
        raise ValidationError.one("page_id", "Choose a status page.")
    page = session.get(StatusPage, pid)
    if page is None or page.organization_id != actor.organization_id:
        raise NotFound("status page", pid)
    return page


def _org_subscriber(session, actor: Actor, subscriber_id: Any) -> Subscriber:
    sid = parse_id(subscriber_id)
    if sid is None:
        raise NotFound("subscriber")
    sub = session.get(Subscriber, sid, with_for_update=True)
    if sub is None or sub.organization_id != actor.organization_id:
        raise NotFound("subscriber", sid)
    return sub


def remove_subscriber(*, actor: Actor, subscriber_id: Any) -> None:
    """Erase a subscriber (or channel): its delivery log keeps only the address it was sent to."""
    with unit_of_work() as uow:
        sub = _org_subscriber(uow.session, actor, subscriber_id)
        uow.session.delete(sub)
        uow.announce(actor.organization_id, SubscriberRemoved(subscriber_id=sub.id, page_id=sub.page_id))


def reinstate_subscriber(*, actor: Actor, subscriber_id: Any) -> None:
    """Take an address out of quarantine (e.g. after its mailbox was fixed)."""
    with unit_of_work() as uow:
        sub = _org_subscriber(uow.session, actor, subscriber_id)
        if sub.status != SubscriberStatus.quarantined.value:
            raise ValidationError.one("_", "Only a quarantined subscriber can be reinstated.")
        sub.status = SubscriberStatus.confirmed.value
        sub.failure_count = 0
        sub.last_error = ""
        uow.session.add(sub)
        uow.announce(actor.organization_id, SubscriberUpdated(subscriber_id=sub.id, page_id=sub.page_id))


@dataclasses.dataclass
class ImportReport:
    added: int = 0
    confirmed: int = 0  # pending subscribers the import confirmed
    unchanged: int = 0  # already subscribed
    errors: list[tuple[int, str]] = dataclasses.field(default_factory=list)  # (line, message)


def import_subscribers(*, actor: Actor, page_id: Any, csv_text: str) -> ImportReport:
    """Add confirmed email subscribers from CSV: `email[,services]`, services as slugs
    separated by `;` (empty: all). An optional first line `email,services` is a header.

    Bad lines are reported by line number and skipped; the good ones are kept. Addresses that
    unsubscribed or were quarantined are NOT re-added (their choice wins over a list).
    """
    if len(csv_text or "") > MAX_IMPORT_BYTES:
        raise ValidationError.one("csv", f"At most {MAX_IMPORT_BYTES // (1024 * 1024)} MB per import.")
    report = ImportReport()
    with unit_of_work() as uow:
        s = uow.session
        page = _org_page(s, actor, page_id)
        slugs = {slug.lower(): sid for sid, slug in s.exec(
            select(Service.id, Service.slug).join(StatusPageService, StatusPageService.service_id == Service.id)
            .where(StatusPageService.page_id == page.id))}
        wanted: dict[str, tuple[int, list[int]]] = {}  # address -> (line, service ids)
        reader = csv.reader(io.StringIO(csv_text or ""))
        lines = 0
        try:
            for row in reader:
                line = reader.line_num
                if not row or all(not c.strip() for c in row):
                    continue
                lines += 1
                if lines == 1 and row[0].strip().lower() in ("email", "email address", "address"):
                    continue
                if lines > MAX_IMPORT_LINES:
                    report.errors.append((line, f"Only the first {MAX_IMPORT_LINES:,} lines are imported."))
                    break
                _import_row(row, line, slugs, wanted, report)
        except csv.Error as exc:
            report.errors.append((reader.line_num, f"Not valid CSV: {exc}."))
        if not wanted and not report.errors:
            raise ValidationError.one("csv", "No addresses found: one email per line, optionally with services.")
        _store_import(s, page, wanted, report)
        if report.added or report.confirmed:
            uow.announce(actor.organization_id, SubscribersImported(page_id=page.id, added=report.added + report.confirmed))
    report.errors.sort()
    return report


def _import_row(row: list[str], line: int, slugs: dict[str, int], wanted: dict[str, tuple[int, list[int]]],
                report: ImportReport) -> None:
    errors = Errors()
    address = clean_email(errors, "email", row[0])
    if errors.errors:
        report.errors.append((line, f"{row[0].strip()[:80] or '(empty)'}: {errors.errors['email']}"))
        return
    chosen: list[int] = []
    unknown = []
    for slug in (row[1] if len(row) > 1 else "").replace("|", ";").split(";"):
        slug = slug.strip().lower()
        if not slug:
            continue
        if slug in slugs:
            chosen.append(slugs[slug])
        else:
            unknown.append(slug)
    if unknown:
        report.errors.append((line, f"{address}: no service '{unknown[0][:60]}' on this page."))
        return
    if address in wanted:
        report.errors.append((line, f"{address}: already on line {wanted[address][0]}."))
        return
    wanted[address] = (line, sorted(set(chosen)))


def _store_import(s, page: StatusPage, wanted: dict[str, tuple[int, list[int]]], report: ImportReport) -> None:
    """Insert in bulk (an import may hold 100,000 addresses): existing ones are looked up in
    chunks, new ones inserted with one statement per chunk."""
    now = utcnow()
    addresses = list(wanted)
    new_rows: list[dict[str, Any]] = []
    for i in range(0, len(addresses), 500):
        chunk = addresses[i:i + 500]
        existing = {sub.address: sub for sub in s.exec(select(Subscriber).where(
            Subscriber.page_id == page.id, Subscriber.kind == SubscriberKind.email.value,
            Subscriber.address.in_(chunk)))}
        for address in chunk:
            sub = existing.get(address)
            line, chosen = wanted[address]
            if sub is None:
                new_rows.append(dict(organization_id=page.organization_id, page_id=page.id,
                                     kind=SubscriberKind.email.value, address=address, contact_email="", name="",
                                     secret="", status=SubscriberStatus.confirmed.value, all_services=not chosen,
                                     source="import", failure_count=0, last_error="", created_at=now,
                                     confirmed_at=now))
            elif sub.status == SubscriberStatus.confirmed.value:
                report.unchanged += 1
            elif sub.status == SubscriberStatus.pending.value:
                sub.status, sub.confirmed_at = SubscriberStatus.confirmed.value, now
                _set_services(s, sub, chosen)
                s.add(sub)
                report.confirmed += 1
            else:
                report.errors.append((line, f"{address} is {sub.status}: not re-added."))
    for i in range(0, len(new_rows), 1000):
        s.execute(insert(Subscriber), new_rows[i:i + 1000])
    report.added = len(new_rows)
    with_choice = [r["address"] for r in new_rows if not r["all_services"]]
    for i in range(0, len(with_choice), 500):
        chunk = with_choice[i:i + 500]
        ids = s.exec(select(Subscriber.address, Subscriber.id).where(
            Subscriber.page_id == page.id, Subscriber.kind == SubscriberKind.email.value,
            Subscriber.address.in_(chunk))).all()
        links = [{"subscriber_id": sid, "service_id": svc} for address, sid in ids for svc in wanted[address][1]]
        if links:
            s.execute(insert(SubscriberService), links)


def create_channel(*, actor: Actor, page_id: Any, kind: str, url: str, name: str = "",
                   service_ids: Iterable[Any] | None = None) -> Subscriber:
    """A webhook, Slack or Discord channel of a page, added by an admin (confirmed at once).
    A webhook gets a signing secret, returned here and shown once."""
    errors = Errors()
    try:
        kind_e = SubscriberKind(kind)
    except ValueError:
        kind_e = None
    if kind_e not in CHAT_KINDS:
        errors.add("kind", "Choose webhook, Slack or Discord.")
    url = clean_hook_url(errors, "url", url)
    name = clean_text(errors, "name", name, max_len=200)
    with unit_of_work() as uow:
        s = uow.session
        page = _org_page(s, actor, page_id)
        chosen = _clean_choice(s, errors, page.id, service_ids)
        if kind_e is not None and url and s.exec(select(Subscriber.id).where(
                Subscriber.page_id == page.id, Subscriber.kind == kind_e.value, Subscriber.address == url)).first():
            errors.add("url", "This page already posts to this URL.")
        errors.raise_if_any()
        sub = Subscriber(organization_id=actor.organization_id, page_id=page.id, kind=kind_e.value, address=url,
                         name=name, secret=new_secret() if kind_e == SubscriberKind.webhook else "",
                         status=SubscriberStatus.confirmed.value, source="console", confirmed_at=utcnow())
        s.add(sub)
        s.flush()
        _set_services(s, sub, chosen)
        s.add(sub)
        uow.announce(actor.organization_id, ChannelCreated(subscriber_id=sub.id, page_id=page.id))
    return sub


def request_channel_test(*, actor: Actor, subscriber_id: Any) -> None:
    """"Send test": the sender posts a test message to this channel (never inside the request)."""
    with unit_of_work() as uow:
        sub = _org_subscriber(uow.session, actor, subscriber_id)
        uow.announce(actor.organization_id, ChannelTestRequested(subscriber_id=sub.id, page_id=sub.page_id))
