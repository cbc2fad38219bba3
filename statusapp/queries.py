"""Read models: what public pages (and later the JSON API) show. Plain data, JSON-ready.

Everything a visitor sees of a page comes from `page_view`, so the live push, a fresh
load and a reconnect all show the same thing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import exists, or_
from sqlmodel import Session, select

from statusapp.domain.status import page_indicator
from statusapp.enums import IncidentImpact, IncidentStatus, ServiceStatus
from statusapp.models import (
    Incident,
    IncidentService,
    IncidentUpdate,
    Service,
    ServiceGroup,
    StatusPage,
    StatusPageService,
    utcnow,
)

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
    message: str = ""
    at: str = ""
    at_iso: str = ""


@dataclasses.dataclass
class IncidentView:
    id: int = 0
    title: str = ""
    impact: str = "none"
    impact_label: str = ""
    impact_color: str = ""
    status: str = ""
    status_label: str = ""
    started: str = ""
    resolved: str = ""
    affected: str = ""
    postmortem: str = ""
    updates: list[UpdateView] = dataclasses.field(default_factory=list)


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


def format_time(value: dt.datetime | None, tz: str) -> str:
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(tz))
    return local.strftime("%b %d, %Y %H:%M ") + (local.tzname() or tz)


def iso(value: dt.datetime | None) -> str:
    return value.astimezone(dt.timezone.utc).isoformat() if value else ""


def find_page(session: Session, *, slug: str | None = None, host: str | None = None, include_private: bool = False) -> StatusPage | None:
    """A page by slug; or by custom domain (Host header); or the first public page."""
    q = select(StatusPage)
    if not include_private:
        q = q.where(StatusPage.is_public == True)  # noqa: E712
    if slug:
        return session.exec(q.where(StatusPage.slug == slug)).first()
    if host:
        hostname = host.split(":", 1)[0].lower()
        page = session.exec(q.where(StatusPage.custom_domain == hostname)).first()
        if page is not None:
            return page
    return session.exec(q.order_by(StatusPage.id)).first()


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


def _service_view(svc: Service) -> ServiceView:
    st = ServiceStatus(svc.status)
    return ServiceView(svc.id, svc.name, svc.description, st.value, st.label, st.color, st.text_color)


def incident_views(session: Session, incidents: list[Incident], tz: str) -> list[IncidentView]:
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
                started=format_time(inc.started_at, tz),
                resolved=format_time(inc.resolved_at, tz),
                affected=", ".join(names[inc.id]),
                postmortem=inc.postmortem if inc.postmortem_published_at else "",
                updates=[
                    UpdateView(
                        u.id,
                        u.status,
                        IncidentStatus(u.status).label,
                        u.message,
                        format_time(u.display_at, tz),
                        iso(u.display_at),
                    )
                    for u in updates[inc.id]
                ],
            )
        )
    return out


def page_view(session: Session, page: StatusPage | None) -> PageView:
    """Everything the public page shows: banner, groups of services, incidents."""
    if page is None:
        return PageView(found=False)
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
    for svc in services:
        key = f"g{svc.group_id}" if svc.group_id in groups else f"s{svc.id}"
        views.setdefault(key, GroupView(key=key, name=""))
        views[key].services.append(_service_view(svc))
    for gv in views.values():
        worst = max((ServiceStatus(s.status) for s in gv.services), key=lambda s: s.severity)
        gv.status, gv.status_label, gv.status_color, gv.status_text_color = (
            worst.value, worst.label, worst.color, worst.text_color
        )

    base = page_incidents_query(page)
    active_statuses = [s.value for s in IncidentStatus if s.is_active]
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
    indicator = page_indicator([s.status for s in services], [i.impact for i in active])
    return PageView(
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
        incidents=incident_views(session, active, tz),
        recent=incident_views(session, recent, tz),
    )


@dataclasses.dataclass
class MonthView:
    label: str = ""
    incidents: list[IncidentView] = dataclasses.field(default_factory=list)


def history_view(session: Session, page: StatusPage, *, offset: int = 0, months: int = 3) -> list[MonthView]:
    """Incidents of the page by month, newest month first; `offset` pages back by `months`."""
    tz = ZoneInfo(page.time_zone or "UTC")
    now_local = utcnow().astimezone(tz)
    first = now_local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    out = []
    for i in range(offset * months, offset * months + months):
        y, m = first.year, first.month - i
        while m <= 0:
            m += 12
            y -= 1
        start = first.replace(year=y, month=m)
        end = start.replace(year=y + 1, month=1) if m == 12 else start.replace(month=m + 1)
        s_utc = start.astimezone(dt.timezone.utc)
        e_utc = end.astimezone(dt.timezone.utc)
        incs = list(
            session.exec(
                page_incidents_query(page)
                .where(Incident.started_at >= s_utc, Incident.started_at < e_utc)
                .order_by(Incident.started_at.desc(), Incident.id.desc())
            )
        )
        out.append(MonthView(start.strftime("%B %Y"), incident_views(session, incs, page.time_zone or "UTC")))
    return out


def incident_view(session: Session, page: StatusPage, incident_id: int) -> IncidentView | None:
    inc = session.exec(page_incidents_query(page).where(Incident.id == incident_id)).first()
    if inc is None:
        return None
    return incident_views(session, [inc], page.time_zone or "UTC")[0]


# ---- admin console read models ----------------------------------------------------------


@dataclasses.dataclass
class AdminService:
    id: int = 0
    name: str = ""
    slug: str = ""
    description: str = ""
    group_id: int = 0
    group_name: str = ""
    manual_status: str = "operational"
    status: str = "operational"
    status_label: str = ""
    status_color: str = ""
    status_text_color: str = ""


@dataclasses.dataclass
class AdminGroup:
    id: int = 0
    name: str = ""
    description: str = ""


@dataclasses.dataclass
class AdminPage:
    id: int = 0
    name: str = ""
    slug: str = ""
    description: str = ""
    is_public: bool = True
    custom_domain: str = ""
    logo_url: str = ""
    favicon_url: str = ""
    brand_color: str = ""
    background_color: str = ""
    time_zone: str = "UTC"
    service_ids: list[int] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class AdminIncident(IncidentView):
    """The public incident view plus what only the console needs (postmortem draft included)."""

    active: bool = True
    postmortem_published: bool = False
    # [{"service_id", "name", "status"}] of this incident's per-service status
    services: list[dict[str, str]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class AdminData:
    services: list[AdminService] = dataclasses.field(default_factory=list)
    groups: list[AdminGroup] = dataclasses.field(default_factory=list)
    pages: list[AdminPage] = dataclasses.field(default_factory=list)
    incidents: list[AdminIncident] = dataclasses.field(default_factory=list)


ADMIN_RESOLVED_LIMIT = 50


def admin_data(session: Session, organization_id: int) -> AdminData:
    """Everything the console lists for one organization (small: services, pages, incidents)."""
    groups = list(
        session.exec(
            select(ServiceGroup).where(ServiceGroup.organization_id == organization_id).order_by(ServiceGroup.position, ServiceGroup.id)
        )
    )
    gname = {g.id: g.name for g in groups}
    gpos = {g.id: i for i, g in enumerate(groups)}
    services = list(session.exec(select(Service).where(Service.organization_id == organization_id)))
    services.sort(key=lambda s: (gpos.get(s.group_id, len(groups)), s.position, s.id))
    svc_rows = []
    for s in services:
        st = ServiceStatus(s.status)
        svc_rows.append(
            AdminService(s.id, s.name, s.slug, s.description, s.group_id or 0, gname.get(s.group_id, ""),
                         s.manual_status, st.value, st.label, st.color, st.text_color)
        )
    pages = []
    for p in session.exec(select(StatusPage).where(StatusPage.organization_id == organization_id).order_by(StatusPage.id)):
        ids = list(
            session.exec(
                select(StatusPageService.service_id).where(StatusPageService.page_id == p.id).order_by(StatusPageService.position)
            )
        )
        pages.append(
            AdminPage(p.id, p.name, p.slug, p.description, p.is_public, p.custom_domain or "", p.logo_url, p.favicon_url,
                      p.brand_color, p.background_color, p.time_zone, ids)
        )
    active_statuses = [s.value for s in IncidentStatus if s.is_active]
    active = list(
        session.exec(
            select(Incident).where(Incident.organization_id == organization_id, Incident.status.in_(active_statuses))
            .order_by(Incident.started_at.desc())
        )
    )
    closed = list(
        session.exec(
            select(Incident).where(Incident.organization_id == organization_id, Incident.status.not_in(active_statuses))
            .order_by(Incident.started_at.desc()).limit(ADMIN_RESOLVED_LIMIT)
        )
    )
    views = {v.id: v for v in incident_views(session, active + closed, "UTC")}
    per_service: dict[int, list[dict[str, str]]] = {i.id: [] for i in active + closed}
    if per_service:
        for inc_id, sid, name, status in session.exec(
            select(IncidentService.incident_id, Service.id, Service.name, IncidentService.status)
            .join(Service, Service.id == IncidentService.service_id)
            .where(IncidentService.incident_id.in_(list(per_service)))
        ):
            per_service[inc_id].append({"service_id": str(sid), "name": name, "status": status})
    incidents = []
    for inc in active + closed:
        v = views[inc.id]
        incidents.append(
            AdminIncident(
                **{**vars(v), "postmortem": inc.postmortem},
                active=IncidentStatus(inc.status).is_active,
                postmortem_published=inc.postmortem_published_at is not None,
                services=per_service[inc.id],
            )
        )
    return AdminData(svc_rows, [AdminGroup(g.id, g.name, g.description) for g in groups], pages, incidents)
