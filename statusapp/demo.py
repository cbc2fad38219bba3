"""A demo that looks like a real page (organization, page `demo`, services in two groups,
three months of incidents, one service degraded now), built through the domain operations
like any other data."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from statusapp import clock
from statusapp.db import session_scope
from statusapp.domain import Actor
from statusapp.domain import incidents, maintenance, organizations, pages, services
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


# The demo's past, oldest first: (days ago, hour UTC, title, impact, {service slug: status},
# [(minutes after the start, status, message)], postmortem). Updates are spread over about an
# hour, as a real incident's are; the last one resolves it.
PAST_INCIDENTS = [
    (78, 9, "Delayed email delivery", "minor", {"email": "degraded_performance"}, [
        (0, "investigating", "Some notification emails are arriving late. We are looking into it."),
        (22, "identified", "A queue consumer fell behind after a configuration change; we are scaling it out."),
        (51, "resolved", "The backlog is cleared and emails are delivered on time again."),
    ], ""),
    (55, 14, "US East: intermittent connection errors", "major", {"us-east": "partial_outage"}, [
        (0, "investigating", "Some requests to the US East region fail to connect."),
        (18, "identified", "A failing load balancer node is being taken out of rotation."),
        (40, "monitoring", "Traffic is flowing through healthy nodes; we are watching error rates."),
        (63, "resolved", "Error rates have been normal for 20 minutes. This incident is resolved."),
    ], "**What happened.** A load balancer node in US East lost its health-check route after a kernel "
       "update and kept receiving traffic.\n\n**What we changed.**\n\n- Health checks now run on the "
       "data path, not a side port.\n- Kernel updates roll out one node at a time, with an automatic stop."),
    (31, 7, "Dashboard login failures", "major", {"website": "partial_outage", "api": "degraded_performance"}, [
        (0, "investigating", "Some customers cannot sign in to the dashboard."),
        (25, "identified", "An expired certificate on the session service is the cause; a new one is deploying."),
        (48, "resolved", "Sign-in works again for everyone."),
    ], ""),
    (12, 20, "Scheduled job runs delayed", "minor", {"jobs": "degraded_performance"}, [
        (0, "investigating", "Scheduled jobs are starting up to 10 minutes late."),
        (35, "monitoring", "Workers were added; the delay is shrinking."),
        (58, "resolved", "Jobs run on time again."),
    ], ""),
    (1, 13, "Elevated API error rates", "minor", {"api": "degraded_performance"}, [
        (0, "investigating", "We are investigating elevated error rates on the API."),
        (17, "identified", "A faulty deploy was identified and is being rolled back."),
        (39, "monitoring", "The rollback is out; error rates are dropping."),
        (62, "resolved", "The rollback is complete; error rates are back to normal."),
    ], ""),
]
DEGRADED_NOW = ("eu-west", "degraded_performance")  # one service is not quite right today


def load_demo(organization_id: int | None = None, *, lively: bool = True) -> bool:
    """Create the demo page unless a page exists already; returns whether it did.

    The demo has a believable past, written through the domain operations at past moments
    (statusapp.clock): services that exist for three months, incidents over that time whose
    updates are spread over an hour, one with a postmortem, and (`lively`) one service in
    degraded performance now. Its status history is what the uptime bars are computed from.
    """
    with session_scope() as session:
        if session.exec(select(StatusPage)).first() is not None:
            return False
    actor = Actor(organization_id or ensure_organization())
    now = clock.now()
    with clock.at(now - dt.timedelta(days=92)):
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
    by_slug = {s.slug: s.id for s in created}
    for days_ago, hour, title, impact, affected, updates, postmortem in PAST_INCIDENTS:
        start = (now - dt.timedelta(days=days_ago)).replace(hour=hour, minute=5, second=0, microsecond=0)
        (_, first_status, first_message), rest = updates[0], updates[1:]
        with clock.at(start):
            inc = incidents.create_incident(
                actor=actor, title=title, impact=impact, status=first_status, message=first_message,
                services={by_slug[slug]: status for slug, status in affected.items()}, deliver_notifications=False,
            )
        for minutes, status, message in rest:
            with clock.at(start + dt.timedelta(minutes=minutes)):
                incidents.post_update(actor=actor, incident_id=inc.id, status=status, message=message,
                                      deliver_notifications=False)
        if postmortem:
            with clock.at(start + dt.timedelta(days=2)):
                incidents.write_postmortem(actor=actor, incident_id=inc.id, text=postmortem)
    _demo_maintenance(actor, by_slug, now)
    if lively:
        slug, status = DEGRADED_NOW
        with clock.at(now - dt.timedelta(minutes=25)):
            services.set_manual_status(actor=actor, service_id=by_slug[slug], status=status)
    return True


def _demo_maintenance(actor: Actor, by_slug: dict[str, int], now: dt.datetime) -> None:
    """One window done 20 days ago (in the history, not downtime), one upcoming, and a weekly
    series; all quiet (the demo notifies nobody)."""
    quiet = dict(notify_on_create=False, remind_minutes_before=None, notify_on_start=False,
                 notify_on_complete=False)
    done = (now - dt.timedelta(days=20)).replace(hour=2, minute=0, second=0, microsecond=0)
    with clock.at(done - dt.timedelta(days=3)):
        past = maintenance.create_maintenance(
            actor=actor, title="Email provider migration", scheduled_for=done,
            scheduled_until=done + dt.timedelta(hours=1), services=[by_slug["email"]],
            description="We are moving outgoing email to a new provider. Some emails may be delayed by a few minutes.",
            **quiet,
        )
    with clock.at(done):
        maintenance.start_maintenance(actor=actor, maintenance_id=past.id, deliver_notifications=False)
    with clock.at(done + dt.timedelta(minutes=48)):
        maintenance.complete_maintenance(actor=actor, maintenance_id=past.id, deliver_notifications=False,
                                         message="The migration is complete; email flows through the new provider.")
    upcoming = (now + dt.timedelta(days=3)).replace(hour=2, minute=0, second=0, microsecond=0)
    with clock.at(now - dt.timedelta(hours=2)):
        maintenance.create_maintenance(
            actor=actor, title="Database upgrade", scheduled_for=upcoming,
            scheduled_until=upcoming + dt.timedelta(hours=2), services=[by_slug["api"], by_slug["jobs"]],
            description="The main database moves to a new major version. **The API is read-only** during the window.",
            **quiet,
        )
        maintenance.create_series(
            actor=actor, title="Weekly patching", rrule="FREQ=WEEKLY;BYDAY=SU",
            dtstart_local=(now - dt.timedelta(days=92)).strftime("%Y-%m-%dT03:00"), time_zone="UTC",
            duration_minutes=30, services=[by_slug["website"]],
            description="Operating system updates, one server at a time. Short interruptions are possible.",
            remind_minutes_before=None, notify_on_start=False, notify_on_complete=False,
        )
