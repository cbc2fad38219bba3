"""Tenant isolation: another organization's ids are not found. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from statusapp.domain import NotFound, incidents, pages, services
from statusapp.models import Incident, Service, StatusPage
from tests.domain.helpers import DEG, MAJOR, OP, declare, expect_invalid, load, new_service, status_of


def test_other_organization_gets_not_found(org, other_org, row_counts):
    api = new_service(org, "api")
    inc = declare(org, {api.id: DEG})
    page = pages.create_page(actor=org, name="Acme", slug="acme", service_ids=[api.id])
    group = services.create_group(actor=org, name="Core")
    before = row_counts()

    attempts = [
        lambda: services.set_manual_status(actor=other_org, service_id=api.id, status=MAJOR),
        lambda: services.update_service(actor=other_org, service_id=api.id, name="Hijacked"),
        lambda: services.delete_service(actor=other_org, service_id=api.id),
        lambda: services.update_group(actor=other_org, group_id=group.id, name="Hijacked"),
        lambda: incidents.post_update(actor=other_org, incident_id=inc.id, status="identified", message="m"),
        lambda: incidents.resolve_incident(actor=other_org, incident_id=inc.id),
        lambda: incidents.edit_incident(actor=other_org, incident_id=inc.id, title="Hijacked"),
        lambda: incidents.delete_incident(actor=other_org, incident_id=inc.id),
        lambda: pages.update_page(actor=other_org, page_id=page.id, name="Hijacked"),
        lambda: pages.delete_page(actor=other_org, page_id=page.id),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            attempt()
    assert row_counts() == before
    assert (load(Service, api.id).name, status_of(api.id)) == ("API", DEG)
    assert load(Incident, inc.id).status == "investigating"
    assert load(StatusPage, page.id).name == "Acme"


def test_other_organization_cannot_reference_foreign_services(org, other_org, row_counts):
    api = new_service(org, "api")
    group = services.create_group(actor=org, name="Core")
    expect_invalid(
        row_counts, "services", incidents.create_incident,
        actor=other_org, title="T", impact="major", message="m", services={api.id: MAJOR},
    )
    expect_invalid(row_counts, "service_ids", pages.create_page, actor=other_org, name="P", slug="p", service_ids=[api.id])
    expect_invalid(row_counts, "group_id", services.create_service, actor=other_org, name="S", slug="s", group_id=group.id)
    assert status_of(api.id) == OP
