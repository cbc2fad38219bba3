"""Read models of subscriptions and notifications: what the sender tells each page about an
event (notice-shaped JSON), the console's subscriber list, delivery log, dev mailbox and
channels, and the public manage page.

Notice data is returned as the plain dict `statusapp.notify.message.Notice.from_dict` reads
(this layer sits below notify), so the sender can freeze it as is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

from sqlalchemy import case, func, or_
from sqlmodel import Session, select

from statusapp import routes
from statusapp.db import session_scope
from statusapp.domain import tokens
from statusapp.domain.errors import ValidationError
from statusapp.domain.events import EventKind, StatusChange
from statusapp.domain.status import page_indicator
from statusapp.enums import DeliveryStatus, IncidentStatus, MaintenanceStatus, SubscriberKind, SubscriberStatus
from statusapp.models import (
    Delivery,
    DevMail,
    DomainEvent,
    Incident,
    IncidentService,
    IncidentUpdate,
    Maintenance,
    MaintenanceService,
    MaintenanceUpdate,
    Notification,
    Service,
    StatusPage,
    StatusPageService,
    Subscriber,
    SubscriberService,
)
from statusapp.queries.public import iso, page_incidents_query, page_maintenance_query, page_services
from statusapp.settings import get_settings

HISTORY_IN_NOTICE = 10


def absolute(path: str) -> str:
    return get_settings().public_url.rstrip("/") + path


# --------------------------------------------------------------------------- for the sender


@dataclasses.dataclass(frozen=True)
class PageNotice:
    """One page's part of an event: the notice dict, which services it touches (None: the
    whole page) and whether only console channels hear of it (a private page)."""

    page_id: int
    notice: dict[str, Any]
    service_ids: list[int] | None
    console_only: bool


def page_data(session: Session, page: StatusPage) -> dict[str, Any]:
    """The notice's `page` (PageInfo), with the page's overall status now."""
    services = page_services(session, page)
    active = session.exec(page_incidents_query(page).where(Incident.status.in_(IncidentStatus.active_values()))).all()
    in_maintenance = session.exec(page_maintenance_query(page).where(
        Maintenance.status.in_(MaintenanceStatus.active_values())).limit(1)).first() is not None
    indicator = page_indicator([s.status for s in services], [i.impact for i in active],
                               maintenance_active=in_maintenance)
    return {"id": str(page.id), "name": page.name, "url": absolute(routes.page_path(page.slug)),
            "time_zone": page.time_zone or "UTC", "brand_color": page.brand_color or None,
            "logo_url": page.logo_url or None, "indicator": indicator.value}


def _update_data(u: IncidentUpdate) -> dict[str, Any]:
    return {"id": str(u.id), "status": u.status, "message": u.message, "created_at": u.display_at.isoformat()}


def _pages_of(session: Session, organization_id: int, service_ids: list[int]) -> list[tuple[StatusPage, list[int] | None]]:
    """The pages showing any of these services, each with the ones it shows; with no service
    (an org-wide incident) every page, touching all of its services (None)."""
    pages = session.exec(select(StatusPage).where(StatusPage.organization_id == organization_id)
                         .order_by(StatusPage.id)).all()
    if not service_ids:
        return [(p, None) for p in pages]
    shown: dict[int, list[int]] = {}
    for page_id, sid in session.exec(select(StatusPageService.page_id, StatusPageService.service_id)
                                     .where(StatusPageService.service_id.in_(service_ids))
                                     .order_by(StatusPageService.position)):
        shown.setdefault(page_id, []).append(sid)
    return [(p, shown[p.id]) for p in pages if p.id in shown]


def incident_notices(event_id: int, organization_id: int, notice_kind: str, incident_id: int,
                     update_id: int | None, status_changes: list[StatusChange]) -> list[PageNotice]:
    """What an incident event (created, updated, resolved, postmortem) tells each page; []
    when the incident is gone."""
    with session_scope() as session:
        inc = session.get(Incident, incident_id)
        if inc is None or inc.organization_id != organization_id:
            return []
        affected = session.exec(select(IncidentService, Service).join(Service, Service.id == IncidentService.service_id)
                                .where(IncidentService.incident_id == inc.id)
                                .order_by(Service.position, Service.id)).all()
        changed = {c.service_id: c for c in status_changes}
        updates = session.exec(select(IncidentUpdate).where(IncidentUpdate.incident_id == inc.id)
                               .order_by(IncidentUpdate.display_at.desc(), IncidentUpdate.id.desc())
                               .limit(HISTORY_IN_NOTICE + 1)).all()
        current = next((u for u in updates if u.id == update_id), None)
        if notice_kind == "incident.postmortem":
            update = {"id": f"pm{inc.id}", "status": IncidentStatus.postmortem.value, "message": inc.postmortem,
                      "created_at": (inc.postmortem_published_at or inc.updated_at).isoformat()}
        else:
            update = _update_data(current) if current is not None else None
        history = [_update_data(u) for u in updates if u.id != update_id][:HISTORY_IN_NOTICE]
        out = []
        for page, on_page in _pages_of(session, organization_id, [svc.id for _, svc in affected]):
            services = []
            for row, svc in affected:
                if on_page is not None and svc.id not in on_page:
                    continue
                change = changed.get(svc.id)
                services.append({"id": str(svc.id), "name": svc.name,
                                 "new_status": change.new_status if change else svc.status,
                                 "old_status": change.old_status if change else None,
                                 "created_at": svc.created_at.isoformat()})
            notice = {
                "id": f"ev{event_id}-p{page.id}", "kind": notice_kind, "page": page_data(session, page),
                "occurred_at": inc.updated_at.isoformat(),
                "incident": {
                    "id": str(inc.id), "title": inc.title, "impact": inc.impact, "status": inc.status,
                    "url": absolute(routes.incident_path(page.slug, inc.id)),
                    "created_at": inc.created_at.isoformat(), "updated_at": inc.updated_at.isoformat(),
                    "started_at": inc.started_at.isoformat(),
                    "monitoring_at": inc.monitoring_at.isoformat() if inc.monitoring_at else None,
                    "resolved_at": inc.resolved_at.isoformat() if inc.resolved_at else None,
                    "history": history,
                },
                "update": update,
                "services": services,
            }
            out.append(PageNotice(page.id, notice, on_page, console_only=not page.is_public))
        return out


def _maintenance_update_data(u: MaintenanceUpdate) -> dict[str, Any]:
    return {"id": str(u.id), "status": u.status, "message": u.message, "created_at": u.created_at.isoformat()}


def maintenance_notices(event_id: int, organization_id: int, notice_kind: str, maintenance_id: int,
                        update_id: int | None, status_changes: list[StatusChange],
                        occurred_at: dt.datetime) -> list[PageNotice]:
    """What a maintenance event (scheduled, reminder, started, completed) tells each page
    showing one of its services (every page when it names none); [] when it is gone."""
    with session_scope() as session:
        m = session.get(Maintenance, maintenance_id)
        if m is None or m.organization_id != organization_id:
            return []
        affected = session.exec(select(Service).join(MaintenanceService, MaintenanceService.service_id == Service.id)
                                .where(MaintenanceService.maintenance_id == m.id)
                                .order_by(Service.position, Service.id)).all()
        changed = {c.service_id: c for c in status_changes}
        updates = session.exec(select(MaintenanceUpdate).where(MaintenanceUpdate.maintenance_id == m.id)
                               .order_by(MaintenanceUpdate.created_at.desc(), MaintenanceUpdate.id.desc())
                               .limit(HISTORY_IN_NOTICE + 1)).all()
        # A reminder carries no update of its own: it repeats the latest one.
        current = next((u for u in updates if u.id == update_id), None) if update_id else (updates or [None])[0]
        update = _maintenance_update_data(current) if current is not None else None
        update_id = current.id if current is not None else None
        history = [_maintenance_update_data(u) for u in updates if u.id != update_id][:HISTORY_IN_NOTICE]
        out = []
        for page, on_page in _pages_of(session, organization_id, [svc.id for svc in affected]):
            services = []
            for svc in affected:
                if on_page is not None and svc.id not in on_page:
                    continue
                change = changed.get(svc.id)
                services.append({"id": str(svc.id), "name": svc.name,
                                 "new_status": change.new_status if change else svc.status,
                                 "old_status": change.old_status if change else None,
                                 "created_at": svc.created_at.isoformat()})
            notice = {
                "id": f"ev{event_id}-p{page.id}", "kind": notice_kind, "page": page_data(session, page),
                "occurred_at": occurred_at.isoformat(),
                "incident": {
                    "id": str(m.id), "title": m.title, "impact": "maintenance", "status": m.status,
                    "url": absolute(routes.maintenance_path(page.slug, m.id)),
                    "created_at": m.created_at.isoformat(), "updated_at": m.updated_at.isoformat(),
                    "started_at": m.started_at.isoformat() if m.started_at else None,
                    "monitoring_at": m.verifying_at.isoformat() if m.verifying_at else None,
                    "resolved_at": m.completed_at.isoformat() if m.completed_at else None,
                    "scheduled_for": m.scheduled_for.isoformat(), "scheduled_until": m.scheduled_until.isoformat(),
                    "is_maintenance": True,
                    "history": history,
                },
                "update": update,
                "services": services,
            }
            out.append(PageNotice(page.id, notice, on_page, console_only=not page.is_public))
        return out


def service_change_notices(event_id: int, organization_id: int, changes: list[StatusChange],
                           occurred_at: dt.datetime) -> list[PageNotice]:
    """A status change without an incident, per page showing a changed service."""
    if not changes:
        return []
    with session_scope() as session:
        created = dict(session.exec(select(Service.id, Service.created_at).where(
            Service.id.in_([c.service_id for c in changes]))).all())
        out = []
        for page, on_page in _pages_of(session, organization_id, list(created)):
            services = [{"id": str(c.service_id), "name": c.name, "new_status": c.new_status,
                         "old_status": c.old_status, "created_at": created[c.service_id].isoformat()}
                        for c in changes if c.service_id in (on_page or [])]
            notice = {"id": f"ev{event_id}-p{page.id}", "kind": "service.status_changed",
                      "page": page_data(session, page), "occurred_at": occurred_at.isoformat(), "incident": None,
                      "update": None, "services": services}
            out.append(PageNotice(page.id, notice, on_page, console_only=not page.is_public))
        return out


def page_info(page_id: int) -> dict[str, Any] | None:
    with session_scope() as session:
        page = session.get(StatusPage, page_id)
        return page_data(session, page) if page is not None else None


def subscriber_address(subscriber_id: int) -> tuple[int, str] | None:
    """(page id, address) of a subscriber, for the sender's links."""
    with session_scope() as session:
        sub = session.get(Subscriber, subscriber_id)
        return (sub.page_id, sub.address) if sub is not None else None


def counts_by_status(event_id: int) -> dict[str, int]:
    """{delivery status: rows} of one event."""
    with session_scope() as session:
        return dict(session.exec(select(Delivery.status, func.count()).where(
            Delivery.event_id == event_id).group_by(Delivery.status)).all())


# --------------------------------------------------------------------------- console: subscribers


@dataclasses.dataclass
class SubscriberRow:
    id: int = 0
    kind: str = "email"
    kind_label: str = ""
    address: str = ""
    contact_email: str = ""
    name: str = ""
    status: str = ""
    status_label: str = ""
    services: str = ""  # "All services" or names
    source: str = ""
    failure_count: int = 0
    last_error: str = ""
    created_at: str = ""
    confirmed_at: str = ""


@dataclasses.dataclass
class SubscriberCounts:
    total: int = 0
    confirmed: int = 0
    pending: int = 0
    unsubscribed: int = 0
    quarantined: int = 0


@dataclasses.dataclass
class SubscriberList:
    counts: SubscriberCounts = dataclasses.field(default_factory=SubscriberCounts)
    rows: list[SubscriberRow] = dataclasses.field(default_factory=list)
    matching: int = 0  # rows matching the search and filter
    next_after: int = 0  # keyset: pass as `after_id` for the next page; 0 when this is the last


PAGE_SIZE = 50


def _filtered(query, page_id: int, search: str, service_id: int | None, kinds: tuple[str, ...]):
    query = query.where(Subscriber.page_id == page_id, Subscriber.kind.in_(kinds))
    if search:
        needle = f"%{search.strip().lower()[:200]}%"
        query = query.where(or_(func.lower(Subscriber.address).like(needle), func.lower(Subscriber.contact_email).like(needle),
                                func.lower(Subscriber.name).like(needle)))
    if service_id:
        chosen = select(SubscriberService.subscriber_id).where(SubscriberService.service_id == service_id)
        query = query.where(or_(Subscriber.all_services.is_(True), Subscriber.id.in_(chosen)))
    return query


def _rows(session: Session, subs: list[Subscriber]) -> list[SubscriberRow]:
    names: dict[int, list[str]] = {}
    ids = [s.id for s in subs if not s.all_services]
    if ids:
        for sid, name in session.exec(select(SubscriberService.subscriber_id, Service.name)
                                      .join(Service, Service.id == SubscriberService.service_id)
                                      .where(SubscriberService.subscriber_id.in_(ids)).order_by(Service.position)):
            names.setdefault(sid, []).append(name)
    return [SubscriberRow(
        id=s.id, kind=s.kind, kind_label=SubscriberKind(s.kind).label, address=s.address, contact_email=s.contact_email,
        name=s.name, status=s.status, status_label=SubscriberStatus(s.status).label,
        services="All services" if s.all_services else (", ".join(names.get(s.id, [])) or "(none left)"),
        source=s.source, failure_count=s.failure_count, last_error=s.last_error, created_at=iso(s.created_at),
        confirmed_at=iso(s.confirmed_at),
    ) for s in subs]


def subscriber_counts(session: Session, page_id: int, kinds: tuple[str, ...]) -> SubscriberCounts:
    counts = SubscriberCounts()
    for status, n in session.exec(select(Subscriber.status, func.count()).where(
            Subscriber.page_id == page_id, Subscriber.kind.in_(kinds)).group_by(Subscriber.status)):
        setattr(counts, status, n)
        counts.total += n
    return counts


PUBLIC_KINDS = (SubscriberKind.email.value, SubscriberKind.webhook.value)


def list_subscribers(organization_id: int, page_id: int, *, search: str = "", service_id: int | None = None,
                     after_id: int = 0) -> SubscriberList:
    """One console page of a page's email and webhook subscribers (keyset by id: the cost
    does not grow with how far the admin pages)."""
    with session_scope() as session:
        page = session.get(StatusPage, page_id)
        if page is None or page.organization_id != organization_id:
            return SubscriberList()
        subs = session.exec(_filtered(select(Subscriber), page_id, search, service_id, PUBLIC_KINDS)
                            .where(Subscriber.id > after_id).order_by(Subscriber.id).limit(PAGE_SIZE + 1)).all()
        more = len(subs) > PAGE_SIZE
        subs = subs[:PAGE_SIZE]
        matching = session.exec(_filtered(select(func.count()).select_from(Subscriber), page_id, search, service_id,
                                          PUBLIC_KINDS)).one()
        return SubscriberList(subscriber_counts(session, page_id, PUBLIC_KINDS), _rows(session, subs), matching,
                              subs[-1].id if more and subs else 0)


EXPORT_HEADER = ["email", "services", "status", "kind", "webhook_url", "subscribed_at", "confirmed_at"]


def export_subscribers(organization_id: int, page_id: int) -> Iterator[list[str]]:
    """CSV rows of a page's subscribers, streamed (server-side cursor on PostgreSQL, batches of
    1,000): memory stays flat whatever the number. The first two columns are what an import
    reads back."""
    with session_scope() as session:
        page = session.get(StatusPage, page_id)
        if page is None or page.organization_id != organization_id:
            return
        slugs = dict(session.exec(select(Service.id, Service.slug).where(Service.organization_id == organization_id)).all())
        yield EXPORT_HEADER
        after = 0
        while True:
            subs = session.exec(select(Subscriber).where(Subscriber.page_id == page_id, Subscriber.kind.in_(PUBLIC_KINDS),
                                                          Subscriber.id > after).order_by(Subscriber.id).limit(1000)).all()
            if not subs:
                return
            chosen: dict[int, list[str]] = {}
            for sid, svc in session.exec(select(SubscriberService.subscriber_id, SubscriberService.service_id).where(
                    SubscriberService.subscriber_id.in_([s.id for s in subs if not s.all_services]))):
                chosen.setdefault(sid, []).append(slugs.get(svc, ""))
            for s in subs:
                email = s.contact_email if s.kind == SubscriberKind.webhook.value else s.address
                yield [email, ";".join(sorted(chosen.get(s.id, []))), s.status, s.kind,
                       s.address if s.kind == SubscriberKind.webhook.value else "", iso(s.created_at), iso(s.confirmed_at)]
            after = subs[-1].id
            session.expunge_all()


# --------------------------------------------------------------------------- console: delivery log


@dataclasses.dataclass
class EventLogRow:
    event_id: int = 0
    kind: str = ""
    title: str = ""
    created_at: str = ""
    total: int = 0
    sent: int = 0
    waiting: int = 0  # pending or being sent
    retrying: int = 0
    failed: int = 0
    skipped: int = 0


_TITLES = {
    EventKind.incident_created.value: "Incident declared",
    EventKind.incident_updated.value: "Incident update",
    EventKind.incident_resolved.value: "Incident resolved",
    EventKind.incident_postmortem.value: "Postmortem published",
    EventKind.service_status_set.value: "Status change",
    EventKind.subscriber_requested.value: "Subscription email",
    EventKind.channel_test_requested.value: "Channel test",
    EventKind.maintenance_created.value: "Maintenance scheduled",
    EventKind.maintenance_reminder.value: "Maintenance reminder",
    EventKind.maintenance_started.value: "Maintenance started",
    EventKind.maintenance_completed.value: "Maintenance completed",
}


def _event_title(session: Session, event: DomainEvent) -> str:
    label = _TITLES.get(event.kind, event.kind)
    incident_id = event.payload.get("incident_id") if isinstance(event.payload, dict) else None
    if incident_id:
        title = session.exec(select(Incident.title).where(Incident.id == incident_id)).first()
        if title:
            return f"{label}: {title}"
    maintenance_id = event.payload.get("maintenance_id") if isinstance(event.payload, dict) else None
    if maintenance_id:
        title = session.exec(select(Maintenance.title).where(Maintenance.id == maintenance_id)).first()
        if title:
            return f"{label}: {title}"
    return label


def delivery_log(organization_id: int, *, limit: int = 30) -> list[EventLogRow]:
    """The latest events that notified anyone, with their deliveries counted by status."""
    with session_scope() as session:
        events = session.exec(select(DomainEvent).where(
            DomainEvent.organization_id == organization_id,
            DomainEvent.id.in_(select(Notification.event_id).where(Notification.organization_id == organization_id)),
        ).order_by(DomainEvent.id.desc()).limit(limit)).all()
        out = []
        for ev in events:
            counts = dict(session.exec(select(Delivery.status, func.count()).where(Delivery.event_id == ev.id)
                                       .group_by(Delivery.status)).all())
            out.append(EventLogRow(
                event_id=ev.id, kind=ev.kind, title=_event_title(session, ev), created_at=iso(ev.created_at),
                total=sum(counts.values()), sent=counts.get("sent", 0),
                waiting=counts.get("pending", 0) + counts.get("sending", 0), retrying=counts.get("retrying", 0),
                failed=counts.get("failed", 0), skipped=counts.get("skipped", 0),
            ))
        return out


@dataclasses.dataclass
class DeliveryRow:
    id: int = 0
    kind: str = ""
    address: str = ""
    status: str = ""
    status_label: str = ""
    attempts: int = 0
    last_error: str = ""
    next_attempt_at: str = ""
    sent_at: str = ""


def redacted(kind: str, address: str) -> str:
    """Slack and Discord webhook URLs are credentials: the console shows scheme and host only."""
    if kind in (SubscriberKind.slack.value, SubscriberKind.discord.value):
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(address)
            return f"{parts.scheme}://{parts.hostname}/…"
        except ValueError:
            return "(invalid URL)"
    return address


def event_deliveries(organization_id: int, event_id: int, *, status: str = "", limit: int = 200) -> list[DeliveryRow]:
    """One event's deliveries, problems first (failed, retrying), at most `limit`."""
    order = case((Delivery.status == "failed", 0), (Delivery.status == "retrying", 1), else_=2)
    with session_scope() as session:
        query = select(Delivery).where(Delivery.organization_id == organization_id, Delivery.event_id == event_id)
        if status:
            query = query.where(Delivery.status == status)
        rows = session.exec(query.order_by(order, Delivery.id).limit(limit)).all()
        return [DeliveryRow(r.id, r.kind, redacted(r.kind, r.address), r.status, DeliveryStatus(r.status).label,
                            r.attempts, r.last_error, iso(r.next_attempt_at) if r.status == "retrying" else "",
                            iso(r.sent_at)) for r in rows]


# --------------------------------------------------------------------------- console: mailbox, channels


@dataclasses.dataclass
class MailRow:
    id: int = 0
    to_address: str = ""
    subject: str = ""
    created_at: str = ""


@dataclasses.dataclass
class Mail:
    id: int = 0
    to_address: str = ""
    subject: str = ""
    html: str = ""
    text: str = ""
    headers: list[str] = dataclasses.field(default_factory=list)
    created_at: str = ""


def dev_mails(organization_id: int, *, search: str = "", limit: int = 50) -> list[MailRow]:
    with session_scope() as session:
        query = select(DevMail.id, DevMail.to_address, DevMail.subject, DevMail.created_at).where(
            DevMail.organization_id == organization_id)
        if search:
            needle = f"%{search.strip().lower()[:200]}%"
            query = query.where(or_(func.lower(DevMail.to_address).like(needle), func.lower(DevMail.subject).like(needle)))
        return [MailRow(i, to, subject, iso(at)) for i, to, subject, at in
                session.exec(query.order_by(DevMail.id.desc()).limit(limit))]


def dev_mail(organization_id: int, mail_id: int) -> Mail | None:
    with session_scope() as session:
        m = session.get(DevMail, mail_id)
        if m is None or m.organization_id != organization_id:
            return None
        return Mail(m.id, m.to_address, m.subject, m.html, m.text, [f"{k}: {v}" for k, v in m.headers.items()],
                    iso(m.created_at))


@dataclasses.dataclass
class ChannelRow:
    id: int = 0
    page_id: int = 0
    page_name: str = ""
    kind: str = ""
    kind_label: str = ""
    name: str = ""
    target: str = ""  # redacted for Slack and Discord
    services: str = ""
    last_status: str = ""  # of the latest delivery: "" when nothing was sent yet
    last_status_label: str = ""
    last_error: str = ""
    last_at: str = ""


def channels(organization_id: int) -> list[ChannelRow]:
    """The organization's console-added webhook, Slack and Discord channels, each with how
    its latest delivery went."""
    with session_scope() as session:
        subs = session.exec(select(Subscriber).where(
            Subscriber.organization_id == organization_id, Subscriber.source == "console",
        ).order_by(Subscriber.page_id, Subscriber.id)).all()
        pages = dict(session.exec(select(StatusPage.id, StatusPage.name).where(
            StatusPage.organization_id == organization_id)).all())
        rows = {r.id: r for r in _rows(session, subs)}
        out = []
        for s in subs:
            last = session.exec(select(Delivery).where(Delivery.subscriber_id == s.id)
                                .order_by(Delivery.id.desc()).limit(1)).first()
            out.append(ChannelRow(
                id=s.id, page_id=s.page_id, page_name=pages.get(s.page_id, ""), kind=s.kind,
                kind_label=SubscriberKind(s.kind).label, name=s.name, target=redacted(s.kind, s.address),
                services=rows[s.id].services, last_status=last.status if last else "",
                last_status_label=DeliveryStatus(last.status).label if last else "Nothing sent yet",
                last_error=last.last_error if last else "", last_at=iso(last.sent_at or last.created_at) if last else "",
            ))
        return out


# --------------------------------------------------------------------------- public: manage page


@dataclasses.dataclass
class ServiceChoice:
    id: int
    name: str
    chosen: bool


@dataclasses.dataclass
class Subscription:
    """What the manage page shows a subscriber (who holds its token)."""

    subscriber_id: int
    kind: str
    address: str
    status: str
    all_services: bool
    page_name: str
    page_url: str
    brand_color: str
    services: list[ServiceChoice]


def load_subscription(token: str) -> Subscription:
    """The subscription a manage/unsubscribe token opens; ValidationError (field "token")
    for a forged, malformed or dead token."""
    sid = tokens.token_subscriber_id(token)
    with session_scope() as session:
        sub = session.get(Subscriber, sid)
        if sub is None:
            raise ValidationError.one("token", tokens.INVALID)
        tokens.verify(token, tokens.MANAGE, sub.id, sub.address)
        page = session.get(StatusPage, sub.page_id)
        chosen = set(session.exec(select(SubscriberService.service_id).where(SubscriberService.subscriber_id == sub.id)))
        services = [ServiceChoice(s.id, s.name, sub.all_services or s.id in chosen) for s in page_services(session, page)]
        return Subscription(sub.id, sub.kind, sub.address, sub.status, sub.all_services, page.name,
                            absolute(routes.page_path(page.slug)), page.brand_color, services)


def confirm_target(token: str) -> tuple[str, str, str]:
    """(page name, brand colour, address) of a well-formed confirmation token's subscriber,
    for the confirmation page's GET (the POST verifies)."""
    sid = tokens.token_subscriber_id(token)
    with session_scope() as session:
        sub = session.get(Subscriber, sid)
        if sub is None:
            raise ValidationError.one("token", tokens.INVALID)
        tokens.verify(token, tokens.CONFIRM, sub.id, sub.address)
        page = session.get(StatusPage, sub.page_id)
        return page.name, page.brand_color, sub.contact_email or sub.address


def page_link(page_id: int) -> tuple[str, str, str]:
    """(name, public URL, brand colour) of a page (the confirmation page's "back to" link)."""
    with session_scope() as session:
        page = session.get(StatusPage, page_id)
        if page is None:
            return "", "", ""
        return page.name, absolute(routes.page_path(page.slug)), page.brand_color
