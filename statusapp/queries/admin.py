"""Console read models: everything the admin console lists for one organization.

Raw values (ids, enum values, ISO 8601 UTC times) as in the public views; the console
formats them. `load_admin_data` owns its session.
"""

from __future__ import annotations

import dataclasses

from sqlmodel import Session, select

from statusapp.db import session_scope
from statusapp.enums import IncidentStatus, MaintenanceStatus, ServiceStatus
from statusapp.models import (
    Incident,
    IncidentService,
    Maintenance,
    MaintenanceSeries,
    MaintenanceService,
    Service,
    ServiceGroup,
    StatusPage,
    StatusPageService,
)
from statusapp.domain.domains import record_name, record_value
from statusapp.queries.public import IncidentView, MaintenanceView, incident_views, iso, maintenance_views

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
    # The custom domain's proof: where to put which TXT record, and the last check's outcome.
    domain_verified: bool = False
    domain_record_name: str = ""
    domain_record_value: str = ""
    domain_check_result: str = ""
    domain_checked_at: str = ""  # ISO 8601 UTC, "" before the first check
    show_response_times: bool = True


@dataclasses.dataclass
class AdminIncident(IncidentView):
    """The public incident view plus what only the console needs (postmortem draft included)."""

    active: bool = True
    postmortem_published: bool = False
    # [{"service_id", "name", "status"}] of this incident's per-service status
    services: list[dict[str, str]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class AdminMaintenance(MaintenanceView):
    """The public maintenance view plus what the console edits (all updates, newest first)."""

    description: str = ""  # as written (Markdown)
    service_ids: list[str] = dataclasses.field(default_factory=list)
    remind_minutes_before: int = 0  # 0: no reminder
    notify_on_start: bool = True
    notify_on_complete: bool = True
    # An occurrence of a series: the series' id, rule and zone ("" / 0 for a one-off window).
    series_id: int = 0
    series_rrule: str = ""
    series_time_zone: str = ""
    series_cancelled: bool = False
    detached: bool = False
    upcoming: bool = False  # scheduled, not started
    active: bool = False  # in progress or verifying
    closed: bool = False  # completed or cancelled


@dataclasses.dataclass
class AdminData:
    services: list[AdminService] = dataclasses.field(default_factory=list)
    groups: list[AdminGroup] = dataclasses.field(default_factory=list)
    pages: list[AdminPage] = dataclasses.field(default_factory=list)
    incidents: list[AdminIncident] = dataclasses.field(default_factory=list)
    maintenances: list[AdminMaintenance] = dataclasses.field(default_factory=list)


ADMIN_RESOLVED_LIMIT = 50
ADMIN_PAST_MAINTENANCE_LIMIT = 50


def admin_maintenances(session: Session, organization_id: int) -> list[AdminMaintenance]:
    """Every open maintenance window of the organization (soonest first), then the latest
    closed ones (newest first)."""
    open_rows = list(session.exec(
        select(Maintenance).where(Maintenance.organization_id == organization_id,
                                  Maintenance.status.in_(MaintenanceStatus.open_values()))
        .order_by(Maintenance.scheduled_for, Maintenance.id)
    ))
    closed_rows = list(session.exec(
        select(Maintenance).where(Maintenance.organization_id == organization_id,
                                  Maintenance.status.not_in(MaintenanceStatus.open_values()))
        .order_by(Maintenance.scheduled_for.desc(), Maintenance.id.desc()).limit(ADMIN_PAST_MAINTENANCE_LIMIT)
    ))
    rows = open_rows + closed_rows
    if not rows:
        return []
    views = maintenance_views(session, rows)
    sids: dict[int, list[str]] = {m.id: [] for m in rows}
    for m_id, sid in session.exec(
        select(MaintenanceService.maintenance_id, MaintenanceService.service_id)
        .where(MaintenanceService.maintenance_id.in_(list(sids)))
    ):
        sids[m_id].append(str(sid))
    series_ids = {m.series_id for m in rows if m.series_id is not None}
    series = {x.id: x for x in session.exec(select(MaintenanceSeries).where(MaintenanceSeries.id.in_(series_ids)))} \
        if series_ids else {}
    out = []
    for m, v in zip(rows, views):
        st = MaintenanceStatus(m.status)
        ser = series.get(m.series_id)
        out.append(AdminMaintenance(
            **vars(v), description=m.description, service_ids=sorted(sids[m.id], key=int),
            remind_minutes_before=m.remind_minutes_before or 0,
            notify_on_start=m.notify_on_start, notify_on_complete=m.notify_on_complete,
            series_id=m.series_id or 0, series_rrule=ser.rrule if ser else "",
            series_time_zone=ser.time_zone if ser else "", series_cancelled=bool(ser and ser.cancelled_at),
            detached=m.detached, upcoming=st == MaintenanceStatus.scheduled, active=st.is_active,
            closed=st.is_closed,
        ))
    return out


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
        domain = p.custom_domain or ""
        pages.append(
            AdminPage(p.id, p.name, p.slug, p.description, p.is_public, domain, p.logo_url, p.favicon_url,
                      p.brand_color, p.background_color, p.time_zone, ids,
                      domain_verified=bool(domain) and p.verified_domain == domain,
                      domain_record_name=record_name(domain) if domain else "",
                      domain_record_value=record_value(p.domain_token) if domain else "",
                      domain_check_result=p.domain_check_result, domain_checked_at=iso(p.domain_checked_at),
                      show_response_times=p.show_response_times)
        )
    active_statuses = IncidentStatus.active_values()
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
    views = {v.id: v for v in incident_views(session, active + closed)}
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
    return AdminData(svc_rows, [AdminGroup(g.id, g.name, g.description) for g in groups], pages, incidents,
                     admin_maintenances(session, organization_id))


def load_admin_data(organization_id: int) -> AdminData:
    with session_scope() as session:
        return admin_data(session, organization_id)
