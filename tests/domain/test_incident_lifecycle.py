"""Incident lifecycle: declare, update, resolve, reopen, postmortem, delete. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from statusapp.domain import ValidationError, incidents, services
from statusapp.models import Incident, IncidentService, Service, ServiceStatusChange, utcnow
from tests.domain.helpers import DEG, MAJOR, OP, PART, declare, fresh, history, load, new_service, status_of, updates_of


def test_create_incident_records_first_update_with_service_changes(org):
    api = new_service(org, "api", name="API")
    web = new_service(org, "web", name="Website")
    inc = incidents.create_incident(
        actor=org, title="API errors", impact="major", message="Looking into it.",
        services={api.id: PART, str(web.id): DEG}, deliver_notifications=False,
    )
    got = load(Incident, inc.id)
    assert (got.title, got.impact, got.status, got.resolved_at) == ("API errors", "major", "investigating", None)

    [first] = updates_of(inc.id)
    assert first.status == "investigating"
    assert first.message == "Looking into it."
    assert first.deliver_notifications is False
    assert sorted(first.service_changes, key=lambda c: c["service_id"]) == [
        {"service_id": api.id, "name": "API", "old_status": OP, "new_status": PART},
        {"service_id": web.id, "name": "Website", "old_status": OP, "new_status": DEG},
    ]
    assert (status_of(api.id), status_of(web.id)) == (PART, DEG)


def test_post_update_changes_incident_and_service_statuses(org):
    api = new_service(org, "api", name="API")
    inc = declare(org, {api.id: DEG})
    upd = incidents.post_update(
        actor=org, incident_id=inc.id, status="identified", message="Found it.", services={api.id: MAJOR}
    )
    assert upd.service_changes == [{"service_id": api.id, "name": "API", "old_status": DEG, "new_status": MAJOR}]
    assert status_of(api.id) == MAJOR
    got = load(Incident, inc.id)
    assert got.status == "identified"
    assert got.identified_at is not None and got.resolved_at is None

    upd2 = incidents.post_update(actor=org, incident_id=inc.id, status="monitoring", message="Fix deployed.")
    assert upd2.service_changes == []  # no service change asked for
    assert status_of(api.id) == MAJOR
    assert load(Incident, inc.id).monitoring_at is not None
    assert [u.status for u in updates_of(inc.id)] == ["investigating", "identified", "monitoring"]


def test_resolve_sets_resolved_at_and_reopen_clears_it(org):
    api = new_service(org, "api")
    inc = declare(org, {api.id: PART})
    before = utcnow()
    upd = incidents.resolve_incident(actor=org, incident_id=inc.id, message="All good.")
    assert upd.status == "resolved"
    assert upd.service_changes == [{"service_id": api.id, "name": "API", "old_status": PART, "new_status": OP}]
    got = load(Incident, inc.id)
    assert got.status == "resolved"
    assert got.resolved_at is not None and got.resolved_at >= before - dt.timedelta(seconds=1)
    assert status_of(api.id) == OP

    incidents.post_update(
        actor=org, incident_id=inc.id, status="investigating", message="It is back.", services={api.id: MAJOR}
    )
    got = load(Incident, inc.id)
    assert (got.status, got.resolved_at) == ("investigating", None)
    assert status_of(api.id) == MAJOR


def test_postmortem_requires_resolved_incident(org, row_counts):
    inc = declare(org, None)
    counts = row_counts()
    with pytest.raises(ValidationError) as exc:
        incidents.write_postmortem(actor=org, incident_id=inc.id, text="What happened.")
    assert "postmortem" in exc.value.errors
    assert row_counts() == counts
    assert load(Incident, inc.id).status == "investigating"

    incidents.resolve_incident(actor=org, incident_id=inc.id)
    incidents.write_postmortem(actor=org, incident_id=inc.id, text="Root cause: a typo.")
    got = load(Incident, inc.id)
    assert got.status == "postmortem"
    assert got.postmortem == "Root cause: a typo."
    assert got.postmortem_published_at is not None
    assert got.resolved_at is not None


def test_empty_published_postmortem_is_rejected(org):
    inc = declare(org, None)
    incidents.resolve_incident(actor=org, incident_id=inc.id)
    with pytest.raises(ValidationError) as exc:
        incidents.write_postmortem(actor=org, incident_id=inc.id, text="   ")
    assert "postmortem" in exc.value.errors
    assert load(Incident, inc.id).status == "resolved"


def test_delete_incident_withdraws_its_impact_and_keeps_history(org):
    api = new_service(org, "api")
    keep = declare(org, {api.id: DEG}, title="Keep me")
    gone = declare(org, {api.id: MAJOR}, impact="critical", title="Declared by mistake")
    assert status_of(api.id) == MAJOR

    incidents.delete_incident(actor=org, incident_id=gone.id)
    assert status_of(api.id) == DEG  # the other incident still counts
    assert load(Incident, gone.id) is None
    assert updates_of(gone.id) == []
    with fresh() as s:
        assert s.exec(select(IncidentService).where(IncidentService.incident_id == gone.id)).all() == []
    rows = history(api.id)
    # What was shown stays in the history; the deleted incident's id is nulled.
    assert [(r.from_status, r.to_status, r.cause) for r in rows] == [
        (None, OP, "manual"), (OP, DEG, "incident"), (DEG, MAJOR, "incident"), (MAJOR, DEG, "incident"),
    ]
    assert [r.incident_id for r in rows] == [None, keep.id, None, None]

    incidents.delete_incident(actor=org, incident_id=keep.id)
    assert status_of(api.id) == OP


def test_resolving_incident_affecting_a_deleted_service(org):
    api, web = new_service(org, "api"), new_service(org, "web")
    inc = declare(org, {api.id: DEG, web.id: DEG})
    services.delete_service(actor=org, service_id=web.id)
    assert load(Service, web.id) is None
    incidents.resolve_incident(actor=org, incident_id=inc.id)
    assert status_of(api.id) == OP
    with fresh() as s:
        orphan = s.exec(select(ServiceStatusChange).where(ServiceStatusChange.service_name == "WEB")).all()
    assert len(orphan) == 2 and all(r.service_id is None for r in orphan)
