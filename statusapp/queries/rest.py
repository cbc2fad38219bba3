"""Read models of the admin REST API (`/api/v1`): one organization's pages, services, incidents
and API keys, as raw values (ids, enum values, aware UTC datetimes).

Every lookup is scoped by organization: an id of another organization reads as absent, so the
API answers 404 exactly as for an id that never existed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlmodel import Session, select

from statusapp.db import session_scope
from statusapp.enums import IncidentStatus
from statusapp.models import ApiKey, Incident, IncidentService, IncidentUpdate, Service, StatusPage, StatusPageService

INCIDENT_PAGE_SIZE = 50
MAX_INCIDENT_PAGE_SIZE = 100


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
