"""Listeners hear of a change only after it commits. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlmodel import select

from statusapp.domain import NotFound, ValidationError, add_listener, pages, remove_listener, services
from statusapp.domain.base import unit_of_work
from statusapp.domain.events import EventKind, IncidentCreated, ServiceUpdated, StatusChange, payload_from_row
from statusapp.models import DomainEvent, Incident
from tests.domain.helpers import MAJOR, OP, PART, declare, fresh, load, new_service, status_of


def test_listener_hears_change_only_after_commit(org, capture_changes):
    api = new_service(org, "api")
    seen_in_db = []

    def check_committed(change):
        if change.kind == "incident.created":
            # A separate connection sees the incident: the transaction has committed.
            seen_in_db.append(load(Incident, change.payload.incident_id) is not None)

    add_listener(check_committed)
    try:
        capture_changes.clear()
        inc = declare(org, {api.id: PART})
    finally:
        remove_listener(check_committed)
    assert seen_in_db == [True]
    [change] = capture_changes.changes
    assert change.kind == EventKind.incident_created
    assert change.organization_id == org.organization_id
    assert isinstance(change.payload, IncidentCreated)
    assert change.payload.incident_id == inc.id
    assert change.payload.status_changes == [StatusChange(service_id=api.id, name="API", old_status=OP, new_status=PART)]
    # The same change is in the outbox, and reads back as the same typed payload.
    with fresh() as s:
        ev = s.exec(select(DomainEvent).order_by(DomainEvent.id.desc())).first()
    assert (ev.kind, ev.id, ev.processed_at) == ("incident.created", change.event_id, None)
    assert payload_from_row(ev.kind, ev.payload) == change.payload


def test_failed_operation_announces_nothing(org, capture_changes, row_counts):
    api = new_service(org, "api")
    capture_changes.clear()
    before = row_counts()
    with pytest.raises(ValidationError):
        services.set_manual_status(actor=org, service_id=api.id, status="nope")
    with pytest.raises(NotFound):
        services.set_manual_status(actor=org, service_id=api.id + 1000, status=MAJOR)
    with pytest.raises(ValidationError):
        pages.create_page(actor=org, name="P", slug="p", service_ids=[api.id + 1000])
    assert capture_changes.changes == []
    assert row_counts() == before


def test_change_announced_inside_rolled_back_transaction_is_dropped(org, capture_changes, row_counts):
    before = row_counts()
    capture_changes.clear()
    with pytest.raises(RuntimeError):
        with unit_of_work() as uow:
            uow.announce(org.organization_id, ServiceUpdated(service_id=1))
            raise RuntimeError("boom after announce")
    assert capture_changes.changes == []
    assert row_counts() == before  # the outbox row is rolled back too


def test_failing_listener_does_not_undo_the_change(org, capture_changes):
    def broken(change):
        raise RuntimeError("listener bug")

    add_listener(broken)
    try:
        api = new_service(org, "api")
        services.set_manual_status(actor=org, service_id=api.id, status=PART)
    finally:
        remove_listener(broken)
    assert status_of(api.id) == PART
    assert capture_changes.kinds[-2:] == ["service.created", "service.status_set"]
