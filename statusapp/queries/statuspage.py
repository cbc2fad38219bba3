"""The read model behind the public JSON API (Statuspage's v2 shapes), badges and feeds.

One load gives everything those documents show of a page, as raw values: ids, enum values,
aware UTC datetimes (the API formats them in the page's time zone). It is separate from the
UI's PageView because the documents need what a person does not see: creation and update
times of every component, positions within a group, group ids, and for each incident update
the services it changed with their old and new status (`IncidentUpdate.service_changes`).

Scheduled maintenance is loaded the same way: every open window of the page (scheduled, in
progress, verifying; at most OPEN_MAINTENANCE_LIMIT, soonest first) and the most recent closed
ones (completed or cancelled, MAINTENANCE_LIMIT), with their timeline and services. A
maintenance belongs to a page as an incident does: it affects one of the page's services, or
it names no service at all (org-wide).

Cost: a fixed number of queries (page, services, groups, two incident queries, their updates,
their services, and the same three for maintenances), whatever the page holds;
`INCIDENT_LIMIT` bounds the incidents.
Also here: the 90-day uptime of one service for the uptime badge (two index scans).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import exists, or_, union_all
from sqlmodel import Session, select

from statusapp.db import session_scope
from statusapp.domain.status import page_indicator, worst_service_status
from statusapp.domain.uptime import service_uptime, uptime_window
from statusapp.enums import IncidentStatus, MaintenanceStatus
from statusapp.models import (
    Incident,
    IncidentService,
    IncidentUpdate,
    Maintenance,
    MaintenanceService,
    MaintenanceUpdate,
    Service,
    ServiceGroup,
    ServiceStatusChange,
    StatusPage,
    StatusPageService,
    utcnow,
)
from statusapp.queries.public import find_page, find_root_page, page_incidents_query, page_services

INCIDENT_LIMIT = 50  # incidents.json: the 50 most recent, resolved included (as Statuspage)
MAINTENANCE_LIMIT = 50  # closed maintenances kept: the 50 most recent (completed or cancelled)
OPEN_MAINTENANCE_LIMIT = 200  # open ones: the soonest (series keep a bounded number ahead)
UPTIME_DAYS = 90


def group_component_id(group_id: int) -> str:
    """A group's component id: distinct from every service id (those are plain numbers)."""
    return f"g{group_id}"


@dataclasses.dataclass(frozen=True, slots=True)
class Component:
    """A service, or a group of services shown as one component with `children`."""

    id: str  # str(service id), or group_component_id(group id)
    name: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    position: int  # 1-based, within its parent (the page, or its group)
    description: str
    group_id: str | None  # the parent group's component id
    is_group: bool
    children: tuple[str, ...] = ()
    slug: str = ""  # services only


@dataclasses.dataclass(frozen=True, slots=True)
class AffectedComponent:
    code: str  # the component id
    name: str
    old_status: str
    new_status: str


@dataclasses.dataclass(frozen=True, slots=True)
class Update:
    id: int
    status: str
    body: str
    created_at: dt.datetime
    display_at: dt.datetime
    affected: tuple[AffectedComponent, ...]  # only components of this page
    deliver_notifications: bool


@dataclasses.dataclass(frozen=True, slots=True)
class IncidentData:
    id: int
    name: str
    status: str
    impact: str
    created_at: dt.datetime
    updated_at: dt.datetime
    started_at: dt.datetime
    monitoring_at: dt.datetime | None
    resolved_at: dt.datetime | None
    updates: tuple[Update, ...]  # newest first
    component_ids: tuple[str, ...]  # affected components of this page, in page order

    @property
    def active(self) -> bool:
        return IncidentStatus(self.status).is_active


@dataclasses.dataclass(frozen=True, slots=True)
class MaintenanceData:
    """A scheduled maintenance shown on the page (Statuspage: a scheduled incident)."""

    id: int
    name: str
    description: str  # Markdown source
    status: str  # MaintenanceStatus value
    created_at: dt.datetime
    updated_at: dt.datetime
    scheduled_for: dt.datetime
    scheduled_until: dt.datetime
    started_at: dt.datetime | None
    verifying_at: dt.datetime | None
    completed_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    updates: tuple[Update, ...]  # newest first (`affected` is empty: a window changes no status by update)
    component_ids: tuple[str, ...]  # affected components of this page, in page order
    service_names: tuple[str, ...]  # the same, by name (feeds, calendar)

    @property
    def upcoming(self) -> bool:
        return self.status == MaintenanceStatus.scheduled.value

    @property
    def active(self) -> bool:
        return MaintenanceStatus(self.status).is_active

    @property
    def cancelled(self) -> bool:
        return self.status == MaintenanceStatus.cancelled.value

    @property
    def ended_at(self) -> dt.datetime | None:
        """When it closed (completed or cancelled), None while open."""
        return self.completed_at or self.cancelled_at


@dataclasses.dataclass(frozen=True, slots=True)
class StatuspageData:
    page_id: int
    name: str
    slug: str
    domain: str  # the verified custom domain serving the page at `/`, "" when none
    time_zone: str
    updated_at: dt.datetime  # the newest change of anything the documents show
    indicator: str  # PageIndicator value
    components: tuple[Component, ...]  # display order: each group followed by its children
    incidents: tuple[IncidentData, ...]  # newest first: every active one + the most recent others
    # Open ones (soonest first), then the most recent closed ones (latest start first).
    maintenances: tuple[MaintenanceData, ...] = ()

    def component(self, component_id: str) -> Component | None:
        return next((c for c in self.components if c.id == component_id), None)

    def service_by_key(self, key: str) -> Component | None:
        """A service of the page by id or slug (badge URLs use either)."""
        found = self.component(key)
        if found is not None and not found.is_group:
            return found
        return next((c for c in self.components if not c.is_group and c.slug == key), None)


def _components(session: Session, page: StatusPage) -> tuple[list[Component], list[str]]:
    """Components in display order (groups in group order, each followed by its services,
    then ungrouped services), and every service's status."""
    services = page_services(session, page)
    group_ids = {s.group_id for s in services if s.group_id}
    groups = sorted(
        session.exec(select(ServiceGroup).where(ServiceGroup.id.in_(group_ids))) if group_ids else [],
        key=lambda g: (g.position, g.id),
    )
    children: dict[int, list[Service]] = {g.id: [] for g in groups}
    ungrouped: list[Service] = []
    for svc in services:
        (children[svc.group_id] if svc.group_id in children else ungrouped).append(svc)

    def service_component(svc: Service, position: int, parent: str | None) -> Component:
        return Component(str(svc.id), svc.name, svc.status, svc.created_at, svc.updated_at, position,
                         svc.description, parent, False, (), svc.slug)

    out: list[Component] = []
    for pos, grp in enumerate(groups, start=1):
        gid = group_component_id(grp.id)
        kids = children[grp.id]
        out.append(
            Component(
                gid, grp.name, worst_service_status(s.status for s in kids).value, grp.created_at,
                max([grp.created_at, *(s.updated_at for s in kids)]), pos, grp.description, None, True,
                tuple(str(s.id) for s in kids),
            )
        )
        out += [service_component(s, i, gid) for i, s in enumerate(kids, start=1)]
    out += [service_component(s, i, None) for i, s in enumerate(ungrouped, start=len(groups) + 1)]
    return out, [s.status for s in services]


def _incidents(session: Session, page: StatusPage, service_ids: dict[int, str]) -> list[IncidentData]:
    base = page_incidents_query(page)
    active_values = IncidentStatus.active_values()
    active = list(session.exec(base.where(Incident.status.in_(active_values))))
    recent = list(session.exec(base.order_by(Incident.created_at.desc(), Incident.id.desc()).limit(INCIDENT_LIMIT)))
    by_id = {i.id: i for i in active + recent}
    if not by_id:
        return []
    ids = list(by_id)
    updates: dict[int, list[Update]] = {i: [] for i in ids}
    for upd in session.exec(
        select(IncidentUpdate)
        .where(IncidentUpdate.incident_id.in_(ids))
        .order_by(IncidentUpdate.display_at.desc(), IncidentUpdate.id.desc())
    ):
        affected = tuple(
            AffectedComponent(service_ids[c["service_id"]], c["name"], c["old_status"], c["new_status"])
            for c in upd.service_changes or ()
            if c.get("service_id") in service_ids
        )
        updates[upd.incident_id].append(
            Update(upd.id, upd.status, upd.message, upd.created_at, upd.display_at, affected, upd.deliver_notifications)
        )
    position = {sid: i for i, sid in enumerate(service_ids)}
    touched: dict[int, list[int]] = {i: [] for i in ids}
    for inc_id, sid in session.exec(
        select(IncidentService.incident_id, IncidentService.service_id).where(IncidentService.incident_id.in_(ids))
    ):
        if sid in position:
            touched[inc_id].append(sid)
    incidents = sorted(by_id.values(), key=lambda i: (i.created_at, i.id), reverse=True)
    return [
        IncidentData(
            inc.id, inc.title, inc.status, inc.impact, inc.created_at, inc.updated_at, inc.started_at,
            inc.monitoring_at, inc.resolved_at, tuple(updates[inc.id]),
            tuple(service_ids[s] for s in sorted(touched[inc.id], key=position.__getitem__)),
        )
        for inc in incidents
    ]


def page_maintenances_query(page: StatusPage):
    """Maintenances shown on a page: those affecting one of its services, and org-wide ones
    (no affected service), as for incidents."""
    on_page = exists().where(
        MaintenanceService.maintenance_id == Maintenance.id,
        MaintenanceService.service_id == StatusPageService.service_id,
        StatusPageService.page_id == page.id,
    )
    no_services = ~exists().where(MaintenanceService.maintenance_id == Maintenance.id)
    return select(Maintenance).where(Maintenance.organization_id == page.organization_id, or_(on_page, no_services))


def _maintenances(session: Session, page: StatusPage, service_ids: dict[int, str],
                  names: dict[int, str]) -> list[MaintenanceData]:
    base = page_maintenances_query(page)
    open_values = MaintenanceStatus.open_values()
    opened = list(session.exec(
        base.where(Maintenance.status.in_(open_values))
        .order_by(Maintenance.scheduled_for, Maintenance.id).limit(OPEN_MAINTENANCE_LIMIT)
    ))
    closed = list(session.exec(
        base.where(Maintenance.status.not_in(open_values))
        .order_by(Maintenance.scheduled_for.desc(), Maintenance.id.desc()).limit(MAINTENANCE_LIMIT)
    ))
    rows = opened + closed
    if not rows:
        return []
    ids = [m.id for m in rows]
    updates: dict[int, list[Update]] = {i: [] for i in ids}
    for upd in session.exec(
        select(MaintenanceUpdate)
        .where(MaintenanceUpdate.maintenance_id.in_(ids))
        .order_by(MaintenanceUpdate.created_at.desc(), MaintenanceUpdate.id.desc())
    ):
        updates[upd.maintenance_id].append(
            Update(upd.id, upd.status, upd.message, upd.created_at, upd.created_at, (), upd.deliver_notifications)
        )
    position = {sid: i for i, sid in enumerate(service_ids)}
    touched: dict[int, list[int]] = {i: [] for i in ids}
    for m_id, sid in session.exec(
        select(MaintenanceService.maintenance_id, MaintenanceService.service_id)
        .where(MaintenanceService.maintenance_id.in_(ids))
    ):
        if sid in position:
            touched[m_id].append(sid)
    out = []
    for m in rows:
        on_page = sorted(touched[m.id], key=position.__getitem__)
        out.append(MaintenanceData(
            m.id, m.title, m.description, m.status, m.created_at, m.updated_at, m.scheduled_for,
            m.scheduled_until, m.started_at, m.verifying_at, m.completed_at, m.cancelled_at,
            tuple(updates[m.id]), tuple(service_ids[s] for s in on_page), tuple(names[s] for s in on_page),
        ))
    return out


def statuspage_data(session: Session, page: StatusPage) -> StatuspageData:
    components, statuses = _components(session, page)
    service_ids = {int(c.id): c.id for c in components if not c.is_group}
    names = {int(c.id): c.name for c in components if not c.is_group}
    incidents = _incidents(session, page, service_ids)
    maintenances = _maintenances(session, page, service_ids, names)
    indicator = page_indicator(statuses, [i.impact for i in incidents if i.active],
                               maintenance_active=any(m.active for m in maintenances))
    updated_at = max(
        [page.updated_at, *(c.updated_at for c in components), *(i.updated_at for i in incidents),
         *(m.updated_at for m in maintenances)]
    )
    return StatuspageData(
        page.id, page.name, page.slug, page.verified_domain or "", page.time_zone or "UTC", updated_at,
        indicator.value, tuple(components), tuple(incidents), tuple(maintenances),
    )


def load_statuspage(slug: str | None, host: str | None) -> StatuspageData | None:
    """The public page at `/status/<slug>` (slug None: the page `/` shows for this Host), or
    None when there is no such public page."""
    with session_scope() as session:
        page = find_page(session, slug) if slug is not None else find_root_page(session, host)
        return statuspage_data(session, page) if page is not None else None


def load_service_uptime(service_id: int, time_zone: str, *, days: int = UPTIME_DAYS) -> float | None:
    """A service's uptime (percent) over the page's last `days` local days; None without data.

    Reads the status in effect at the window's start and the changes after it: two range scans
    of ix_status_change_service_at, however long the history (see domain/uptime.py).
    """
    window = uptime_window(days, time_zone, utcnow())
    sc = ServiceStatusChange
    before = (
        select(sc.changed_at, sc.to_status, sc.id)
        .where(sc.service_id == service_id, sc.changed_at <= window.start)
        .order_by(sc.changed_at.desc(), sc.id.desc())
        .limit(1)
        .subquery()
    )
    after = select(sc.changed_at, sc.to_status, sc.id).where(sc.service_id == service_id, sc.changed_at > window.start)
    query = union_all(select(before.c.changed_at, before.c.to_status, before.c.id), after)
    with session_scope() as session:
        rows = sorted(session.exec(query).all(), key=lambda r: (r[0], r[2]))
    timeline = [(at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc), status) for at, status, _ in rows]
    return service_uptime(timeline, window).uptime
