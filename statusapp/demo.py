"""A small demo (organization, page `demo`, services in two groups, one resolved incident),
built through the domain operations like any other data."""

from __future__ import annotations

from sqlmodel import select

from statusapp.db import session_scope
from statusapp.domain import Actor
from statusapp.domain import incidents, organizations, pages, services
from statusapp.models import Organization, StatusPage


def first_organization_id() -> int | None:
    with session_scope() as session:
        org = session.exec(select(Organization).order_by(Organization.id)).first()
        return org.id if org else None


def ensure_organization(name: str = "My Company") -> int:
    org_id = first_organization_id()
    if org_id is None:
        org_id = organizations.create_organization(name=name).id
    return org_id


def load_demo(organization_id: int | None = None) -> bool:
    """Create the demo page unless a page exists already; returns whether it did."""
    with session_scope() as session:
        if session.exec(select(StatusPage)).first() is not None:
            return False
    actor = Actor(organization_id or ensure_organization())
    core = services.create_group(actor=actor, name="Core platform")
    edge = services.create_group(actor=actor, name="Regions")
    created = [
        services.create_service(actor=actor, name="Website", slug="website", group_id=core.id,
                                description="Marketing site and dashboard"),
        services.create_service(actor=actor, name="API", slug="api", group_id=core.id,
                                description="Public REST API"),
        services.create_service(actor=actor, name="Background jobs", slug="jobs", group_id=core.id),
        services.create_service(actor=actor, name="EU West", slug="eu-west", group_id=edge.id),
        services.create_service(actor=actor, name="US East", slug="us-east", group_id=edge.id),
        services.create_service(actor=actor, name="Email delivery", slug="email"),
    ]
    pages.create_page(
        actor=actor,
        name="Demo Status",
        slug="demo",
        description="Live status of the demo platform.",
        service_ids=[s.id for s in created],
    )
    inc = incidents.create_incident(
        actor=actor,
        title="Elevated API error rates",
        impact="minor",
        message="We are investigating elevated error rates on the API.",
        services={created[1].id: "degraded_performance"},
        deliver_notifications=False,
    )
    incidents.post_update(actor=actor, incident_id=inc.id, status="identified",
                          message="A faulty deploy was identified and is being rolled back.",
                          deliver_notifications=False)
    incidents.resolve_incident(actor=actor, incident_id=inc.id,
                               message="The rollback is complete; error rates are back to normal.",
                               deliver_notifications=False)
    return True
