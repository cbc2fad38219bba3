"""Incident operations: declare, post updates (with per-service status), resolve, postmortem.

Each incident keeps its own per-service status (IncidentService). A service shows the worst
of its manual status and what every ACTIVE incident imposes, so resolving one incident only
withdraws that incident's contribution (the seed's "set every affected service operational"
would wrongly clear another open incident's impact).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import delete, select

from statusapp.domain.base import Actor, UnitOfWork, unit_of_work
from statusapp.domain.errors import NotFound
from statusapp.domain.servicestatus import lock_services, recompute_services
from statusapp.domain.events import (
    IncidentCreated,
    IncidentDeleted,
    IncidentEdited,
    IncidentPostmortem,
    IncidentResolved,
    IncidentUpdated,
)
from statusapp.domain.validation import (
    MESSAGE_MAX,
    POSTMORTEM_MAX,
    TITLE_MAX,
    UNSET,
    Errors,
    clean_enum,
    clean_text,
    parse_id,
    shown,
)
from statusapp.enums import (
    IMPACT_DEFAULT_SERVICE_STATUS,
    ChangeCause,
    IncidentImpact,
    IncidentStatus,
    ServiceStatus,
)
from statusapp.models import Incident, IncidentService, IncidentUpdate, Service, utcnow

def _get_incident(session, actor: Actor, incident_id: int) -> Incident:
    """The incident, locked for this transaction: changes to one incident (its status, its
    per-service statuses) happen one after the other, each seeing the last."""
    key = parse_id(incident_id)
    inc = session.get(Incident, key, with_for_update=True, populate_existing=True) if key is not None else None
    if inc is None or inc.organization_id != actor.organization_id:
        raise NotFound("incident", incident_id)
    return inc


def _clean_service_statuses(
    session, actor: Actor, errors: Errors, services: Mapping[Any, Any] | None, default: ServiceStatus
) -> dict[int, ServiceStatus]:
    """{service id: status} from user input; a None/"" status means the impact's default."""
    out: dict[int, ServiceStatus] = {}
    if not services:
        return out
    for raw_id, raw_status in services.items():
        sid = parse_id(raw_id)
        if sid is None:
            errors.add("services", f"{shown(raw_id)} is not a service id.")
            continue
        svc = session.get(Service, sid)
        if svc is None or svc.organization_id != actor.organization_id:
            errors.add("services", f"Unknown service id {sid}.")
            continue
        if raw_status in (None, ""):
            out[sid] = default
        else:
            st = clean_enum(errors, "services", raw_status, ServiceStatus)
            if st is not None:
                out[sid] = st
    return out


def _apply_service_statuses(
    uow: UnitOfWork, inc: Incident, statuses: Mapping[int, ServiceStatus]
) -> list[dict]:
    """Set this incident's status on each service; returns [{service_id,name,old_status,new_status}]."""
    session = uow.session
    existing = {
        row.service_id: row
        for row in session.exec(select(IncidentService).where(IncidentService.incident_id == inc.id))
    }
    changes = []
    for sid, status in statuses.items():
        row = existing.get(sid)
        old = row.status if row else ServiceStatus.operational.value
        if row is None:
            row = IncidentService(incident_id=inc.id, service_id=sid, status=status.value)
        elif row.status == status.value:
            continue
        row.status = status.value
        session.add(row)
        changes.append(
            {"service_id": sid, "name": session.get(Service, sid).name, "old_status": old, "new_status": status.value}
        )
    return changes


def _affected_service_ids(session, inc: Incident) -> list[int]:
    return list(session.exec(select(IncidentService.service_id).where(IncidentService.incident_id == inc.id)))


def _stamp_status(inc: Incident, status: IncidentStatus) -> None:
    now = utcnow()
    inc.status = status.value
    inc.updated_at = now
    if status == IncidentStatus.identified and inc.identified_at is None:
        inc.identified_at = now
    if status == IncidentStatus.monitoring and inc.monitoring_at is None:
        inc.monitoring_at = now
    if status.is_active:
        inc.resolved_at = None  # reopened
    elif inc.resolved_at is None:
        inc.resolved_at = now


def _record_update(
    uow: UnitOfWork,
    actor: Actor,
    inc: Incident,
    *,
    message: str,
    statuses: Mapping[int, ServiceStatus],
    deliver_notifications: bool,
    event: type[IncidentCreated] | type[IncidentUpdated] | type[IncidentResolved],
) -> IncidentUpdate:
    """The timeline entry, the incident's per-service statuses, the services' shown status
    (with history) and the announcement: the common tail of declaring and updating."""
    s = uow.session
    # Lock every service whose shown status this update may change before reading any input.
    locked = lock_services(s, [*_affected_service_ids(s, inc), *statuses])
    svc_changes = _apply_service_statuses(uow, inc, statuses)
    update = IncidentUpdate(
        incident_id=inc.id,
        status=inc.status,
        message=message,
        service_changes=svc_changes,
        deliver_notifications=deliver_notifications,
        created_by_user_id=actor.user_id,
        created_by_api_key_id=actor.api_key_id,
        source=actor.source.value,
    )
    s.add(update)
    s.flush()
    affected = [locked[sid] for sid in sorted(_affected_service_ids(s, inc))]
    display_changes = recompute_services(uow, affected, actor=actor, cause=ChangeCause.incident, incident_id=inc.id)
    uow.announce(
        actor.organization_id,
        event(
            incident_id=inc.id,
            update_id=update.id,
            status_changes=display_changes,
            deliver_notifications=deliver_notifications,
        ),
    )
    return update


def create_incident(
    *,
    actor: Actor,
    title: str,
    impact: str,
    message: str,
    services: Mapping[Any, Any] | None = None,
    status: str = IncidentStatus.investigating.value,
    deliver_notifications: bool = True,
) -> Incident:
    """Declare an incident with its affected services (id -> status) and first message."""
    errors = Errors()
    title = clean_text(errors, "title", title, max_len=TITLE_MAX, required=True)
    impact_e = clean_enum(errors, "impact", impact, IncidentImpact)
    status_e = clean_enum(errors, "status", status, IncidentStatus)
    message = clean_text(errors, "message", message, max_len=MESSAGE_MAX, required=True)
    with unit_of_work() as uow:
        s = uow.session
        default = IMPACT_DEFAULT_SERVICE_STATUS.get(impact_e, ServiceStatus.degraded_performance)
        statuses = _clean_service_statuses(s, actor, errors, services, default)
        errors.raise_if_any()
        inc = Incident(organization_id=actor.organization_id, title=title, impact=impact_e.value)
        _stamp_status(inc, status_e)
        s.add(inc)
        s.flush()
        _record_update(uow, actor, inc, message=message, statuses=statuses,
                       deliver_notifications=deliver_notifications, event=IncidentCreated)
    return inc


def post_update(
    *,
    actor: Actor,
    incident_id: int,
    status: str,
    message: str,
    services: Mapping[Any, Any] | None = None,
    deliver_notifications: bool = True,
) -> IncidentUpdate:
    """Add a timeline entry; may change the incident status and per-service statuses.

    Resolving (status resolved/postmortem) sets this incident's status on every affected
    service to operational, unless `services` says otherwise explicitly.
    """
    errors = Errors()
    status_e = clean_enum(errors, "status", status, IncidentStatus)
    message = clean_text(errors, "message", message, max_len=MESSAGE_MAX, required=True)
    with unit_of_work() as uow:
        s = uow.session
        inc = _get_incident(s, actor, incident_id)
        statuses = _clean_service_statuses(s, actor, errors, services, ServiceStatus.operational)
        errors.raise_if_any()
        if not status_e.is_active:
            for sid in _affected_service_ids(s, inc):
                statuses.setdefault(sid, ServiceStatus.operational)
        _stamp_status(inc, status_e)
        s.add(inc)
        event = IncidentUpdated if status_e.is_active else IncidentResolved
        update = _record_update(uow, actor, inc, message=message, statuses=statuses,
                                deliver_notifications=deliver_notifications, event=event)
    return update


def resolve_incident(
    *, actor: Actor, incident_id: int, message: str = "This incident has been resolved.", deliver_notifications: bool = True
) -> IncidentUpdate:
    return post_update(
        actor=actor,
        incident_id=incident_id,
        status=IncidentStatus.resolved.value,
        message=message,
        deliver_notifications=deliver_notifications,
    )


def edit_incident(*, actor: Actor, incident_id: int, title: str = UNSET, impact: str = UNSET) -> Incident:
    """Correct an incident's title or impact (no timeline entry, no notification)."""
    errors = Errors()
    with unit_of_work() as uow:
        inc = _get_incident(uow.session, actor, incident_id)
        if title is not UNSET:
            inc.title = clean_text(errors, "title", title, max_len=TITLE_MAX, required=True)
        if impact is not UNSET:
            imp = clean_enum(errors, "impact", impact, IncidentImpact)
            if imp is not None:
                inc.impact = imp.value
        errors.raise_if_any()
        inc.updated_at = utcnow()
        uow.session.add(inc)
        uow.announce(actor.organization_id, IncidentEdited(incident_id=inc.id))
    return inc


def write_postmortem(*, actor: Actor, incident_id: int, text: str, publish: bool = True) -> Incident:
    """Write (and by default publish) the postmortem; a published one moves a resolved
    incident to status `postmortem`."""
    errors = Errors()
    text = clean_text(errors, "postmortem", text, max_len=POSTMORTEM_MAX, required=publish)
    errors.raise_if_any()
    with unit_of_work() as uow:
        inc = _get_incident(uow.session, actor, incident_id)
        if publish and IncidentStatus(inc.status).is_active:
            errors.add("postmortem", "Resolve the incident before publishing its postmortem.")
        errors.raise_if_any()
        inc.postmortem = text
        if publish:
            inc.postmortem_published_at = utcnow()
            inc.status = IncidentStatus.postmortem.value
        inc.updated_at = utcnow()
        uow.session.add(inc)
        uow.announce(actor.organization_id, IncidentPostmortem(incident_id=inc.id, published=publish))
    return inc


def delete_incident(*, actor: Actor, incident_id: int) -> None:
    """Delete an incident (e.g. declared by mistake): its impact is withdrawn from services,
    and the status history keeps the record of what was shown."""
    with unit_of_work() as uow:
        s = uow.session
        inc = _get_incident(s, actor, incident_id)
        affected = list(lock_services(s, _affected_service_ids(s, inc)).values())
        s.exec(delete(IncidentService).where(IncidentService.incident_id == inc.id))
        s.exec(delete(IncidentUpdate).where(IncidentUpdate.incident_id == inc.id))
        changes = recompute_services(uow, affected, actor=actor, cause=ChangeCause.incident, incident_id=None)
        s.delete(inc)
        uow.announce(actor.organization_id, IncidentDeleted(incident_id=incident_id, status_changes=changes))
