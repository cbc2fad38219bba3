"""Helpers of the domain tests: fresh reads of what operations committed, short builders."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from statusapp.db import get_engine
from statusapp.domain import Actor, ValidationError, incidents, services
from statusapp.models import Incident, IncidentUpdate, Service, ServiceStatusChange, StatusPage
from statusapp.queries import public as queries

OP = "operational"
MAINT = "under_maintenance"
DEG = "degraded_performance"
PART = "partial_outage"
MAJOR = "major_outage"


def fresh() -> Session:
    """A new session, so reads see what is committed (no identity-map leftovers)."""
    return Session(get_engine(), expire_on_commit=False)


def load(model, ident):
    with fresh() as s:
        return s.get(model, ident)


def status_of(service_id: int) -> str:
    return load(Service, service_id).status


def history(service_id: int) -> list[ServiceStatusChange]:
    with fresh() as s:
        return list(
            s.exec(
                select(ServiceStatusChange)
                .where(ServiceStatusChange.service_id == service_id)
                .order_by(ServiceStatusChange.id)
            )
        )


def updates_of(incident_id: int) -> list[IncidentUpdate]:
    with fresh() as s:
        return list(
            s.exec(select(IncidentUpdate).where(IncidentUpdate.incident_id == incident_id).order_by(IncidentUpdate.id))
        )


def new_service(actor: Actor, slug: str, **kw) -> Service:
    return services.create_service(actor=actor, name=kw.pop("name", slug.upper()), slug=slug, **kw)


def declare(actor: Actor, service_statuses: dict | None, *, impact="minor", title="Something broke", **kw) -> Incident:
    return incidents.create_incident(
        actor=actor, title=title, impact=impact, message=kw.pop("message", "Investigating."),
        services=service_statuses, **kw,
    )


def view_of(slug: str, *, include_private: bool = False) -> queries.PageView:
    """The public view of the page at `slug` (with include_private, as if it were public)."""
    with fresh() as s:
        page = (
            s.exec(select(StatusPage).where(StatusPage.slug == slug)).first()
            if include_private
            else queries.find_page(s, slug)
        )
        return queries.page_view(s, page)


def expect_invalid(row_counts, field, fn, **kwargs):
    """`fn(**kwargs)` raises ValidationError naming `field`, and writes nothing at all."""
    before = row_counts()
    with pytest.raises(ValidationError) as exc:
        fn(**kwargs)
    assert field in exc.value.errors, exc.value.errors
    assert exc.value.errors[field]  # a message a person can read
    assert row_counts() == before
    return exc.value


def assert_history_chain(service_id: int) -> None:
    """Each status history row starts where the previous one ended (uptime is computed from it)."""
    rows = history(service_id)
    assert rows and rows[0].from_status is None, "the first row is the service's creation"
    for prev, row in zip(rows, rows[1:]):
        assert row.from_status == prev.to_status, (
            f"history row {row.id} goes {row.from_status} -> {row.to_status}, but the row before ended at {prev.to_status}"
        )
    assert rows[-1].to_status == status_of(service_id), "the last row is the status shown now"
