"""Recomputing a service's displayed status and recording every change of it."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, select

from statusapp.domain.base import Actor, UnitOfWork
from statusapp.domain.events import StatusChange
from statusapp.domain.status import derive_service_status
from statusapp.enums import ChangeCause, IncidentStatus
from statusapp.models import Incident, IncidentService, Service, ServiceStatusChange, utcnow

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


def recompute_services(
    uow: UnitOfWork,
    services: Iterable[Service],
    *,
    actor: Actor,
    cause: ChangeCause,
    incident_id: int | None = None,
) -> list[StatusChange]:
    """Set each service's derived status; write a ServiceStatusChange for each that changed.

    Returns the changes for the caller's event.
    """
    session = uow.session
    services = list(services)
    session.flush()
    imposed = active_incident_statuses(session, [s.id for s in services])
    now = utcnow()
    changed: list[StatusChange] = []
    for svc in services:
        new = derive_service_status(svc.manual_status, imposed[svc.id]).value
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
