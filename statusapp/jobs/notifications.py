"""The notification sender: outbox events -> delivery rows -> emails, webhooks, Slack, Discord.

One job of the leader-elected runner. Each run:
1. expands every unprocessed outbox row (`domain.deliveries.expand_event`): the notices are
   read here (`queries.notifications`), frozen into Notification rows, and the matching
   subscribers become Delivery rows inside the database;
2. drains the due rows: email in batches of up to 100 per Resend call, several batches in
   flight (`email_concurrency`) under Resend's rate limit; webhooks, Slack and Discord one
   post each, `webhook_concurrency` at once, so a slow or dead receiver holds one slot for at
   most its 10 s and never the others. New events are expanded between batches.

Safe when two senders overlap (leadership can briefly overlap when a leader's connection
dies): rows are claimed in the database with a lease, outcomes are recorded only while the
claim is ours, and every retry of a batch is the same request under the same idempotency key
(see statusapp/domain/deliveries.py for what exactly-once rests on).

Without a Resend key the emails go to the dev mailbox (the `dev_mail` table, shown in the
console) instead, stored in the same transaction that marks them sent.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime as dt
import logging
import threading
import time
from typing import Any

import httpx

from statusapp import outbound, routes
from statusapp.domain import deliveries, tokens
from statusapp.domain.deliveries import CONFIRM, MANAGE_LINK, NOTICE, TEST, Batch, Outcome, PageTarget
from statusapp.domain.events import (
    ChannelTestRequested,
    IncidentCreated,
    IncidentPostmortem,
    IncidentResolved,
    IncidentUpdated,
    MaintenanceCompleted,
    MaintenanceCreated,
    MaintenanceReminder,
    MaintenanceStarted,
    ServiceStatusSet,
    SubscriberRequested,
    payload_from_row,
)
from statusapp.enums import DeliveryStatus, SubscriberKind
from statusapp.notify.account import render_confirmation, render_manage_link
from statusapp.notify.channels.base import Channel, DeliveryError, Recipient
from statusapp.notify.channels.email import EmailChannel, email_message, plausible_address
from statusapp.notify.message import IncidentInfo, Notice, NoticeKind, PageInfo, UpdateInfo
from statusapp.notify.render import EmailTemplate, render_email_template
from statusapp.queries import notifications as reads
from statusapp.settings import get_settings

log = logging.getLogger(__name__)

SQLITE_BUSY_SLICE_S = 0.25  # back-to-back SQLite writes of the sender before it leaves a gap
SQLITE_GAP_S = 0.1  # SQLite's longest busy-handler sleep: a waiting writer retries within it
HOOK_KINDS = (SubscriberKind.webhook.value, SubscriberKind.slack.value, SubscriberKind.discord.value)
EMAIL_KINDS = (SubscriberKind.email.value,)


@dataclasses.dataclass
class SenderConfig:
    lease_seconds: float = 120.0  # longer than any single send can take (timeouts: ~25 s)
    email_batch: int = 100  # Resend's batch maximum
    email_concurrency: int = 4
    hook_concurrency: int = 32
    max_attempts: int = 10  # ~1.2 h of back-off (10 s doubling, capped at 30 min): inside Resend's 24 h window
    backoff_base_s: float = 10.0
    backoff_max_s: float = 1800.0
    expand_every_s: float = 1.0
    hook_timeout_s: float = 10.0

    @classmethod
    def from_settings(cls) -> SenderConfig:
        s = get_settings()
        return cls(email_concurrency=max(1, s.email_concurrency), hook_concurrency=max(1, s.webhook_concurrency))


class RateLimiter:
    """Calls per second to the email provider (0: unlimited), and a pause after a 429."""

    def __init__(self, per_second: float) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self.paused_until = 0.0

    @property
    def paused(self) -> bool:
        return time.monotonic() < self.paused_until

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, time.monotonic() + max(seconds, 0.5))

    async def acquire(self) -> None:
        now = time.monotonic()
        start = max(now, self._next, self.paused_until)
        self._next = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


@dataclasses.dataclass
class _Lane:
    name: str
    kinds: tuple[str, ...]
    limit: int  # rows per batch
    most: int  # batches in flight at once


@dataclasses.dataclass
class Prepared:
    emails: list[dict[str, Any]]
    delivery_ids: list[int]
    subscriber_ids: list[int | None]
    failed: list[Outcome]


def channel_test_notice(page: dict[str, Any], notice_id: str, now: dt.datetime) -> dict[str, Any]:
    """The "send test" message: a resolved, no-impact incident that says what it is."""
    notice = Notice(
        id=notice_id, kind=NoticeKind.incident_resolved, page=PageInfo(**page), occurred_at=now,
        incident=IncidentInfo(id="test", title="Test message from statusapp", impact="none", status="resolved",
                              url=page["url"], created_at=now, resolved_at=now),
        update=UpdateInfo(id="test", status="resolved", created_at=now,
                          message="This is a test. If you can read it, notifications reach this channel."),
    )
    return notice.to_dict()


class Sender:
    def __init__(self, *, email: EmailChannel | None, http_client: httpx.AsyncClient | None = None,
                 config: SenderConfig | None = None, limiter: RateLimiter | None = None,
                 policy: outbound.Policy | None = None) -> None:
        self.email = email  # None: the dev mailbox
        self.config = config or SenderConfig()
        self.limiter = limiter or RateLimiter(0)
        self._policy = policy
        self._client = http_client
        self._channels: dict[str, Channel] = {}
        self._templates: collections.OrderedDict[int, tuple[Notice, EmailTemplate]] = collections.OrderedDict()
        self.timings: collections.Counter[str] = collections.Counter()  # seconds per phase, last drain
        self.batches = 0
        sqlite = get_settings().effective_database_url.startswith("sqlite")
        self._local_writes: threading.Lock | None = threading.Lock() if sqlite else None
        self._busy_since_gap = 0.0
        self._last_write_end = 0.0

    @classmethod
    def from_settings(cls, *, policy: outbound.Policy | None = None) -> Sender:
        s = get_settings()
        email = None
        if s.resend_api_key:
            email = EmailChannel(api_key=s.resend_api_key, sender=s.email_from)
        return cls(email=email, config=SenderConfig.from_settings(), limiter=RateLimiter(s.resend_max_rps),
                   policy=policy)

    @property
    def client(self) -> httpx.AsyncClient:
        """Webhooks, Slack and Discord: public addresses only (the guard checks at connect)."""
        if self._client is None:
            self._client = outbound.async_client(allow_private=False, policy=self._policy,
                                                 timeout=self.config.hook_timeout_s,
                                                 max_connections=self.config.hook_concurrency)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
            self._channels.clear()

    # ------------------------------------------------------------------ one run

    async def run_once(self) -> None:
        await self.expand_pending()
        await self.drain()

    async def expand_pending(self) -> int:
        """Turn every unprocessed outbox row into notifications and deliveries."""
        events = await asyncio.to_thread(deliveries.pending_events, 200)
        idle, written = [], 0
        for event in events:
            try:
                targets = await asyncio.to_thread(self.targets_of, event)
            except Exception:
                log.exception("sender: cannot prepare outbox event %s (%s); it stays for the next run", event.id, event.kind)
                continue
            if not targets:
                idle.append(event.id)
                continue
            written += await self._write(deliveries.expand_event, event.id, targets)
        await self._write(deliveries.mark_processed, idle)
        return written

    def targets_of(self, event: deliveries.PendingEvent) -> list[PageTarget]:
        """Who an outbox event is for, page by page ([] for events that notify nobody)."""
        try:
            payload = payload_from_row(event.kind, event.payload)
        except (KeyError, ValueError):
            return []  # a kind this sender does not know (from a newer or other component)
        if isinstance(payload, (IncidentCreated, IncidentUpdated, IncidentResolved)):
            if not payload.deliver_notifications:
                return []
            found = reads.incident_notices(event.id, event.organization_id, payload.kind.value, payload.incident_id,
                                           payload.update_id, payload.status_changes)
        elif isinstance(payload, IncidentPostmortem):
            if not payload.published:
                return []
            found = reads.incident_notices(event.id, event.organization_id, NoticeKind.incident_postmortem.value,
                                           payload.incident_id, None, [])
        elif isinstance(payload, MaintenanceCreated):
            if not payload.notify:
                return []
            found = reads.maintenance_notices(event.id, event.organization_id, NoticeKind.maintenance_scheduled.value,
                                              payload.maintenance_id, payload.update_id, [], event.created_at)
        elif isinstance(payload, MaintenanceReminder):
            found = reads.maintenance_notices(event.id, event.organization_id, NoticeKind.maintenance_reminder.value,
                                              payload.maintenance_id, None, [], event.created_at)
        elif isinstance(payload, (MaintenanceStarted, MaintenanceCompleted)):
            if not payload.deliver_notifications:
                return []
            kind = (NoticeKind.maintenance_started if isinstance(payload, MaintenanceStarted)
                    else NoticeKind.maintenance_completed)
            found = reads.maintenance_notices(event.id, event.organization_id, kind.value, payload.maintenance_id,
                                              payload.update_id, payload.status_changes, event.created_at)
        elif isinstance(payload, ServiceStatusSet):
            if not get_settings().notify_service_changes or not payload.changes:
                return []
            found = reads.service_change_notices(event.id, event.organization_id, payload.changes, event.created_at)
        elif isinstance(payload, SubscriberRequested):
            page = reads.page_info(payload.page_id)
            if page is None:
                return []
            kind = CONFIRM if payload.mail == "confirm" else MANAGE_LINK
            return [PageTarget(payload.page_id, kind, {"issued_at": payload.issued_at, "page": page},
                               subscriber_id=payload.subscriber_id)]
        elif isinstance(payload, ChannelTestRequested):
            page = reads.page_info(payload.page_id)
            if page is None:
                return []
            notice = channel_test_notice(page, f"ev{event.id}-test", event.created_at)
            return [PageTarget(payload.page_id, TEST, notice, subscriber_id=payload.subscriber_id)]
        else:
            return []
        # Validated once here: what is frozen is a Notice every channel can read back.
        return [PageTarget(n.page_id, NOTICE, Notice.from_dict(n.notice).to_dict(), n.service_ids,
                           console_only=n.console_only) for n in found]

    async def _write(self, fn, *args, **kwargs):
        """A write transaction of the sender, in a worker thread.

        SQLite has one write lock, and a writer that finds it taken sleeps in SQLite's busy
        handler, in steps growing to 100 ms. So on SQLite the sender's own writers take turns
        on a lock of this process (they never sleep in SQLite against each other), and after
        every SQLITE_BUSY_SLICE_S of back-to-back writes the sender leaves SQLite's lock free
        for SQLITE_GAP_S (one full busy-handler step): a write of the web app during a fan-out
        (an admin posting the next update) waits at most about the sum, not for the fan-out.
        """
        if self._local_writes is None:
            return await asyncio.to_thread(fn, *args, **kwargs)

        def locked():
            with self._local_writes:
                started = time.monotonic()
                if started - self._last_write_end >= SQLITE_GAP_S:
                    self._busy_since_gap = 0.0  # the lock was free long enough meanwhile
                try:
                    return fn(*args, **kwargs)
                finally:
                    self._busy_since_gap += time.monotonic() - started
                    if self._busy_since_gap >= SQLITE_BUSY_SLICE_S:
                        time.sleep(SQLITE_GAP_S)
                        self._busy_since_gap = 0.0
                    self._last_write_end = time.monotonic()

        return await asyncio.to_thread(locked)

    async def drain(self) -> None:
        """Send every due delivery; returns when none is left.

        Each lane (email; webhooks, Slack and Discord) keeps up to its concurrency of batches
        in flight. Whenever sends finish, one transaction records them and claims as many new
        batches. Every `expand_every_s` new events are expanded, and a lane that had run dry
        looks again (new rows, or retries that came due).
        """
        cfg = self.config
        lanes = [_Lane("email", EMAIL_KINDS, cfg.email_batch, cfg.email_concurrency),
                 _Lane("hook", HOOK_KINDS, 1, cfg.hook_concurrency)]
        self.timings.clear()
        started, self.batches = time.monotonic(), 0
        running = {lane.name: asyncio.create_task(self._run_lane(lane)) for lane in lanes}
        last_expand = time.monotonic()
        try:
            while True:
                pending = [t for t in running.values() if not t.done()]
                if not pending:
                    break
                await asyncio.wait(pending, timeout=cfg.expand_every_s, return_when=asyncio.FIRST_COMPLETED)
                for task in running.values():
                    if task.done() and not task.cancelled() and task.exception() is not None:
                        log.error("sender: a lane failed", exc_info=task.exception())
                if time.monotonic() - last_expand >= cfg.expand_every_s:
                    await self.expand_pending()
                    last_expand = time.monotonic()
                    for lane in lanes:  # new rows, or retries that came due
                        if running[lane.name].done():
                            running[lane.name] = asyncio.create_task(self._run_lane(lane))
        finally:
            for task in running.values():  # cancelled: the claims' leases run out and another run resends
                task.cancel()
            await asyncio.gather(*running.values(), return_exceptions=True)
        if self.batches:
            log.info("sender: %d batches in %.1f s (thread time: %s)", self.batches, time.monotonic() - started,
                     ", ".join(f"{k} {v:.1f} s" for k, v in sorted(self.timings.items())))

    async def _run_lane(self, lane: _Lane) -> None:
        """Keep `lane.most` batches in flight until the lane runs dry."""
        in_flight: set[asyncio.Task] = set()
        finished: list[tuple[Batch, list[Outcome]]] = []
        try:
            while True:
                wanted = lane.most - len(in_flight)
                if lane.name == "email" and self.limiter.paused:
                    wanted = 0
                if finished or wanted:
                    t = time.monotonic()
                    claimed = await self._write(deliveries.record_and_claim, finished, lane.kinds, limit=lane.limit,
                                                lease_seconds=self.config.lease_seconds, count=wanted)
                    self.timings["record+claim"] += time.monotonic() - t
                    finished = []
                    for batch in claimed:
                        self.batches += 1
                        in_flight.add(asyncio.create_task(self._send(lane, batch)))
                if not in_flight:
                    return
                done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    batch, outcomes = task.result()
                    if outcomes is not None:  # None: the dev mailbox recorded it itself
                        finished.append((batch, outcomes))
        finally:
            for task in in_flight:
                task.cancel()

    async def _send(self, lane: _Lane, batch: Batch) -> tuple[Batch, list[Outcome] | None]:
        if lane.name == "email":
            return batch, await self.send_email_batch(batch)
        return batch, await self.send_hook(batch)

    # ------------------------------------------------------------------ email

    def _notice(self, batch: Batch) -> tuple[Notice, EmailTemplate]:
        """The notification's Notice and its email template, rendered once per notification
        (a fan-out to 100,000 renders once and fills in each recipient's links)."""
        cached = self._templates.get(batch.notification_id)
        if cached is None:
            notice = Notice.from_dict(batch.payload)
            cached = (notice, render_email_template(notice))
            self._templates[batch.notification_id] = cached
            while len(self._templates) > 32:
                self._templates.popitem(last=False)
        return cached

    def _links(self, subscriber_id: int | None, address: str) -> tuple[str, str]:
        token = tokens.manage_token(subscriber_id or 0, address)
        return reads.absolute(routes.manage_path(token)), reads.absolute(routes.unsubscribe_path(token))

    def prepare_emails(self, batch: Batch) -> Prepared:
        """The batch's emails, in row order (deterministic: a retry is the same request)."""
        sender = get_settings().email_from
        out = Prepared([], [], [], [])
        for row in batch.rows:
            if not plausible_address(row.address):
                out.failed.append(Outcome(row.id, DeliveryStatus.failed, error="invalid email address",
                                          subscriber_id=row.subscriber_id))
                continue
            if batch.notification_kind in (CONFIRM, MANAGE_LINK):
                if not row.subscriber_address:
                    out.failed.append(Outcome(row.id, DeliveryStatus.failed, error="the subscriber was removed"))
                    continue
                page = PageInfo(**batch.payload["page"])
                kind = SubscriberKind.webhook.value if row.subscriber_address != row.address else "email"
                if batch.notification_kind == CONFIRM:
                    issued = dt.datetime.fromisoformat(batch.payload["issued_at"])
                    token = tokens.confirm_token(row.subscriber_id, row.subscriber_address, issued)
                    rendered = render_confirmation(page, confirm_url=reads.absolute(routes.confirm_path(token)),
                                                   kind=kind, address=row.subscriber_address,
                                                   hours=get_settings().confirm_link_hours)
                else:
                    manage, _ = self._links(row.subscriber_id, row.subscriber_address)
                    rendered = render_manage_link(page, manage_url=manage, kind=kind, address=row.subscriber_address)
                email = email_message(sender=sender, page_name=page.name, to=row.address, rendered=rendered,
                                      unsubscribe_url=None)
            else:
                notice, template = self._notice(batch)
                manage, unsubscribe = self._links(row.subscriber_id, row.subscriber_address)
                rendered = template.fill(manage_url=manage, unsubscribe_url=unsubscribe)
                email = email_message(sender=sender, page_name=notice.page.name, to=row.address, rendered=rendered,
                                      unsubscribe_url=unsubscribe)
            out.emails.append(email)
            out.delivery_ids.append(row.id)
            out.subscriber_ids.append(row.subscriber_id)
        return out

    def _to_mailbox(self, batch: Batch) -> None:
        prepared = self.prepare_emails(batch)
        deliveries.deliver_to_mailbox(batch, list(zip(prepared.delivery_ids, prepared.emails)), prepared.failed)

    async def send_email_batch(self, batch: Batch) -> list[Outcome] | None:
        """Send one batch; its outcomes (None when the dev mailbox recorded them itself)."""
        if self.email is None:
            try:
                t = time.monotonic()
                await self._write(self._to_mailbox, batch)
                self.timings["mailbox"] += time.monotonic() - t
            except deliveries.ClaimLost:
                log.info("sender: batch %s was taken over by another sender", batch.key)
            return None
        outcomes: list[Outcome] = []
        try:
            t = time.monotonic()
            prepared = await asyncio.to_thread(self.prepare_emails, batch)
            self.timings["prepare"] += time.monotonic() - t
            outcomes = list(prepared.failed)
            if prepared.emails:
                await self.limiter.acquire()
                t = time.monotonic()
                try:
                    ids, errors = await self.email.send_emails(prepared.emails, idempotency_key=batch.key)
                finally:
                    self.timings["send"] += time.monotonic() - t
                for j, (did, sid) in enumerate(zip(prepared.delivery_ids, prepared.subscriber_ids)):
                    if j in errors:
                        outcomes.append(Outcome(did, DeliveryStatus.failed, error=f"Resend refused it: {errors[j]}",
                                                subscriber_id=sid))
                    else:
                        outcomes.append(Outcome(did, DeliveryStatus.sent, provider_id=ids[j] or ""))
        except DeliveryError as err:
            if err.status_code == 429:
                self.limiter.pause(err.retry_after or 1.0)
            if err.status_code == 409 and "invalid_idempotent_request" in err.reason and batch.attempt > 1:
                # Only an earlier, accepted attempt of this very batch can have used its key.
                outcomes = [Outcome(r.id, DeliveryStatus.sent, error="accepted by an earlier attempt")
                            for r in batch.rows]
            else:
                outcomes = self._after_failure(batch, err, count_failures=False)
        return outcomes

    def _after_failure(self, batch: Batch, err: DeliveryError, *, count_failures: bool) -> list[Outcome]:
        """Every row of the batch: retried later with back-off (honouring Retry-After), or failed
        for good when the error is permanent or the attempts are used up."""
        cfg = self.config
        if err.retryable and batch.attempt < cfg.max_attempts:
            delay = min(cfg.backoff_base_s * 2 ** (batch.attempt - 1), cfg.backoff_max_s)
            delay = max(delay, err.retry_after or 0.0)
            at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=delay)
            return [Outcome(r.id, DeliveryStatus.retrying, error=err.reason, retry_at=at) for r in batch.rows]
        reason = err.reason if not err.retryable else f"{err.reason} (gave up after {batch.attempt} attempts)"
        return [Outcome(r.id, DeliveryStatus.failed, error=reason,
                        subscriber_id=r.subscriber_id if count_failures else None) for r in batch.rows]

    # ------------------------------------------------------------------ webhooks, Slack, Discord

    def _channel(self, kind: str) -> Channel:
        if kind not in self._channels:
            from statusapp.notify.channels import channel_class

            self._channels[kind] = channel_class(kind)(self.client, timeout_s=self.config.hook_timeout_s)
        return self._channels[kind]

    async def send_hook(self, batch: Batch) -> list[Outcome]:
        (row,) = batch.rows
        try:
            notice, _ = self._notice(batch)
            manage, unsubscribe = self._links(row.subscriber_id, row.subscriber_address)
            recipient = Recipient(address=row.address, manage_url=manage, unsubscribe_url=unsubscribe,
                                  secret=row.secret, subscriber_id=str(row.subscriber_id or ""))
            await self._channel(batch.kind).send(notice, [recipient], idempotency_key=batch.key)
            return [Outcome(row.id, DeliveryStatus.sent)]
        except DeliveryError as err:
            return self._after_failure(batch, err, count_failures=True)


# --------------------------------------------------------------------------- the jobs

_sender: Sender | None = None


def get_sender() -> Sender:
    global _sender
    if _sender is None:
        _sender = Sender.from_settings()
    return _sender


_run: asyncio.Task | None = None
TICK_WAIT_S = 1.5  # under the job's 2 s interval: the scheduler never finds it still running


async def send_notifications() -> None:
    """The scheduled job. A run (expand + drain) may take a minute for a large fan-out; the
    job waits for it at most TICK_WAIT_S and lets it go on, so the scheduler does not log a
    skipped run every 2 s. The next tick waits on the same run (or starts a new one); a run's
    error is raised by the tick that sees it end; a cancelled tick (leadership lost, shutdown)
    cancels the run, whose claims then expire and are resent by the next leader."""
    global _run
    if _run is None or _run.done():
        _run = asyncio.create_task(get_sender().run_once(), name="statusapp-sender")
    run = _run
    try:
        await asyncio.wait_for(asyncio.shield(run), TICK_WAIT_S)
    except TimeoutError:
        return
    except asyncio.CancelledError:
        run.cancel()
        raise


async def prune_records() -> None:
    await asyncio.to_thread(deliveries.prune)


__all__ = ["RateLimiter", "Sender", "SenderConfig", "get_sender", "prune_records", "send_notifications"]
