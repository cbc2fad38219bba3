"""Read models of the admin REST API (`/api/v1`): one organization's pages, services, incidents,
maintenances (and their series) and API keys, as raw values (ids, enum values, aware UTC datetimes).

Every lookup is scoped by organization: an id of another organization reads as absent, so the
API answers 404 exactly as for an id that never existed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlmodel import Session, select

from statusapp.db import session_scope
from statusapp.enums import IncidentStatus, MaintenanceStatus
from statusapp.models import (
    ApiKey,
    Incident,
    IncidentService,
    IncidentUpdate,
    Maintenance,
    MaintenanceSeries,
    MaintenanceSeriesService,
    MaintenanceService,
    MaintenanceUpdate,
    Service,
    StatusPage,
    StatusPageService,
)

INCIDENT_PAGE_SIZE = 50
MAX_INCIDENT_PAGE_SIZE = 100
MAINTENANCE_PAGE_SIZE = 50
MAX_MAINTENANCE_PAGE_SIZE = 100


@dataclasses.dataclass(frozen=True)
class PageRow:
    id: int
    name: str
    slug: str
    description: str
    is_public: bool
    custom_domain: str | None  # the domain claimed
    verified_domain: str | None  # the domain serving the page, once its DNS proof passed
    logo_url: str
    favicon_url: str
    brand_color: str
    background_color: str
    time_zone: str
    service_ids: list[int]
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class ServiceRow:
    id: int
    name: str
    slug: str
    description: str
    group_id: int | None
    position: int
    manual_status: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class UpdateRow:
    id: int
    status: str
    message: str
    service_changes: list[dict[str, Any]]  # [{service_id, name, old_status, new_status}]
    created_at: dt.datetime
    display_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class IncidentRow:
    id: int
    title: str
    impact: str
    status: str
    started_at: dt.datetime
    identified_at: dt.datetime | None
    monitoring_at: dt.datetime | None
    resolved_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    services: list[dict[str, Any]]  # [{service_id, name, status}]: this incident's per-service status
    updates: list[UpdateRow]  # newest first


@dataclasses.dataclass(frozen=True)
class ApiKeyRow:
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def _page_row(session: Session, page: StatusPage) -> PageRow:
    ids = list(
        session.exec(
            select(StatusPageService.service_id)
            .where(StatusPageService.page_id == page.id)
            .order_by(StatusPageService.position, StatusPageService.service_id)
        )
    )
    return PageRow(page.id, page.name, page.slug, page.description, page.is_public, page.custom_domain,
                   page.verified_domain, page.logo_url, page.favicon_url, page.brand_color, page.background_color, page.time_zone,
                   ids, page.created_at, page.updated_at)


def list_pages(organization_id: int) -> list[PageRow]:
    with session_scope() as session:
        pages = session.exec(select(StatusPage).where(StatusPage.organization_id == organization_id).order_by(StatusPage.id))
        return [_page_row(session, p) for p in pages]


def get_page(organization_id: int, page_id: int) -> PageRow | None:
    with session_scope() as session:
        page = session.get(StatusPage, page_id)
        if page is None or page.organization_id != organization_id:
            return None
        return _page_row(session, page)


def _service_row(s: Service) -> ServiceRow:
    return ServiceRow(s.id, s.name, s.slug, s.description, s.group_id, s.position, s.manual_status, s.status,
                      s.created_at, s.updated_at)


def list_services(organization_id: int) -> list[ServiceRow]:
    with session_scope() as session:
        rows = session.exec(
            select(Service).where(Service.organization_id == organization_id).order_by(Service.position, Service.id)
        )
        return [_service_row(s) for s in rows]


def get_service(organization_id: int, service_id: int) -> ServiceRow | None:
    with session_scope() as session:
        svc = session.get(Service, service_id)
        return _service_row(svc) if svc is not None and svc.organization_id == organization_id else None


def _incident_rows(session: Session, incidents: list[Incident]) -> list[IncidentRow]:
    ids = [i.id for i in incidents]
    if not ids:
        return []
    updates: dict[int, list[UpdateRow]] = {i: [] for i in ids}
    for u in session.exec(
        select(IncidentUpdate)
        .where(IncidentUpdate.incident_id.in_(ids))
        .order_by(IncidentUpdate.display_at.desc(), IncidentUpdate.id.desc())
    ):
        updates[u.incident_id].append(UpdateRow(u.id, u.status, u.message, list(u.service_changes or []),
                                                u.created_at, u.display_at))
    services: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for inc_id, sid, name, status in session.exec(
        select(IncidentService.incident_id, Service.id, Service.name, IncidentService.status)
        .join(Service, Service.id == IncidentService.service_id)
        .where(IncidentService.incident_id.in_(ids))
        .order_by(Service.position, Service.id)
    ):
        services[inc_id].append({"service_id": sid, "name": name, "status": status})
    return [
        IncidentRow(i.id, i.title, i.impact, i.status, i.started_at, i.identified_at, i.monitoring_at, i.resolved_at,
                    i.created_at, i.updated_at, services[i.id], updates[i.id])
        for i in incidents
    ]


def list_incidents(organization_id: int, *, state: str = "all", limit: int = INCIDENT_PAGE_SIZE) -> list[IncidentRow]:
    """Newest first; `state`: "active", "resolved" (resolved or postmortem) or "all"."""
    query = select(Incident).where(Incident.organization_id == organization_id)
    if state == "active":
        query = query.where(Incident.status.in_(IncidentStatus.active_values()))
    elif state == "resolved":
        query = query.where(Incident.status.not_in(IncidentStatus.active_values()))
    limit = max(1, min(limit, MAX_INCIDENT_PAGE_SIZE))
    with session_scope() as session:
        incidents = list(session.exec(query.order_by(Incident.created_at.desc(), Incident.id.desc()).limit(limit)))
        return _incident_rows(session, incidents)


def get_incident(organization_id: int, incident_id: int) -> IncidentRow | None:
    with session_scope() as session:
        inc = session.get(Incident, incident_id)
        if inc is None or inc.organization_id != organization_id:
            return None
        return _incident_rows(session, [inc])[0]


def list_api_keys(organization_id: int) -> list[ApiKeyRow]:
    """The organization's keys, live ones first (for the console; never the token or its hash)."""
    with session_scope() as session:
        keys = session.exec(select(ApiKey).where(ApiKey.organization_id == organization_id).order_by(ApiKey.id.desc()))
        rows = [ApiKeyRow(k.id, k.name, k.prefix, k.created_at, k.revoked_at) for k in keys]
    return sorted(rows, key=lambda k: k.revoked_at is not None)


# ---- maintenance ------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class MaintenanceUpdateRow:
    id: int
    status: str
    message: str
    source: str  # ChangeCause value: "manual", or "maintenance" for the clock
    deliver_notifications: bool
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class MaintenanceRow:
    id: int
    title: str
    description: str
    status: str
    scheduled_for: dt.datetime
    scheduled_until: dt.datetime
    started_at: dt.datetime | None
    verifying_at: dt.datetime | None
    completed_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    auto_start: bool
    auto_complete: bool
    notify_on_create: bool
    remind_minutes_before: int | None
    notify_on_start: bool
    notify_on_complete: bool
    reminded_at: dt.datetime | None
    series_id: int | None
    occurrence_start: dt.datetime | None
    detached: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    services: list[dict[str, Any]]  # [{service_id, name, status}]: the service's shown status now
    updates: list[MaintenanceUpdateRow]  # newest first


@dataclasses.dataclass(frozen=True)
class OccurrenceRow:
    id: int
    status: str
    scheduled_for: dt.datetime
    scheduled_until: dt.datetime
    detached: bool


@dataclasses.dataclass(frozen=True)
class SeriesRow:
    id: int
    title: str
    description: str
    rrule: str
    dtstart_local: str
    time_zone: str
    duration_minutes: int
    remind_minutes_before: int | None
    notify_on_start: bool
    notify_on_complete: bool
    auto_start: bool
    auto_complete: bool
    cancelled_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    services: list[dict[str, Any]]  # [{service_id, name, status}]
    occurrences: list[OccurrenceRow]  # the open ones (scheduled or under way), soonest first


def _services_of(session: Session, link, key, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for owner, sid, name, status in session.exec(
        select(key, Service.id, Service.name, Service.status)
        .join(Service, Service.id == link.service_id)
        .where(key.in_(ids))
        .order_by(Service.position, Service.id)
    ):
        out[owner].append({"service_id": sid, "name": name, "status": status})
    return out


def _maintenance_rows(session: Session, rows: list[Maintenance]) -> list[MaintenanceRow]:
    ids = [m.id for m in rows]
    if not ids:
        return []
    updates: dict[int, list[MaintenanceUpdateRow]] = {i: [] for i in ids}
    for u in session.exec(
        select(MaintenanceUpdate)
        .where(MaintenanceUpdate.maintenance_id.in_(ids))
        .order_by(MaintenanceUpdate.created_at.desc(), MaintenanceUpdate.id.desc())
    ):
        updates[u.maintenance_id].append(
            MaintenanceUpdateRow(u.id, u.status, u.message, u.source, u.deliver_notifications, u.created_at))
    services = _services_of(session, MaintenanceService, MaintenanceService.maintenance_id, ids)
    return [
        MaintenanceRow(
            m.id, m.title, m.description, m.status, m.scheduled_for, m.scheduled_until, m.started_at,
            m.verifying_at, m.completed_at, m.cancelled_at, m.auto_start, m.auto_complete, m.notify_on_create,
            m.remind_minutes_before, m.notify_on_start, m.notify_on_complete, m.reminded_at, m.series_id,
            m.occurrence_start, m.detached, m.created_at, m.updated_at, services[m.id], updates[m.id],
        )
        for m in rows
    ]


def list_maintenances(organization_id: int, *, state: str = "all", series_id: int | None = None,
                      limit: int = MAINTENANCE_PAGE_SIZE) -> list[MaintenanceRow]:
    """`state`: "upcoming" (scheduled, soonest first), "active" (in progress or verifying,
    soonest first), "past" (completed or cancelled, latest first), "open" (upcoming and
    active, soonest first) or "all" (latest start first)."""
    query = select(Maintenance).where(Maintenance.organization_id == organization_id)
    if series_id is not None:
        query = query.where(Maintenance.series_id == series_id)
    soonest = (Maintenance.scheduled_for, Maintenance.id)
    latest = (Maintenance.scheduled_for.desc(), Maintenance.id.desc())
    if state == "upcoming":
        query = query.where(Maintenance.status == MaintenanceStatus.scheduled.value).order_by(*soonest)
    elif state == "active":
        query = query.where(Maintenance.status.in_(MaintenanceStatus.active_values())).order_by(*soonest)
    elif state == "open":
        query = query.where(Maintenance.status.in_(MaintenanceStatus.open_values())).order_by(*soonest)
    elif state == "past":
        query = query.where(Maintenance.status.not_in(MaintenanceStatus.open_values())).order_by(*latest)
    else:
        query = query.order_by(*latest)
    limit = max(1, min(limit, MAX_MAINTENANCE_PAGE_SIZE))
    with session_scope() as session:
        return _maintenance_rows(session, list(session.exec(query.limit(limit))))


def get_maintenance(organization_id: int, maintenance_id: int) -> MaintenanceRow | None:
    with session_scope() as session:
        m = session.get(Maintenance, maintenance_id)
        if m is None or m.organization_id != organization_id:
            return None
        return _maintenance_rows(session, [m])[0]


def _series_rows(session: Session, rows: list[MaintenanceSeries]) -> list[SeriesRow]:
    ids = [r.id for r in rows]
    if not ids:
        return []
    services = _services_of(session, MaintenanceSeriesService, MaintenanceSeriesService.series_id, ids)
    occurrences: dict[int, list[OccurrenceRow]] = {i: [] for i in ids}
    for m in session.exec(
        select(Maintenance)
        .where(Maintenance.series_id.in_(ids), Maintenance.status.in_(MaintenanceStatus.open_values()))
        .order_by(Maintenance.scheduled_for, Maintenance.id)
    ):
        occurrences[m.series_id].append(OccurrenceRow(m.id, m.status, m.scheduled_for, m.scheduled_until, m.detached))
    return [
        SeriesRow(
            r.id, r.title, r.description, r.rrule, r.dtstart_local, r.time_zone, r.duration_minutes,
            r.remind_minutes_before, r.notify_on_start, r.notify_on_complete, r.auto_start, r.auto_complete,
            r.cancelled_at, r.created_at, r.updated_at, services[r.id], occurrences[r.id],
        )
        for r in rows
    ]


def list_series(organization_id: int) -> list[SeriesRow]:
    """Live series first, then cancelled ones; newest first within each."""
    with session_scope() as session:
        rows = list(session.exec(
            select(MaintenanceSeries).where(MaintenanceSeries.organization_id == organization_id)
            .order_by(MaintenanceSeries.id.desc())
        ))
        return sorted(_series_rows(session, rows), key=lambda r: r.cancelled_at is not None)


def get_series(organization_id: int, series_id: int) -> SeriesRow | None:
    with session_scope() as session:
        row = session.get(MaintenanceSeries, series_id)
        if row is None or row.organization_id != organization_id:
            return None
        return _series_rows(session, [row])[0]
