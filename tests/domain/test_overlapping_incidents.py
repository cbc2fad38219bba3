"""Overlapping incidents: each withdraws only its own impact when resolved. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from statusapp.domain import incidents, services
from statusapp.models import Service
from tests.domain.helpers import DEG, MAINT, MAJOR, OP, PART, declare, load, new_service, status_of


def test_resolving_first_of_two_overlapping_incidents_keeps_the_second(org):
    api = new_service(org, "api")
    first = declare(org, {api.id: DEG}, impact="minor")
    assert status_of(api.id) == DEG
    second = declare(org, {api.id: PART}, impact="major")
    assert status_of(api.id) == PART

    incidents.resolve_incident(actor=org, incident_id=first.id)
    assert status_of(api.id) == PART  # the second incident still imposes its status

    incidents.resolve_incident(actor=org, incident_id=second.id)
    assert status_of(api.id) == OP


def test_resolving_worse_incident_first_falls_back_to_the_other(org):
    api = new_service(org, "api")
    first = declare(org, {api.id: DEG}, impact="minor")
    second = declare(org, {api.id: PART}, impact="major")

    incidents.resolve_incident(actor=org, incident_id=second.id)
    assert status_of(api.id) == DEG  # not operational: the first incident is still open

    incidents.resolve_incident(actor=org, incident_id=first.id)
    assert status_of(api.id) == OP


def test_manual_major_outage_survives_incident_resolution(org):
    api = new_service(org, "api")
    services.set_manual_status(actor=org, service_id=api.id, status=MAJOR)
    inc = declare(org, {api.id: DEG})
    assert status_of(api.id) == MAJOR  # manual is worse: it wins

    incidents.resolve_incident(actor=org, incident_id=inc.id)
    svc = load(Service, api.id)
    assert (svc.manual_status, svc.status) == (MAJOR, MAJOR)


def test_incident_worse_than_manual_status_wins_until_resolved(org):
    api = new_service(org, "api")
    services.set_manual_status(actor=org, service_id=api.id, status=DEG)
    inc = declare(org, {api.id: MAJOR}, impact="critical")
    assert status_of(api.id) == MAJOR

    incidents.resolve_incident(actor=org, incident_id=inc.id)
    assert status_of(api.id) == DEG  # back to the manual status, not operational


def test_manual_status_change_during_incident_shows_worst(org):
    api = new_service(org, "api")
    declare(org, {api.id: PART}, impact="major")
    services.set_manual_status(actor=org, service_id=api.id, status=MAINT)
    assert status_of(api.id) == PART
    services.set_manual_status(actor=org, service_id=api.id, status=MAJOR)
    assert status_of(api.id) == MAJOR
    services.set_manual_status(actor=org, service_id=api.id, status=OP)
    assert status_of(api.id) == PART


def test_incident_service_without_status_gets_impact_default(org):
    a, b, c = new_service(org, "a"), new_service(org, "b"), new_service(org, "c")
    declare(org, {a.id: None}, impact="minor")
    declare(org, {b.id: ""}, impact="major")
    declare(org, {c.id: None}, impact="critical")
    assert [status_of(a.id), status_of(b.id), status_of(c.id)] == [DEG, PART, MAJOR]
