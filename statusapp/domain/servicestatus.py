"""Recomputing a service's displayed status and recording every change of it.

Concurrency: the shown status is derived from several rows (the service's manual status and
monitor verdict, each active incident's per-service status, each maintenance in progress). Two
transactions that each change one input and derive from the other's old value would leave a
wrong status (write skew), and two that change one
service at once would both record the same `from_status` (a broken history chain). So every
operation that derives locks the service rows first, in id order (`lock_services`), and reads
its inputs only after: the second transaction waits, then sees what the first committed.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, select

from statusapp.domain.base import Actor, UnitOfWork
from statusapp.domain.events import StatusChange
from statusapp.domain.status import derive_service_status
from statusapp.enums import ChangeCause, IncidentStatus, MaintenanceStatus
from statusapp.models import (
    Incident,
    IncidentService,
    Maintenance,
    MaintenanceService,
    Service,
    ServiceStatusChange,
    utcnow,
)

def lock_services(session: Session, service_ids: Iterable[int]) -> dict[int, Service]:
    """Lock these services (SELECT ... FOR UPDATE, ascending ids: no deadlock between writers)
    and return them freshly read. SQLite has no row locks: its write units hold the database
    lock from their start instead (BEGIN IMMEDIATE, statusapp.db)."""
    ids = sorted(set(service_ids))
    if not ids:
        return {}
    rows = session.exec(
        select(Service)
        .where(Service.id.in_(ids))
        .order_by(Service.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {svc.id: svc for svc in rows}


def active_incident_statuses(session: Session, service_ids: Iterable[int]) -> dict[int, list[str]]:
    """service id -> the statuses every active incident imposes on it."""
    ids = list(service_ids)
    out: dict[int, list[str]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = session.exec(
        select(IncidentService.service_id, IncidentService.status)
        .join(Incident, Incident.id == IncidentService.incident_id)
        .where(IncidentService.service_id.in_(ids), Incident.status.in_(IncidentStatus.active_values()))
    ).all()
    for sid, status in rows:
        out[sid].append(status)
    return out


def services_under_maintenance(session: Session, service_ids: Iterable[int]) -> set[int]:
    """The services (of `service_ids`) some maintenance in progress (or verifying) affects."""
    ids = list(service_ids)
    if not ids:
        return set()
    rows = session.exec(
        select(MaintenanceService.service_id)
        .join(Maintenance, Maintenance.id == MaintenanceService.maintenance_id)
        .where(MaintenanceService.service_id.in_(ids), Maintenance.status.in_(MaintenanceStatus.active_values()))
    ).all()
    return set(rows)


def recompute_services(
    uow: UnitOfWork,
    services: Iterable[Service],
    *,
    actor: Actor,
    cause: ChangeCause,
    incident_id: int | None = None,
    maintenance_id: int | None = None,
) -> list[StatusChange]:
    """Set each service's derived status; write a ServiceStatusChange for each that changed.

    The caller has locked `services` (`lock_services`) before changing any input. Returns the
    changes for the caller's event.
    """
    session = uow.session
    services = list(services)
    session.flush()
    imposed = active_incident_statuses(session, [s.id for s in services])
    maintained = services_under_maintenance(session, [s.id for s in services])
    now = utcnow()
    changed: list[StatusChange] = []
    for svc in services:
        new = derive_service_status(
            svc.manual_status, imposed[svc.id], svc.monitor_status, under_maintenance=svc.id in maintained
        ).value
        if new == svc.status:
            continue
        session.add(
            ServiceStatusChange(
                organization_id=svc.organization_id,
                service_id=svc.id,
                service_name=svc.name,
                from_status=svc.status,
                to_status=new,
                cause=cause.value,
                incident_id=incident_id,
                maintenance_id=maintenance_id,
                actor_user_id=actor.user_id,
                actor_api_key_id=actor.api_key_id,
                changed_at=now,
            )
        )
        changed.append(StatusChange(service_id=svc.id, name=svc.name, old_status=svc.status, new_status=new))
        svc.status = new
        svc.updated_at = now
        session.add(svc)
    return changed
