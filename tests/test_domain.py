"""Domain operations as a user notices them; every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select, update

from statusapp import demo, queries
from statusapp.db import get_engine
from statusapp.domain import Actor, AuthError, NotFound, ValidationError, add_listener, auth, remove_listener
from statusapp.domain import incidents, organizations, pages, services
from statusapp.domain.base import unit_of_work
from statusapp.enums import ChangeCause
from statusapp.models import (
    AdminSession,
    DomainEvent,
    Incident,
    IncidentService,
    IncidentUpdate,
    LoginAttempt,
    Service,
    ServiceStatusChange,
    StatusPage,
    User,
    utcnow,
)
from statusapp.settings import get_settings

OP = "operational"
MAINT = "under_maintenance"
DEG = "degraded_performance"
PART = "partial_outage"
MAJOR = "major_outage"


# --------------------------------------------------------------------------- helpers


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
    with fresh() as s:
        return queries.page_view(s, queries.find_page(s, slug=slug, include_private=include_private))


# --------------------------------------------------------------------------- overlapping incidents


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


# --------------------------------------------------------------------------- status history


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


# --------------------------------------------------------------------------- incident lifecycle


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


# --------------------------------------------------------------------------- validation


def _expect_invalid(row_counts, field, fn, **kwargs):
    """`fn(**kwargs)` raises ValidationError naming `field`, and writes nothing at all."""
    before = row_counts()
    with pytest.raises(ValidationError) as exc:
        fn(**kwargs)
    assert field in exc.value.errors, exc.value.errors
    assert exc.value.errors[field]  # a message a person can read
    assert row_counts() == before
    return exc.value


@pytest.mark.parametrize("slug", ["", "Bad Slug", "UPPER", "under_score", "-lead", "trail-", "dou--ble", "x" * 101])
def test_malformed_page_slug(org, row_counts, slug):
    _expect_invalid(row_counts, "slug", pages.create_page, actor=org, name="Status", slug=slug)


@pytest.mark.parametrize("slug", ["", "Bad Slug", "api_eu", "api--eu", "a/b"])
def test_malformed_service_slug(org, row_counts, slug):
    _expect_invalid(row_counts, "slug", services.create_service, actor=org, name="API", slug=slug)


def test_duplicate_page_slug_even_across_organizations(org, other_org, row_counts):
    pages.create_page(actor=org, name="Status", slug="status")
    _expect_invalid(row_counts, "slug", pages.create_page, actor=org, name="Again", slug="status")
    _expect_invalid(row_counts, "slug", pages.create_page, actor=other_org, name="Theirs", slug="status")
    second = pages.create_page(actor=org, name="Second", slug="second")
    _expect_invalid(row_counts, "slug", pages.update_page, actor=org, page_id=second.id, slug="status")
    assert load(StatusPage, second.id).slug == "second"


def test_update_page_taken_slug_together_with_services(org, row_counts):
    api = new_service(org, "api")
    pages.create_page(actor=org, name="One", slug="one")
    two = pages.create_page(actor=org, name="Two", slug="two")
    _expect_invalid(row_counts, "slug", pages.update_page, actor=org, page_id=two.id, slug="one", service_ids=[api.id])
    err = _expect_invalid(
        row_counts, "slug", pages.update_page, actor=org, page_id=two.id, slug="one", custom_domain="bad domain"
    )
    assert "custom_domain" in err.errors
    pages.update_page(actor=org, page_id=two.id, slug="two-renamed", service_ids=[api.id])
    assert load(StatusPage, two.id).slug == "two-renamed"
    assert [g.services[0].id for g in view_of("two-renamed").groups] == [api.id]


def test_duplicate_service_slug_within_organization(org, other_org, row_counts):
    api = new_service(org, "api")
    web = new_service(org, "web")
    _expect_invalid(row_counts, "slug", services.create_service, actor=org, name="API 2", slug="api")
    _expect_invalid(row_counts, "slug", services.update_service, actor=org, service_id=web.id, slug="api")
    assert load(Service, web.id).slug == "web"
    # Another organization may use the same slug.
    assert new_service(other_org, "api").id != api.id


def test_update_service_slug_taken_with_other_bad_field(org, row_counts):
    new_service(org, "api")
    web = new_service(org, "web")
    err = _expect_invalid(
        row_counts, "slug", services.update_service, actor=org, service_id=web.id, slug="api", group_id=999_999
    )
    assert "group_id" in err.errors


@pytest.mark.parametrize("title", ["", "   ", None])
def test_incident_title_required(org, row_counts, title):
    _expect_invalid(row_counts, "title", incidents.create_incident, actor=org, title=title, impact="minor", message="x")


def test_incident_message_required(org, row_counts):
    _expect_invalid(row_counts, "message", incidents.create_incident, actor=org, title="T", impact="minor", message="")


def test_incident_unknown_service_id(org, row_counts):
    api = new_service(org, "api")
    _expect_invalid(
        row_counts, "services", incidents.create_incident,
        actor=org, title="T", impact="minor", message="m", services={api.id: DEG, 987654: DEG},
    )
    _expect_invalid(
        row_counts, "services", incidents.create_incident,
        actor=org, title="T", impact="minor", message="m", services={"not-a-number": DEG},
    )
    assert status_of(api.id) == OP


def test_page_unknown_service_id(org, row_counts):
    api = new_service(org, "api")
    _expect_invalid(row_counts, "service_ids", pages.create_page, actor=org, name="P", slug="p", service_ids=[api.id, 424242])
    _expect_invalid(row_counts, "service_ids", pages.create_page, actor=org, name="P", slug="p", service_ids=[api.id, api.id])
    _expect_invalid(row_counts, "service_ids", pages.create_page, actor=org, name="P", slug="p", service_ids=["abc"])
    page = pages.create_page(actor=org, name="P", slug="p", service_ids=[api.id])
    _expect_invalid(row_counts, "service_ids", pages.update_page, actor=org, page_id=page.id, service_ids=[str(api.id), "x"])
    assert [g.services[0].id for g in view_of("p").groups] == [api.id]


@pytest.mark.parametrize(
    ("field", "impact", "status", "service_status"),
    [
        ("impact", "apocalyptic", "investigating", DEG),
        ("impact", "", "investigating", DEG),
        ("status", "minor", "fixed", DEG),
        ("services", "minor", "investigating", "on_fire"),
    ],
)
def test_incident_enums(org, row_counts, field, impact, status, service_status):
    api = new_service(org, "api")
    _expect_invalid(
        row_counts, field, incidents.create_incident,
        actor=org, title="T", impact=impact, status=status, message="m", services={api.id: service_status},
    )
    assert status_of(api.id) == OP


def test_status_outside_enum_for_service_and_update(org, row_counts):
    api = new_service(org, "api")
    inc = declare(org, {api.id: DEG})
    _expect_invalid(row_counts, "status", services.set_manual_status, actor=org, service_id=api.id, status="broken")
    _expect_invalid(row_counts, "manual_status", services.create_service, actor=org, name="W", slug="w", manual_status="meh")
    _expect_invalid(row_counts, "status", incidents.post_update, actor=org, incident_id=inc.id, status="done", message="m")
    _expect_invalid(
        row_counts, "services", incidents.post_update,
        actor=org, incident_id=inc.id, status="identified", message="m", services={api.id: "sideways"},
    )
    _expect_invalid(row_counts, "impact", incidents.edit_incident, actor=org, incident_id=inc.id, impact="huge")
    assert status_of(api.id) == DEG
    assert load(Incident, inc.id).status == "investigating"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("brand_color", "blue"),
        ("brand_color", "#12345"),
        ("brand_color", "#gggggg"),
        ("background_color", "rgb(0,0,0)"),
        ("custom_domain", "not a domain"),
        ("custom_domain", "localhost"),
        ("custom_domain", "https://status.example.com"),
        ("custom_domain", "-bad-.example.com"),
        ("time_zone", "Mars/Olympus_Mons"),
        ("time_zone", "europe/paris"),
        ("logo_url", "javascript:alert(1)"),
        ("name", ""),
    ],
)
def test_bad_page_settings(org, row_counts, field, value):
    _expect_invalid(row_counts, field, pages.create_page, actor=org, **{"name": "P", "slug": "p", field: value})
    page = pages.create_page(actor=org, name="Good", slug="good")
    _expect_invalid(row_counts, field, pages.update_page, actor=org, page_id=page.id, **{field: value})
    assert load(StatusPage, page.id).name == "Good"


def test_good_page_settings_are_normalized(org):
    page = pages.create_page(
        actor=org, name="  Acme Status  ", slug="acme", brand_color="#AABBCC",
        custom_domain="Status.Example.COM", time_zone="Europe/Paris", background_color="",
    )
    got = load(StatusPage, page.id)
    assert (got.name, got.brand_color, got.custom_domain, got.time_zone, got.background_color) == (
        "Acme Status", "#aabbcc", "status.example.com", "Europe/Paris", "",
    )


def test_custom_domain_used_by_another_page(org, row_counts):
    pages.create_page(actor=org, name="One", slug="one", custom_domain="status.example.com")
    _expect_invalid(
        row_counts, "custom_domain", pages.create_page, actor=org, name="Two", slug="two", custom_domain="status.example.com"
    )
    two = pages.create_page(actor=org, name="Two", slug="two")
    _expect_invalid(
        row_counts, "custom_domain", pages.update_page, actor=org, page_id=two.id, custom_domain="STATUS.example.com"
    )
    assert load(StatusPage, two.id).custom_domain is None


def test_several_page_errors_reported_at_once(org, row_counts):
    err = _expect_invalid(
        row_counts, "slug", pages.create_page, actor=org, name="", slug="Bad Slug", brand_color="red", time_zone="Nowhere"
    )
    assert set(err.errors) == {"name", "slug", "brand_color", "time_zone"}


def test_unknown_page_field(org, row_counts):
    _expect_invalid(row_counts, "colour", pages.create_page, actor=org, name="P", slug="p", colour="#ffffff")


def test_short_password_and_bad_email_rejected(org, row_counts):
    _expect_invalid(
        row_counts, "password", organizations.create_user,
        organization_id=org.organization_id, email="a@example.com", password="short",
    )
    _expect_invalid(
        row_counts, "email", organizations.create_user,
        organization_id=org.organization_id, email="not-an-email", password="long enough password",
    )


# --------------------------------------------------------------------------- organization isolation


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
    _expect_invalid(
        row_counts, "services", incidents.create_incident,
        actor=other_org, title="T", impact="major", message="m", services={api.id: MAJOR},
    )
    _expect_invalid(row_counts, "service_ids", pages.create_page, actor=other_org, name="P", slug="p", service_ids=[api.id])
    _expect_invalid(row_counts, "group_id", services.create_service, actor=other_org, name="S", slug="s", group_id=group.id)
    assert status_of(api.id) == OP


# --------------------------------------------------------------------------- listeners


def test_listener_hears_change_only_after_commit(org, capture_changes):
    api = new_service(org, "api")
    seen_in_db = []

    def check_committed(change):
        if change.kind == "incident.created":
            # A separate connection sees the incident: the transaction has committed.
            seen_in_db.append(load(Incident, change.payload["incident_id"]) is not None)

    add_listener(check_committed)
    try:
        capture_changes.clear()
        inc = declare(org, {api.id: PART})
    finally:
        remove_listener(check_committed)
    assert seen_in_db == [True]
    [change] = capture_changes.changes
    assert change.kind == "incident.created"
    assert change.organization_id == org.organization_id
    assert change.payload["incident_id"] == inc.id
    assert change.payload["status_changes"] == [
        {"service_id": api.id, "name": "API", "old_status": OP, "new_status": PART}
    ]
    # The same change is in the outbox.
    with fresh() as s:
        ev = s.exec(select(DomainEvent).order_by(DomainEvent.id.desc())).first()
    assert (ev.kind, ev.payload["incident_id"], ev.processed_at) == ("incident.created", inc.id, None)


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
            uow.announce(org.organization_id, "test.thing", x=1)
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


# --------------------------------------------------------------------------- public page view


def _page_with_groups(org):
    core = services.create_group(actor=org, name="Core")
    regions = services.create_group(actor=org, name="Regions")
    web = new_service(org, "web", name="Website", group_id=core.id, description="Site")
    api = new_service(org, "api", name="API", group_id=core.id)
    eu = new_service(org, "eu", name="EU", group_id=regions.id)
    mail = new_service(org, "mail", name="Email")
    page = pages.create_page(actor=org, name="Acme Status", slug="acme", service_ids=[mail.id, eu.id, api.id, web.id])
    return page, core, regions, dict(web=web, api=api, eu=eu, mail=mail)


def test_page_view_groups_and_ungrouped_services(org):
    page, core, regions, s = _page_with_groups(org)
    services.set_manual_status(actor=org, service_id=s["api"].id, status=PART)
    view = view_of("acme")
    assert view.found and view.name == "Acme Status" and view.id == page.id
    assert [(g.key, g.name, [x.name for x in g.services]) for g in view.groups] == [
        (f"g{core.id}", "Core", ["API", "Website"]),  # page order, not creation order
        (f"g{regions.id}", "Regions", ["EU"]),
        (f"s{s['mail'].id}", "", ["Email"]),
    ]
    core_view = view.groups[0]
    assert (core_view.status, core_view.status_label) == (PART, "Partial outage")
    assert core_view.services[1].description == "Site"
    assert [(x.status, x.status_label) for x in core_view.services] == [(PART, "Partial outage"), (OP, "Operational")]
    assert view.groups[1].status == OP


def test_page_view_only_shows_the_pages_services(org):
    _, _, _, s = _page_with_groups(org)
    new_service(org, "hidden", name="Hidden")
    view = view_of("acme")
    names = [x.name for g in view.groups for x in g.services]
    assert sorted(names) == ["API", "EU", "Email", "Website"]


@pytest.mark.parametrize(
    ("status", "indicator", "text"),
    [
        (OP, "none", "All Systems Operational"),
        (MAINT, "maintenance", "Service Under Maintenance"),
        (DEG, "minor", "Partially Degraded Service"),
        (PART, "major", "Partial System Outage"),
        (MAJOR, "critical", "Major System Outage"),
    ],
)
def test_page_view_indicator_text(org, status, indicator, text):
    _, _, _, s = _page_with_groups(org)
    services.set_manual_status(actor=org, service_id=s["eu"].id, status=status)
    view = view_of("acme")
    assert (view.indicator, view.status_text) == (indicator, text)


def test_page_indicator_follows_incidents(org):
    _, _, _, s = _page_with_groups(org)
    assert view_of("acme").status_text == "All Systems Operational"
    inc = declare(org, {s["api"].id: PART}, impact="major")
    assert view_of("acme").status_text == "Partial System Outage"
    org_wide = declare(org, None, impact="critical", title="Everything is down")
    assert view_of("acme").status_text == "Major System Outage"
    incidents.resolve_incident(actor=org, incident_id=org_wide.id)
    incidents.resolve_incident(actor=org, incident_id=inc.id)
    view = view_of("acme")
    assert (view.indicator, view.status_text) == ("none", "All Systems Operational")


def test_page_view_active_incidents_newest_update_first(org):
    _, _, _, s = _page_with_groups(org)
    older = declare(org, {s["api"].id: DEG}, title="Older", message="first")
    newer = declare(org, {s["web"].id: PART}, impact="major", title="Newer", message="one")
    incidents.post_update(actor=org, incident_id=newer.id, status="identified", message="two")
    incidents.post_update(actor=org, incident_id=newer.id, status="monitoring", message="three")

    view = view_of("acme")
    assert [i.title for i in view.incidents] == ["Newer", "Older"]
    top = view.incidents[0]
    assert [u.message for u in top.updates] == ["three", "two", "one"]
    assert [u.status_label for u in top.updates] == ["Monitoring", "Identified", "Investigating"]
    assert (top.status, top.status_label, top.impact, top.impact_label) == ("monitoring", "Monitoring", "major", "Major")
    assert top.affected == "Website"
    assert top.resolved == "" and top.started.endswith("UTC")
    assert all(u.at_iso.endswith("+00:00") for u in top.updates)
    assert view.recent == []


def test_page_view_recent_resolved_incidents(org):
    _, _, _, s = _page_with_groups(org)
    fresh_inc = declare(org, {s["api"].id: DEG}, title="Resolved today")
    old_inc = declare(org, {s["api"].id: DEG}, title="Resolved long ago")
    pm_inc = declare(org, {s["web"].id: DEG}, title="With postmortem")
    declare(org, {s["eu"].id: DEG}, title="Still open")
    for inc in (fresh_inc, old_inc, pm_inc):
        incidents.resolve_incident(actor=org, incident_id=inc.id, message="Fixed.")
    incidents.write_postmortem(actor=org, incident_id=pm_inc.id, text="Lessons learned.")
    with fresh() as sess:
        sess.exec(
            update(Incident)
            .where(Incident.id == old_inc.id)
            .values(resolved_at=utcnow() - dt.timedelta(days=queries.RECENT_DAYS, hours=1))
        )
        sess.commit()

    view = view_of("acme")
    assert [i.title for i in view.incidents] == ["Still open"]
    assert sorted(i.title for i in view.recent) == ["Resolved today", "With postmortem"]
    by_title = {i.title: i for i in view.recent}
    assert by_title["Resolved today"].status_label == "Resolved"
    assert by_title["Resolved today"].resolved != ""
    assert by_title["Resolved today"].updates[0].message == "Fixed."
    assert by_title["With postmortem"].postmortem == "Lessons learned."
    assert by_title["With postmortem"].status == "postmortem"


def test_private_page_not_found_publicly(org):
    pages.create_page(actor=org, name="Internal", slug="internal", is_public=False)
    with fresh() as s:
        assert queries.find_page(s, slug="internal") is None
        assert queries.find_page(s, slug="internal", include_private=True).name == "Internal"
        assert queries.find_page(s) is None  # no public page at all
    assert view_of("internal").found is False
    assert view_of("internal", include_private=True).found is True


def test_find_page_by_custom_domain_and_fallback(org):
    first = pages.create_page(actor=org, name="First", slug="first")
    second = pages.create_page(actor=org, name="Second", slug="second", custom_domain="status.acme.com")
    with fresh() as s:
        assert queries.find_page(s, host="Status.Acme.com:443").id == second.id
        assert queries.find_page(s, host="unknown.example.com").id == first.id
        assert queries.find_page(s, slug="nope") is None


def test_incident_without_services_shows_on_every_page_of_its_org(org, other_org):
    a = new_service(org, "a")
    b = new_service(org, "b")
    pages.create_page(actor=org, name="A", slug="page-a", service_ids=[a.id])
    pages.create_page(actor=org, name="B", slug="page-b", service_ids=[b.id])
    pages.create_page(actor=org, name="Empty", slug="page-empty")
    pages.create_page(actor=other_org, name="Theirs", slug="theirs")

    declare(org, None, impact="major", title="Org-wide")
    declare(org, {a.id: DEG}, title="Only A")

    assert [i.title for i in view_of("page-a").incidents] == ["Only A", "Org-wide"]
    assert [i.title for i in view_of("page-b").incidents] == ["Org-wide"]
    assert [i.title for i in view_of("page-empty").incidents] == ["Org-wide"]
    assert view_of("page-b").indicator == "major"
    assert view_of("theirs").incidents == []
    assert view_of("theirs").indicator == "none"


def test_html_in_titles_kept_verbatim(org):
    title = '<script>alert("x")</script> & <b>bold</b>'
    a = new_service(org, "a", name="<i>API</i>")
    pages.create_page(actor=org, name="<h1>Acme</h1>", slug="acme", service_ids=[a.id], description="<p>hi</p>")
    declare(org, {a.id: DEG}, title=title, message="<img src=x onerror=alert(1)>")
    view = view_of("acme")
    assert (view.name, view.description) == ("<h1>Acme</h1>", "<p>hi</p>")
    assert view.groups[0].services[0].name == "<i>API</i>"
    assert view.incidents[0].title == title
    assert view.incidents[0].affected == "<i>API</i>"
    assert view.incidents[0].updates[0].message == "<img src=x onerror=alert(1)>"


def test_page_view_times_in_page_time_zone(org):
    pages.create_page(actor=org, name="Paris", slug="paris", time_zone="Europe/Paris")
    inc = declare(org, None)
    with fresh() as s:
        s.exec(
            update(Incident).where(Incident.id == inc.id)
            .values(started_at=dt.datetime(2024, 1, 15, 12, 30, tzinfo=dt.timezone.utc))
        )
        s.commit()
    view = view_of("paris")
    assert view.time_zone == "Europe/Paris"
    assert view.incidents[0].started == "Jan 15, 2024 13:30 CET"


# --------------------------------------------------------------------------- auth


@pytest.fixture
def admin(org):
    user = organizations.create_user(
        organization_id=org.organization_id, email="Admin@Example.com", password="correct horse battery", name="Ada"
    )
    return user


def test_password_is_stored_as_argon2_hash(admin):
    got = load(User, admin.id)
    assert got.email == "admin@example.com"
    assert got.password_hash.startswith("$argon2")
    assert "correct horse battery" not in got.password_hash
    assert organizations.count_users() == 1


def test_duplicate_user_email_rejected(org, admin, row_counts):
    _expect_invalid(
        row_counts, "email", organizations.create_user,
        organization_id=org.organization_id, email="ADMIN@example.com", password="another long password",
    )


def test_login_and_session_and_logout(org, admin):
    token, user = auth.login(email=" ADMIN@example.com ", password="correct horse battery", client_ip="10.0.0.1")
    assert isinstance(token, str) and len(token) >= 32
    assert (user.user_id, user.organization_id, user.email, user.name) == (
        admin.id, org.organization_id, "admin@example.com", "Ada",
    )
    assert auth.session_user(token) == user
    assert load(User, admin.id).last_login_at is not None
    with fresh() as s:
        [sess] = s.exec(select(AdminSession)).all()
    assert sess.token_hash != token and len(sess.token_hash) == 64  # only the SHA-256 is kept

    auth.logout(token)
    assert auth.session_user(token) is None
    assert auth.session_user("not-a-token") is None
    assert auth.session_user(None) is None


def test_wrong_password_and_unknown_email(admin):
    with pytest.raises(AuthError):
        auth.login(email="admin@example.com", password="wrong password!")
    with pytest.raises(AuthError):
        auth.login(email="nobody@example.com", password="correct horse battery")
    with fresh() as s:
        attempts = s.exec(select(LoginAttempt).order_by(LoginAttempt.id)).all()
        assert [(a.email, a.succeeded) for a in attempts] == [
            ("admin@example.com", False), ("nobody@example.com", False),
        ]
        assert s.exec(select(AdminSession)).all() == []


def test_lockout_after_max_failures(admin):
    max_failures = get_settings().login_max_failures
    for _ in range(max_failures - 1):
        with pytest.raises(AuthError):
            auth.login(email="admin@example.com", password="wrong password!")
    # One failure below the limit the right password still works.
    token, _ = auth.login(email="admin@example.com", password="correct horse battery")
    assert auth.session_user(token) is not None

    with pytest.raises(AuthError):
        auth.login(email="admin@example.com", password="wrong password!")
    with pytest.raises(AuthError, match="Too many"):
        auth.login(email="admin@example.com", password="correct horse battery")
    with fresh() as s:
        assert len(s.exec(select(AdminSession)).all()) == 1  # no session for the refused login


def test_lockout_ends_when_window_passes(admin):
    settings = get_settings()
    for _ in range(settings.login_max_failures):
        with pytest.raises(AuthError):
            auth.login(email="admin@example.com", password="wrong password!")
    with pytest.raises(AuthError, match="Too many"):
        auth.login(email="admin@example.com", password="correct horse battery")
    with fresh() as s:
        s.exec(
            update(LoginAttempt).values(
                created_at=utcnow() - dt.timedelta(seconds=settings.login_window_seconds + 5)
            )
        )
        s.commit()
    token, _ = auth.login(email="admin@example.com", password="correct horse battery")
    assert auth.session_user(token).user_id == admin.id


def test_expired_session_is_refused_and_removed(admin):
    token, _ = auth.login(email="admin@example.com", password="correct horse battery")
    with fresh() as s:
        s.exec(update(AdminSession).values(expires_at=utcnow() - dt.timedelta(seconds=1)))
        s.commit()
    assert auth.session_user(token) is None
    with fresh() as s:
        assert s.exec(select(AdminSession)).all() == []


# --------------------------------------------------------------------------- demo


def test_load_demo_builds_demo_page_once(db, row_counts):
    assert demo.load_demo() is True
    view = view_of("demo")
    assert view.found and view.name == "Demo Status"
    assert [(g.name, [x.name for x in g.services]) for g in view.groups] == [
        ("Core platform", ["Website", "API", "Background jobs"]),
        ("Regions", ["EU West", "US East"]),
        ("", ["Email delivery"]),
    ]
    assert view.incidents == []
    assert [(i.title, i.status) for i in view.recent] == [("Elevated API error rates", "resolved")]
    assert [u.status for u in view.recent[0].updates] == ["resolved", "identified", "investigating"]
    assert (view.indicator, view.status_text) == ("none", "All Systems Operational")
    assert all(x.status == OP for g in view.groups for x in g.services)

    before = row_counts()
    assert demo.load_demo() is False
    assert row_counts() == before


def test_load_demo_uses_existing_organization(org):
    assert demo.load_demo() is True
    with fresh() as s:
        page = queries.find_page(s, slug="demo")
    assert page.organization_id == org.organization_id
