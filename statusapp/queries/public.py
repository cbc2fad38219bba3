"""Public read models: what a status page shows, as plain JSON-ready data.

Everything a visitor sees of a page comes from `page_view`, so the live push, a fresh load
and a reconnect all show the same thing. Views keep raw values (ids, enum values, ISO 8601
UTC times) so the JSON API can serve them too; formatting for people happens in the UI.
The `load_*` functions own their session: adapters call them instead of opening one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, or_
from sqlmodel import Session, select

from statusapp.db import session_scope
from statusapp.domain.status import page_indicator
from statusapp.domain.validation import parse_id
from statusapp.enums import IncidentImpact, IncidentStatus, MaintenanceStatus, ServiceStatus
from statusapp.markdown import render_markdown
from statusapp.settings import get_settings
from statusapp.models import (
    Incident,
    Organization,
    IncidentService,
    IncidentUpdate,
    Maintenance,
    MaintenanceService,
    MaintenanceUpdate,
    Monitor,
    Service,
    ServiceGroup,
    StatusPage,
    StatusPageService,
    utcnow,
)
from statusapp.queries.uptime import FinishedBars, finished_bars, today_uptime

RECENT_DAYS = 7


@dataclasses.dataclass
class ServiceView:
    id: int = 0
    name: str = ""
    description: str = ""
    status: str = "operational"
    status_label: str = ""
    status_color: str = ""
    status_text_color: str = ""
    # Live uptime: today's bar and the 90-day percentage (the 89 finished days are sent apart,
    # once per visit: queries.uptime). None: no data (the service did not exist in the window).
    uptime: float | None = None
    today_level: str = "nodata"  # domain.uptime.bar_level of today so far
    today_label: str = ""  # today's bar in words (queries.uptime.BarView.label); "" for a plain 100% day
    chart: bool = False  # a response-time chart can be shown (monitored by HTTP or TCP, page allows)


@dataclasses.dataclass
class GroupView:
    """A group of services, or (name "") one ungrouped service shown on its own."""

    key: str = ""
    name: str = ""
    status: str = "operational"
    status_label: str = ""
    status_color: str = ""
    status_text_color: str = ""
    services: list[ServiceView] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class UpdateView:
    id: int = 0
    status: str = ""
    status_label: str = ""
    message: str = ""  # as written (Markdown)
    message_html: str = ""  # rendered safely (statusapp.markdown)
    at_iso: str = ""  # display time, ISO 8601 UTC


@dataclasses.dataclass
class IncidentView:
    id: int = 0
    title: str = ""
    impact: str = "none"
    impact_label: str = ""
    impact_color: str = ""
    status: str = ""
    status_label: str = ""
    started_at: str = ""  # ISO 8601 UTC
    resolved_at: str = ""  # ISO 8601 UTC, "" while active
    affected: str = ""
    postmortem: str = ""
    postmortem_html: str = ""
    updates: list[UpdateView] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class MaintenanceView:
    """A maintenance window as a page shows it (times ISO 8601 UTC; the browser formats them)."""

    id: int = 0
    title: str = ""
    description_html: str = ""  # rendered safely (statusapp.markdown)
    status: str = ""  # a MaintenanceStatus value
    status_label: str = ""
    scheduled_for: str = ""
    scheduled_until: str = ""
    started_at: str = ""
    ended_at: str = ""  # completed or cancelled, "" while open
    affected: str = ""
    recurring: bool = False
    updates: list[UpdateView] = dataclasses.field(default_factory=list)  # newest first


@dataclasses.dataclass
class PageView:
    found: bool = False
    id: int = 0
    name: str = ""
    slug: str = ""
    description: str = ""
    logo_url: str = ""
    favicon_url: str = ""
    brand_color: str = "#2563eb"
    background_color: str = ""
    time_zone: str = "UTC"
    indicator: str = "none"
    status_text: str = ""
    status_color: str = ""
    groups: list[GroupView] = dataclasses.field(default_factory=list)
    incidents: list[IncidentView] = dataclasses.field(default_factory=list)
    recent: list[IncidentView] = dataclasses.field(default_factory=list)
    # Maintenance in progress or being verified, and the next scheduled windows (soonest first).
    maintenance_active: list[MaintenanceView] = dataclasses.field(default_factory=list)
    maintenance_upcoming: list[MaintenanceView] = dataclasses.field(default_factory=list)
    # The organization's change count this view reflects at least (Organization.change_seq,
    # read before anything else), and when it was read: a view never replaces a newer one.
    version: int = 0
    as_of: str = ""


def org_version(session: Session, organization_id: int) -> int:
    """The organization's committed change count; read it BEFORE the rows a view shows, so the
    view reflects at least that many changes (statusapp.live orders views by it)."""
    return session.exec(select(Organization.change_seq).where(Organization.id == organization_id)).first() or 0


def iso(value: dt.datetime | None) -> str:
    return value.astimezone(dt.timezone.utc).isoformat() if value else ""


def _public_pages():
    return select(StatusPage).where(StatusPage.is_public == True)  # noqa: E712


def find_page(session: Session, slug: str) -> StatusPage | None:
    """The public page with this slug (None for an empty slug, a private or unknown page)."""
    if not slug:
        return None
    return session.exec(_public_pages().where(StatusPage.slug == slug)).first()


def host_name(host: str | None) -> str:
    """The host name of a Host header, lowercase, without port or IPv6 brackets."""
    host = (host or "").strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def find_root_page(session: Session, host: str | None) -> StatusPage | None:
    """What `/` shows on this Host: the one rule for every host.

    * A verified custom domain shows its page, or nothing when that page is private: a known
      domain never falls back to another page.
    * Any other host (our own public URL's, an unverified claim, a made-up Host header)
      shows the operator's default page (STATUSAPP_DEFAULT_PAGE) when it is set and public.
    * Without a default page, our own host shows the first public page (one organization,
      `make run`) and every other host nothing.
    """
    settings = get_settings()
    hostname = host_name(host)
    ours = hostname == settings.public_hostname
    if hostname and not ours:
        page = session.exec(select(StatusPage).where(StatusPage.verified_domain == hostname)).first()
        if page is not None:
            return page if page.is_public else None
    if settings.default_page:
        return find_page(session, settings.default_page)
    if ours:
        return session.exec(_public_pages().order_by(StatusPage.id)).first()
    return None


def page_services(session: Session, page: StatusPage) -> list[Service]:
    return list(
        session.exec(
            select(Service)
            .join(StatusPageService, StatusPageService.service_id == Service.id)
            .where(StatusPageService.page_id == page.id)
            .order_by(StatusPageService.position, Service.id)
        )
    )


def page_incidents_query(page: StatusPage):
    """Incidents shown on a page: those touching one of its services, and org-wide ones
    (no affected service)."""
    on_page = exists().where(
        IncidentService.incident_id == Incident.id,
        IncidentService.service_id == StatusPageService.service_id,
        StatusPageService.page_id == page.id,
    )
    no_services = ~exists().where(IncidentService.incident_id == Incident.id)
    return select(Incident).where(Incident.organization_id == page.organization_id, or_(on_page, no_services))


def page_maintenance_query(page: StatusPage):
    """Maintenance shown on a page: windows touching one of its services, and org-wide ones
    (no affected service), as for incidents."""
    on_page = exists().where(
        MaintenanceService.maintenance_id == Maintenance.id,
        MaintenanceService.service_id == StatusPageService.service_id,
        StatusPageService.page_id == page.id,
    )
    no_services = ~exists().where(MaintenanceService.maintenance_id == Maintenance.id)
    return select(Maintenance).where(Maintenance.organization_id == page.organization_id, or_(on_page, no_services))


def maintenance_views(session: Session, rows: list[Maintenance], *, updates_limit: int | None = None) -> list[MaintenanceView]:
    """Views of these maintenance windows, in the order given; `updates_limit` keeps each
    one's newest updates only (a page's list shows the latest, the detail view all)."""
    if not rows:
        return []
    ids = [m.id for m in rows]
    updates: dict[int, list[MaintenanceUpdate]] = {i: [] for i in ids}
    for upd in session.exec(
        select(MaintenanceUpdate).where(MaintenanceUpdate.maintenance_id.in_(ids))
        .order_by(MaintenanceUpdate.created_at.desc(), MaintenanceUpdate.id.desc())
    ):
        if updates_limit is None or len(updates[upd.maintenance_id]) < updates_limit:
            updates[upd.maintenance_id].append(upd)
    names: dict[int, list[str]] = {i: [] for i in ids}
    for m_id, name in session.exec(
        select(MaintenanceService.maintenance_id, Service.name)
        .join(Service, Service.id == MaintenanceService.service_id)
        .where(MaintenanceService.maintenance_id.in_(ids))
        .order_by(Service.position, Service.id)
    ):
        names[m_id].append(name)
    out = []
    for m in rows:
        st = MaintenanceStatus(m.status)
        out.append(MaintenanceView(
            id=m.id, title=m.title, description_html=render_markdown(m.description) if m.description else "",
            status=st.value, status_label=st.label,
            scheduled_for=iso(m.scheduled_for), scheduled_until=iso(m.scheduled_until), started_at=iso(m.started_at),
            ended_at=iso(m.completed_at or m.cancelled_at), affected=", ".join(names[m.id]),
            recurring=m.series_id is not None,
            updates=[UpdateView(u.id, u.status, MaintenanceStatus(u.status).label, u.message, render_markdown(u.message),
                                iso(u.created_at)) for u in updates[m.id]],
        ))
    return out


UPCOMING_MAINTENANCE_LIMIT = 10


def page_maintenance(session: Session, page: StatusPage) -> tuple[list[MaintenanceView], list[MaintenanceView]]:
    """A page's maintenance in progress (or being verified) and its next scheduled windows."""
    base = page_maintenance_query(page)
    active = list(session.exec(
        base.where(Maintenance.status.in_(MaintenanceStatus.active_values()))
        .order_by(Maintenance.scheduled_for, Maintenance.id)
    ))
    upcoming = list(session.exec(
        base.where(Maintenance.status == MaintenanceStatus.scheduled.value)
        .order_by(Maintenance.scheduled_for, Maintenance.id).limit(UPCOMING_MAINTENANCE_LIMIT)
    ))
    return maintenance_views(session, active, updates_limit=1), maintenance_views(session, upcoming, updates_limit=1)


def _service_view(svc: Service) -> ServiceView:
    st = ServiceStatus(svc.status)
    return ServiceView(svc.id, svc.name, svc.description, st.value, st.label, st.color, st.text_color)


def charted_service_ids(session: Session, page: StatusPage, service_ids: list[int]) -> set[int]:
    """The page's services with a response-time chart: an enabled HTTP or TCP monitor, on a
    page whose owner shows the charts."""
    if not page.show_response_times or not service_ids:
        return set()
    return set(
        session.exec(
            select(Monitor.service_id).where(
                Monitor.service_id.in_(service_ids), Monitor.enabled == True, Monitor.kind != "push"  # noqa: E712
            )
        )
    )


def incident_views(session: Session, incidents: list[Incident]) -> list[IncidentView]:
    if not incidents:
        return []
    ids = [i.id for i in incidents]
    updates: dict[int, list[IncidentUpdate]] = {i: [] for i in ids}
    for upd in session.exec(
        select(IncidentUpdate)
        .where(IncidentUpdate.incident_id.in_(ids))
        .order_by(IncidentUpdate.display_at.desc(), IncidentUpdate.id.desc())
    ):
        updates[upd.incident_id].append(upd)
    names: dict[int, list[str]] = {i: [] for i in ids}
    for inc_id, name in session.exec(
        select(IncidentService.incident_id, Service.name)
        .join(Service, Service.id == IncidentService.service_id)
        .where(IncidentService.incident_id.in_(ids))
        .order_by(Service.position, Service.id)
    ):
        names[inc_id].append(name)
    out = []
    for inc in incidents:
        imp = IncidentImpact(inc.impact)
        st = IncidentStatus(inc.status)
        out.append(
            IncidentView(
                id=inc.id,
                title=inc.title,
                impact=imp.value,
                impact_label=imp.label,
                impact_color=imp.color,
                status=st.value,
                status_label=st.label,
                started_at=iso(inc.started_at),
                resolved_at=iso(inc.resolved_at),
                affected=", ".join(names[inc.id]),
                postmortem=inc.postmortem if inc.postmortem_published_at else "",
                postmortem_html=render_markdown(inc.postmortem) if inc.postmortem_published_at else "",
                updates=[
                    UpdateView(u.id, u.status, IncidentStatus(u.status).label, u.message, render_markdown(u.message),
                               iso(u.display_at))
                    for u in updates[inc.id]
                ],
            )
        )
    return out


def page_view(session: Session, page: StatusPage | None, *, version: int = 0) -> PageView:
    """Everything the public page shows: banner, groups of services, incidents. `version` is
    the `org_version` the caller read before reading `page`."""
    if page is None:
        return PageView(found=False, version=version, as_of=iso(utcnow()))
    tz = page.time_zone or "UTC"
    services = page_services(session, page)
    group_ids = {s.group_id for s in services if s.group_id}
    groups = {
        g.id: g for g in session.exec(select(ServiceGroup).where(ServiceGroup.id.in_(group_ids)))
    } if group_ids else {}
    # Groups appear in group order, ungrouped services after them, in page order.
    views: dict[str, GroupView] = {}
    for grp in sorted(groups.values(), key=lambda g: (g.position, g.id)):
        views[f"g{grp.id}"] = GroupView(key=f"g{grp.id}", name=grp.name)
    uptimes = today_uptime(session, page, services)
    charted = charted_service_ids(session, page, [s.id for s in services])
    for svc in services:
        key = f"g{svc.group_id}" if svc.group_id in groups else f"s{svc.id}"
        views.setdefault(key, GroupView(key=key, name=""))
        sv = _service_view(svc)
        today = uptimes[svc.id]
        sv.uptime, sv.today_level = today.uptime, today.today.level
        sv.today_label = "" if today.today.plain else "Today, " + today.today.label  # most days: fewer bytes per push
        sv.chart = svc.id in charted
        views[key].services.append(sv)
    for gv in views.values():
        worst = max((ServiceStatus(s.status) for s in gv.services), key=lambda s: s.severity)
        gv.status, gv.status_label, gv.status_color, gv.status_text_color = (
            worst.value, worst.label, worst.color, worst.text_color
        )

    base = page_incidents_query(page)
    active_statuses = IncidentStatus.active_values()
    active = list(
        session.exec(base.where(Incident.status.in_(active_statuses)).order_by(Incident.started_at.desc(), Incident.id.desc()))
    )
    recent = list(
        session.exec(
            base.where(
                Incident.status.not_in(active_statuses),
                Incident.resolved_at >= utcnow() - dt.timedelta(days=RECENT_DAYS),
            ).order_by(Incident.resolved_at.desc(), Incident.id.desc())
        )
    )
    maintenance_active, maintenance_upcoming = page_maintenance(session, page)
    indicator = page_indicator([s.status for s in services], [i.impact for i in active],
                               maintenance_active=bool(maintenance_active))
    return PageView(
        version=version,
        as_of=iso(utcnow()),
        found=True,
        id=page.id,
        name=page.name,
        slug=page.slug,
        description=page.description,
        logo_url=page.logo_url,
        favicon_url=page.favicon_url,
        brand_color=page.brand_color,
        background_color=page.background_color,
        time_zone=tz,
        indicator=indicator.value,
        status_text=indicator.description,
        status_color=indicator.color,
        groups=list(views.values()),
        incidents=incident_views(session, active),
        recent=incident_views(session, recent),
        maintenance_active=maintenance_active,
        maintenance_upcoming=maintenance_upcoming,
    )


@dataclasses.dataclass
class MonthView:
    label: str = ""
    incidents: list[IncidentView] = dataclasses.field(default_factory=list)
    # Maintenance that took place (began) in the month: in progress, verifying or completed.
    maintenances: list[MaintenanceView] = dataclasses.field(default_factory=list)


# The maintenance a page's history lists: windows that happened (cancelled or future ones did not).
HISTORY_MAINTENANCE_STATUSES = [MaintenanceStatus.in_progress.value, MaintenanceStatus.verifying.value,
                                MaintenanceStatus.completed.value]


def _page_history_maintenance(page: StatusPage):
    return page_maintenance_query(page).where(Maintenance.status.in_(HISTORY_MAINTENANCE_STATUSES))


def _maintenance_began():
    """When a window took place: its actual start (early or late), else its scheduled one."""
    return func.coalesce(Maintenance.started_at, Maintenance.scheduled_for)


HISTORY_MONTHS_PER_PAGE = 3


def _month_start(first: dt.datetime, back: int) -> dt.datetime:
    """The first of the month `back` months before `first` (itself a first of a month)."""
    year, month0 = divmod(first.year * 12 + first.month - 1 - back, 12)
    return first.replace(year=year, month=month0 + 1)


def history_page_count(session: Session, page: StatusPage, *, months: int = HISTORY_MONTHS_PER_PAGE) -> int:
    """How many history pages the page has: back to the month of its oldest incident or
    maintenance (at least one)."""
    firsts = [
        session.exec(page_incidents_query(page).with_only_columns(func.min(Incident.started_at))).one(),
        session.exec(_page_history_maintenance(page).with_only_columns(func.min(_maintenance_began()))).one(),
    ]
    firsts = [f if f.tzinfo else f.replace(tzinfo=dt.timezone.utc) for f in firsts if f is not None]
    if not firsts:
        return 1
    oldest = min(firsts)
    tz = ZoneInfo(page.time_zone or "UTC")
    now_local, oldest_local = utcnow().astimezone(tz), oldest.astimezone(tz)
    back = (now_local.year - oldest_local.year) * 12 + now_local.month - oldest_local.month
    return max(0, back) // months + 1


def history_view(
    session: Session, page: StatusPage, *, offset: int = 0, months: int = HISTORY_MONTHS_PER_PAGE
) -> list[MonthView]:
    """Incidents of the page by month, newest month first; `offset` pages back by `months`.

    Callers keep `offset` below `history_page_count`: the work is `months` queries whatever it is.
    """
    tz = ZoneInfo(page.time_zone or "UTC")
    now_local = utcnow().astimezone(tz)
    first = now_local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    out = []
    for i in range(offset * months, offset * months + months):
        start = _month_start(first, i)
        end = _month_start(first, i - 1)
        s_utc = start.astimezone(dt.timezone.utc)
        e_utc = end.astimezone(dt.timezone.utc)
        incs = list(
            session.exec(
                page_incidents_query(page)
                .where(Incident.started_at >= s_utc, Incident.started_at < e_utc)
                .order_by(Incident.started_at.desc(), Incident.id.desc())
            )
        )
        works = list(
            session.exec(
                _page_history_maintenance(page)
                .where(_maintenance_began() >= s_utc, _maintenance_began() < e_utc)
                .order_by(_maintenance_began().desc(), Maintenance.id.desc())
            )
        )
        out.append(MonthView(start.strftime("%B %Y"), incident_views(session, incs),
                             maintenance_views(session, works, updates_limit=0)))
    return out


@dataclasses.dataclass
class HistoryView:
    page_name: str = ""
    slug: str = ""
    time_zone: str = "UTC"
    months: list[MonthView] = dataclasses.field(default_factory=list)
    in_range: bool = True  # False: the page exists, this page of its history does not
    has_older: bool = False


def load_history(slug: str, offset: int | None) -> HistoryView | None:
    """A public page's incident history, or None when there is no such public page.

    An `offset` past the oldest incident (or None: not a page number) is a view with
    `in_range` False and no months, costing one query.
    """
    with session_scope() as session:
        page = find_page(session, slug)
        if page is None:
            return None
        view = HistoryView(page.name, page.slug, page.time_zone or "UTC")
        count = history_page_count(session, page)
        if offset is None or not 0 <= offset < count:
            view.in_range = False
            return view
        view.months = history_view(session, page, offset=offset)
        view.has_older = offset + 1 < count
        return view


@dataclasses.dataclass
class IncidentPageView:
    page_name: str = ""
    slug: str = ""
    time_zone: str = "UTC"
    incident: IncidentView = dataclasses.field(default_factory=IncidentView)


@dataclasses.dataclass
class MaintenancePageView:
    page_name: str = ""
    slug: str = ""
    time_zone: str = "UTC"
    maintenance: MaintenanceView = dataclasses.field(default_factory=MaintenanceView)


def load_maintenance(slug: str, maintenance_id: object) -> MaintenancePageView | None:
    """One maintenance window as shown on a public page, or None (no such page, not on it, not an id)."""
    maintenance_id = parse_id(maintenance_id)
    if maintenance_id is None:
        return None
    with session_scope() as session:
        page = find_page(session, slug)
        if page is None:
            return None
        m = session.exec(page_maintenance_query(page).where(Maintenance.id == maintenance_id)).first()
        if m is None:
            return None
        return MaintenancePageView(page.name, page.slug, page.time_zone or "UTC", maintenance_views(session, [m])[0])


def load_incident(slug: str, incident_id: object) -> IncidentPageView | None:
    """One incident as shown on a public page, or None (no such page, not on it, not an id)."""
    incident_id = parse_id(incident_id)
    if incident_id is None:
        return None
    with session_scope() as session:
        page = find_page(session, slug)
        if page is None:
            return None
        inc = session.exec(page_incidents_query(page).where(Incident.id == incident_id)).first()
        if inc is None:
            return None
        return IncidentPageView(page.name, page.slug, page.time_zone or "UTC", incident_views(session, [inc])[0])


@dataclasses.dataclass(frozen=True)
class LoadedView:
    page_id: int
    organization_id: int
    view: PageView


def load_public_view(slug: str | None, host: str | None) -> LoadedView | None:
    """The view of the page at `/status/<slug>`, or of `/` for this Host when slug is None."""
    with session_scope() as session:
        page = find_page(session, slug) if slug is not None else find_root_page(session, host)
        if page is None:
            return None
        version = org_version(session, page.organization_id)
        session.refresh(page)  # the page's own fields, read after the version like the rest
        view = page_view(session, page, version=version) if page.is_public else PageView(found=False, version=version)
        return LoadedView(page.id, page.organization_id, view)


def load_page_bars(page_id: int) -> FinishedBars | None:
    """The finished days of a public page's bars (None: no such public page)."""
    with session_scope() as session:
        page = session.get(StatusPage, page_id)
        if page is None or not page.is_public:
            return None
        return finished_bars(session, page, page_services(session, page))


def page_exists(slug: str) -> bool:
    with session_scope() as session:
        return find_page(session, slug) is not None


def root_page_exists(host: str | None) -> bool:
    """Whether `/` shows a page on this Host (see find_root_page)."""
    with session_scope() as session:
        return find_root_page(session, host) is not None
