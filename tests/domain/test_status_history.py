"""Status history: every change of a shown status is recorded with its cause. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from statusapp.domain import Actor, incidents, services
from statusapp.enums import ChangeCause
from tests.domain.helpers import DEG, MAJOR, OP, PART, declare, history, new_service, status_of


def test_every_displayed_change_writes_history_with_cause(org):
    api = new_service(org, "api", name="API")
    rows = history(api.id)
    assert [(r.from_status, r.to_status, r.cause) for r in rows] == [(None, OP, "manual")]

    inc = declare(org, {api.id: PART}, impact="major")
    services.set_manual_status(actor=org, service_id=api.id, status=MAJOR)
    incidents.resolve_incident(actor=org, incident_id=inc.id)
    services.set_manual_status(actor=org, service_id=api.id, status=OP)

    rows = history(api.id)
    assert [(r.from_status, r.to_status, r.cause, r.incident_id) for r in rows] == [
        (None, OP, "manual", None),
        (OP, PART, "incident", inc.id),
        (PART, MAJOR, "manual", None),
        # resolving the incident changes nothing displayed (manual major outage): no row
        (MAJOR, OP, "manual", None),
    ]
    assert all(r.service_name == "API" and r.organization_id == org.organization_id for r in rows)


def test_resolution_writes_history_row_for_incident(org):
    api = new_service(org, "api")
    inc = declare(org, {api.id: DEG})
    incidents.resolve_incident(actor=org, incident_id=inc.id)
    rows = history(api.id)[1:]
    assert [(r.from_status, r.to_status, r.cause, r.incident_id) for r in rows] == [
        (OP, DEG, "incident", inc.id),
        (DEG, OP, "incident", inc.id),
    ]
    assert rows[0].changed_at <= rows[1].changed_at


def test_no_history_row_when_displayed_status_does_not_change(org, row_counts):
    api = new_service(org, "api")
    services.set_manual_status(actor=org, service_id=api.id, status=PART)
    before = len(history(api.id))

    services.set_manual_status(actor=org, service_id=api.id, status=PART)  # same again
    declare(org, {api.id: DEG})  # less severe than the manual status
    services.set_manual_status(actor=org, service_id=api.id, status=PART)
    assert len(history(api.id)) == before
    assert status_of(api.id) == PART


def test_monitor_actor_records_monitor_cause(org):
    api = new_service(org, "api")
    monitor = Actor(org.organization_id, source=ChangeCause.monitor)
    services.set_manual_status(actor=monitor, service_id=api.id, status=MAJOR)
    assert history(api.id)[-1].cause == "monitor"
