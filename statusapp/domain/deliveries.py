"""The sender's bookkeeping: outbox events become delivery rows, rows are claimed in batches,
and each batch's outcome is recorded. What "exactly once" rests on lives here.

1. `expand_event` turns one outbox row into its Notification rows (one per page, the message
   frozen) and Delivery rows (one per subscriber, INSERT ... SELECT in the database, so
   memory does not grow with the number of subscribers) and marks the outbox row processed,
   all in ONE transaction under the event row's lock: a crash leaves either everything or
   nothing, and a second sender finds the event processed. Deliveries are unique per (event,
   kind, address): an incident on several pages reaches an address once.
2. `record_and_claim` claims batches: up to `limit` due rows of one notification each, in a
   short transaction (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: the database's write
   lock), with a `batch_key` derived from the rows (notification, its creation time, the row
   ids) and a lease (`claimed_until`). The key is the provider's idempotency key and is kept
   for every retry of those rows, which are always retried together: a retry is the same request.
3. In the same transaction it records finished batches: rows are marked sent only after the
   provider accepted them, and only while the claim is still ours (status `sending` and the
   attempt number of the claim). A sender that dies after the provider accepted a batch and
   before recording it leaves the rows `sending`; when the lease runs out another sender
   re-claims the same batch and sends the same request under the same key, which the provider
   answers from its idempotency record without sending again (Resend keeps keys 24 hours;
   retries stop well before that).
The dev mailbox stores its emails and marks the rows sent in one transaction: exactly once
without any provider.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, bindparam, delete, exists, func, literal, or_, update
from sqlmodel import select

from statusapp.db import session_scope
from statusapp.domain.base import unit_of_work
from statusapp.enums import DeliveryStatus, SubscriberKind, SubscriberStatus
from statusapp.models import (
    DevMail,
    Delivery,
    DomainEvent,
    Notification,
    SubscribeAttempt,
    Subscriber,
    SubscriberService,
    utcnow,
)
from statusapp.settings import get_settings

# Notification kinds: what the rows of one notification carry.
NOTICE = "notice"  # a Notice (statusapp.notify.message) for every matching subscriber
CONFIRM = "confirm"  # the confirmation email of one pending subscriber
MANAGE_LINK = "manage_link"  # "you are already subscribed: manage it here"
TEST = "test"  # a channel's "send test"

# Which subscriber state a row still needs when it is first claimed (else it is skipped).
_NEEDS_STATUS = {
    NOTICE: (SubscriberStatus.confirmed.value,),
    CONFIRM: (SubscriberStatus.pending.value,),
    MANAGE_LINK: (SubscriberStatus.confirmed.value,),
    TEST: tuple(s.value for s in SubscriberStatus),
}


@dataclasses.dataclass(frozen=True)
class PageTarget:
    """What one event tells one page's subscribers, prepared by the sender.

    `service_ids` None: every confirmed subscriber of the page; a list: those who chose all
    services or one of these. `subscriber_id`: only that subscriber (account emails, tests).
    `console_only`: only channels an admin added (the page is private: its public
    subscribers hear nothing of it).
    """

    page_id: int
    kind: str
    payload: dict[str, Any]
    service_ids: list[int] | None = None
    subscriber_id: int | None = None
    console_only: bool = False


@dataclasses.dataclass(frozen=True)
class PendingEvent:
    id: int
    organization_id: int
    kind: str
    payload: dict[str, Any]
    created_at: dt.datetime


def pending_events(limit: int = 100) -> list[PendingEvent]:
    """Outbox rows no sender has taken yet, oldest first."""
    with session_scope() as session:
        rows = session.exec(
            select(DomainEvent).where(DomainEvent.processed_at.is_(None)).order_by(DomainEvent.id).limit(limit)
        ).all()
        return [PendingEvent(r.id, r.organization_id, r.kind, dict(r.payload), r.created_at) for r in rows]


def mark_processed(event_ids: Sequence[int]) -> None:
    """Events that notify nobody (page edits, subscriptions confirmed, ...)."""
    if not event_ids:
        return
    with unit_of_work() as uow:
        uow.session.exec(
            update(DomainEvent).where(DomainEvent.id.in_(list(event_ids)), DomainEvent.processed_at.is_(None))
            .values(processed_at=utcnow())
        )


def _insert(session):
    """INSERT ... ON CONFLICT DO NOTHING in this session's dialect (PostgreSQL or SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def expand_event(event_id: int, targets: Sequence[PageTarget]) -> int:
    """Write the notifications and delivery rows of one event and mark it processed; returns
    the number of delivery rows written (0 if another sender had expanded it already)."""
    with unit_of_work() as uow:
        s = uow.session
        event = s.exec(select(DomainEvent).where(DomainEvent.id == event_id).with_for_update()).first()
        if event is None or event.processed_at is not None:
            return 0
        now = utcnow()
        written = 0
        insert = _insert(s)
        cols = Delivery.__table__.c
        for target in sorted(targets, key=lambda t: t.page_id):  # the first page of an address wins
            note = Notification(organization_id=event.organization_id, event_id=event.id, page_id=target.page_id,
                                kind=target.kind, payload=target.payload, created_at=now)
            s.add(note)
            s.flush()
            if target.subscriber_id is not None:
                written += _insert_one(s, insert, event, note, target.subscriber_id, now)
                continue
            conditions = [Subscriber.page_id == target.page_id, Subscriber.status == SubscriberStatus.confirmed.value]
            if target.console_only:
                conditions.append(Subscriber.source == "console")
            if target.service_ids is not None:
                conditions.append(or_(
                    Subscriber.all_services.is_(True),
                    exists().where(SubscriberService.subscriber_id == Subscriber.id,
                                   SubscriberService.service_id.in_(target.service_ids)),
                ))
            chosen = (
                select(
                    literal(event.organization_id), literal(event.id), literal(note.id), Subscriber.id,
                    Subscriber.kind, Subscriber.address, literal(DeliveryStatus.pending.value), literal(0),
                    literal("", cols.provider_id.type), literal("", cols.last_error.type),
                    literal(now, cols.created_at.type),
                )
                .where(*conditions)
                .order_by(Subscriber.id)
            )
            stmt = insert(Delivery.__table__).from_select(
                ["organization_id", "event_id", "notification_id", "subscriber_id", "kind", "address", "status",
                 "attempts", "provider_id", "last_error", "created_at"],
                chosen,
            ).on_conflict_do_nothing(index_elements=["event_id", "kind", "address"])
            inserted = s.execute(stmt).rowcount
            if inserted is None or inserted < 0:  # the driver does not say for INSERT ... SELECT
                inserted = s.exec(select(func.count()).select_from(Delivery).where(
                    Delivery.notification_id == note.id)).one()
            written += inserted
        event.processed_at = now
        s.add(event)
        return written


def _insert_one(s, insert, event: DomainEvent, note: Notification, subscriber_id: int, now: dt.datetime) -> int:
    sub = s.get(Subscriber, subscriber_id)
    if sub is None:
        return 0
    if note.kind in (CONFIRM, MANAGE_LINK):  # account emails go to whoever manages it
        kind, address = SubscriberKind.email.value, sub.contact_email or sub.address
    else:
        kind, address = sub.kind, sub.address
    stmt = insert(Delivery.__table__).values(
        organization_id=event.organization_id, event_id=event.id, notification_id=note.id, subscriber_id=sub.id,
        kind=kind, address=address, status=DeliveryStatus.pending.value, attempts=0, provider_id="",
        last_error="", created_at=now,
    ).on_conflict_do_nothing(index_elements=["event_id", "kind", "address"])
    return s.execute(stmt).rowcount or 0


# --------------------------------------------------------------------------- claiming


@dataclasses.dataclass(frozen=True)
class ClaimedRow:
    id: int
    subscriber_id: int | None
    address: str  # where it goes
    secret: str  # the subscriber's webhook signing secret ("" otherwise)
    subscriber_address: str  # what its links are signed for ("" when the subscriber is gone)


@dataclasses.dataclass(frozen=True)
class Batch:
    """Rows of one notification sent in one provider call; `attempt` identifies this claim."""

    key: str
    kind: str
    attempt: int
    organization_id: int
    event_id: int
    page_id: int
    notification_id: int
    notification_kind: str
    payload: dict[str, Any]
    rows: tuple[ClaimedRow, ...]


def batch_key(notification: Notification, ids: Sequence[int]) -> str:
    """Deterministic from the rows it carries; the notification's creation time keeps keys of
    a recreated database (ids starting again at 1) apart from the old ones."""
    created = notification.created_at.astimezone(dt.timezone.utc).isoformat()
    digest = hashlib.sha256(f"{created}|{notification.id}|{','.join(map(str, ids))}".encode()).hexdigest()
    return f"sa-{notification.id}-{digest[:40]}"


def _due(now: dt.datetime):
    """Rows of a batch that may be (re)sent now: a retry whose time has come, or a claim
    whose sender let its lease run out (it died, or lost its connection)."""
    return or_(
        and_(Delivery.status == DeliveryStatus.retrying.value, Delivery.next_attempt_at <= now),
        and_(Delivery.status == DeliveryStatus.sending.value, Delivery.claimed_until < now),
    )


def record_and_claim(done: Sequence[tuple[Batch, Sequence[Outcome]]], kinds: Sequence[str], *, limit: int,
                     lease_seconds: float, count: int) -> list[Batch]:
    """Record the outcomes of the batches a sender lane finished and claim up to `count` new
    batches, in ONE transaction: under load a lane's finished batches pile up while it waits
    for the database and are then written together (on SQLite each transaction takes the one
    write lock and ends with an fsync)."""
    now = utcnow()
    with unit_of_work() as uow:
        for batch, outcomes in done:
            _record(uow.session, batch, outcomes, now)
        claimed = []
        for _ in range(count):
            batch = _claim(uow.session, kinds, limit, lease_seconds, now)
            if batch is None:
                break
            claimed.append(batch)
        return claimed


def _claim(s, kinds: Sequence[str], limit: int, lease_seconds: float, now: dt.datetime) -> Batch | None:
    until = now + dt.timedelta(seconds=lease_seconds)
    kinds = list(kinds)
    # 1. A batch to send again: the same rows under the same key (no SKIP LOCKED here:
    # locking in id order and re-checking `_due` after a wait cannot deadlock).
    key = s.exec(select(Delivery.batch_key).where(
        Delivery.kind.in_(kinds), Delivery.batch_key.is_not(None), _due(now)).limit(1)).first()
    if key is not None:
        rows = s.exec(select(Delivery).where(Delivery.batch_key == key, _due(now))
                      .order_by(Delivery.id).with_for_update()).all()
        if rows:
            attempt = max(r.attempts for r in rows) + 1
            s.exec(update(Delivery).where(Delivery.id.in_([r.id for r in rows])).values(
                status=DeliveryStatus.sending.value, claimed_until=until, attempts=attempt),
                execution_options={"synchronize_session": False})
            return _batch(s, key, attempt, rows)
    # 2. New rows: the oldest pending notification of these kinds. Rows whose subscriber
    # left since the event are skipped, and the next ones taken.
    for _ in range(20):
        # Per kind, the first entry in the claim index's order (status, kind, notification_id,
        # id): one index step, never a sort of every pending row (that made a fan-out of
        # 100,000 rows quadratic). The oldest notification of any of the kinds goes first.
        firsts = []
        for kind in kinds:
            note_id = s.exec(select(Delivery.notification_id).where(
                Delivery.status == DeliveryStatus.pending.value, Delivery.kind == kind
            ).order_by(Delivery.notification_id).limit(1)).first()
            if note_id is not None:
                firsts.append((note_id, kind))
        if not firsts:
            return None
        first, kind = min(firsts)
        note = s.get(Notification, first)
        rows = s.exec(select(Delivery).where(
            Delivery.status == DeliveryStatus.pending.value, Delivery.kind == kind, Delivery.notification_id == first,
        ).order_by(Delivery.id).limit(limit).with_for_update(skip_locked=True)).all()
        if not rows:
            return None  # another sender holds them
        states = dict(s.exec(select(Subscriber.id, Subscriber.status).where(
            Subscriber.id.in_([r.subscriber_id for r in rows if r.subscriber_id is not None]))).all())
        needed = _NEEDS_STATUS.get(note.kind, ())
        keep = [r for r in rows if states.get(r.subscriber_id) in needed]
        left = [r.id for r in rows if states.get(r.subscriber_id) not in needed]
        if left:  # unsubscribed, removed or quarantined since the event
            s.exec(update(Delivery).where(Delivery.id.in_(left)).values(
                status=DeliveryStatus.skipped.value, last_error="the subscriber left before it was sent"),
                execution_options={"synchronize_session": False})
        if not keep:
            continue
        key = batch_key(note, [r.id for r in keep])
        s.exec(update(Delivery).where(Delivery.id.in_([r.id for r in keep])).values(
            status=DeliveryStatus.sending.value, claimed_until=until, attempts=1, batch_key=key),
            execution_options={"synchronize_session": False})
        return _batch(s, key, 1, keep, note)
    return None


def _batch(s, key: str, attempt: int, rows: Sequence[Delivery], note: Notification | None = None) -> Batch:
    note = note or s.get(Notification, rows[0].notification_id)
    subs: dict[int, tuple[str, str]] = {}
    if rows[0].kind != SubscriberKind.email.value or note.kind in (CONFIRM, MANAGE_LINK):
        subs = {i: (address, secret) for i, address, secret in s.exec(
            select(Subscriber.id, Subscriber.address, Subscriber.secret).where(
                Subscriber.id.in_([r.subscriber_id for r in rows if r.subscriber_id is not None])))}
    claimed = []
    for r in rows:
        if subs:
            address, secret = subs.get(r.subscriber_id, ("", ""))
        else:  # a notice by email: the row's address is the subscriber's
            address, secret = r.address, ""
        claimed.append(ClaimedRow(r.id, r.subscriber_id, r.address, secret, address))
    return Batch(
        key=key, kind=rows[0].kind, attempt=attempt, organization_id=note.organization_id, event_id=note.event_id,
        page_id=note.page_id, notification_id=note.id, notification_kind=note.kind, payload=dict(note.payload),
        rows=tuple(claimed),
    )


# --------------------------------------------------------------------------- outcomes


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What became of one row: sent (with the provider's id), failed for good (`error`), or
    to be retried at `retry_at`."""

    delivery_id: int
    status: DeliveryStatus
    provider_id: str = ""
    error: str = ""
    retry_at: dt.datetime | None = None
    subscriber_id: int | None = None  # for a permanent failure: counts toward quarantine


def _record(s, batch: Batch, outcomes: Sequence[Outcome], now: dt.datetime) -> int:
    """One executemany per kind of outcome (a batch is usually 100 rows all sent)."""
    table = Delivery.__table__
    ours = [table.c.id == bindparam("row_id"), table.c.batch_key == batch.key,
            table.c.status == DeliveryStatus.sending.value, table.c.attempts == batch.attempt]
    done = 0
    sent = [o for o in outcomes if o.status == DeliveryStatus.sent]
    if sent:
        result = s.execute(
            table.update().where(*ours).values(status=DeliveryStatus.sent.value, claimed_until=None, sent_at=now,
                                               provider_id=bindparam("provider"), last_error=bindparam("note")),
            [{"row_id": o.delivery_id, "provider": (o.provider_id or "")[:100], "note": o.error[:500]} for o in sent],
        )
        done += _rowcount(result, len(sent))
    for o in outcomes:
        if o.status == DeliveryStatus.sent:
            continue
        values: dict[str, Any] = {"status": o.status.value, "claimed_until": None, "last_error": o.error[:500]}
        if o.status == DeliveryStatus.retrying:
            values["next_attempt_at"] = o.retry_at or now
        result = s.execute(table.update().where(*ours).values(**values), {"row_id": o.delivery_id})
        done += result.rowcount or 0
        if result.rowcount and o.status == DeliveryStatus.failed and o.subscriber_id is not None:
            _count_failure(s, o.subscriber_id, o.error)
    return done


def _rowcount(result, expected: int) -> int:
    """Rows an executemany updated (-1 when the driver cannot tell: then count them again)."""
    return result.rowcount if result.rowcount is not None and result.rowcount >= 0 else expected


def _count_failure(s, subscriber_id: int, error: str) -> None:
    """A permanent failure (a rejected or bouncing address); too many quarantine it."""
    sub = s.get(Subscriber, subscriber_id, with_for_update=True)
    if sub is None:
        return
    sub.failure_count += 1
    sub.last_error = error[:500]
    if sub.failure_count >= get_settings().bounce_quarantine and sub.status == SubscriberStatus.confirmed.value:
        sub.status = SubscriberStatus.quarantined.value
    s.add(sub)


class ClaimLost(Exception):
    """Another sender took the batch over: nothing of this attempt was recorded."""


def deliver_to_mailbox(batch: Batch, emails: Sequence[tuple[int, dict[str, Any]]],
                       failed: Sequence[Outcome] = ()) -> None:
    """The dev mailbox "sends" the emails (delivery id, email) of a batch: stored and marked
    sent in one transaction, so each lands exactly once."""
    now = utcnow()
    with unit_of_work() as uow:
        s = uow.session
        outcomes = [Outcome(did, DeliveryStatus.sent, provider_id=f"devmail-{batch.key}-{did}") for did, _ in emails]
        if _record(s, batch, [*outcomes, *failed], now) != len(outcomes) + len(failed):
            raise ClaimLost(batch.key)  # rolls back: the new owner stores them
        for _did, email in emails:
            s.add(DevMail(organization_id=batch.organization_id, to_address=email["to"][0][:320],
                          subject=email["subject"][:300], html=email.get("html", ""), text=email.get("text", ""),
                          headers=dict(email.get("headers") or {}), batch_key=batch.key, created_at=now))


def record_bounce(*, provider_id: str = "", address: str = "", reason: str) -> bool:
    """A bounce or complaint reported by the provider after it accepted an email: counts as a
    permanent failure of the subscriber it was sent to. False when no delivery matches."""
    with unit_of_work() as uow:
        s = uow.session
        row = None
        if provider_id:
            row = s.exec(select(Delivery).where(Delivery.provider_id == provider_id[:100])).first()
        if row is None and address:
            row = s.exec(select(Delivery).where(Delivery.address == address.lower(), Delivery.kind == "email")
                         .order_by(Delivery.id.desc()).limit(1)).first()
        if row is None or row.subscriber_id is None:
            return False
        row.last_error = reason[:500]
        s.add(row)
        _count_failure(s, row.subscriber_id, reason)
        return True


def prune(*, now: dt.datetime | None = None, attempts_days: int = 2, mailbox_days: int = 7) -> None:
    """Forget rate-limit attempts and dev mailbox emails nobody needs any more."""
    now = now or utcnow()
    with unit_of_work() as uow:
        uow.session.exec(delete(SubscribeAttempt).where(SubscribeAttempt.created_at < now - dt.timedelta(days=attempts_days)))
        uow.session.exec(delete(DevMail).where(DevMail.created_at < now - dt.timedelta(days=mailbox_days)))
