"""Bad input: a clear field error and nothing written. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from statusapp.domain import ValidationError, incidents, organizations, pages, services
from statusapp.models import Incident, Service, StatusPage
from tests.domain.helpers import DEG, OP, declare, expect_invalid, load, new_service, status_of, view_of


@pytest.mark.parametrize("slug", ["", "Bad Slug", "UPPER", "under_score", "-lead", "trail-", "dou--ble", "x" * 101])
def test_malformed_page_slug(org, row_counts, slug):
    expect_invalid(row_counts, "slug", pages.create_page, actor=org, name="Status", slug=slug)


@pytest.mark.parametrize("slug", ["", "Bad Slug", "api_eu", "api--eu", "a/b"])
def test_malformed_service_slug(org, row_counts, slug):
    expect_invalid(row_counts, "slug", services.create_service, actor=org, name="API", slug=slug)


def test_duplicate_page_slug_even_across_organizations(org, other_org, row_counts):
    pages.create_page(actor=org, name="Status", slug="status")
    expect_invalid(row_counts, "slug", pages.create_page, actor=org, name="Again", slug="status")
    expect_invalid(row_counts, "slug", pages.create_page, actor=other_org, name="Theirs", slug="status")
    second = pages.create_page(actor=org, name="Second", slug="second")
    expect_invalid(row_counts, "slug", pages.update_page, actor=org, page_id=second.id, slug="status")
    assert load(StatusPage, second.id).slug == "second"


def test_update_page_taken_slug_together_with_services(org, row_counts):
    api = new_service(org, "api")
    pages.create_page(actor=org, name="One", slug="one")
    two = pages.create_page(actor=org, name="Two", slug="two")
    expect_invalid(row_counts, "slug", pages.update_page, actor=org, page_id=two.id, slug="one", service_ids=[api.id])
    err = expect_invalid(
        row_counts, "slug", pages.update_page, actor=org, page_id=two.id, slug="one", custom_domain="bad domain"
    )
    assert "custom_domain" in err.errors
    pages.update_page(actor=org, page_id=two.id, slug="two-renamed", service_ids=[api.id])
    assert load(StatusPage, two.id).slug == "two-renamed"
    assert [g.services[0].id for g in view_of("two-renamed").groups] == [api.id]


def test_duplicate_service_slug_within_organization(org, other_org, row_counts):
    api = new_service(org, "api")
    web = new_service(org, "web")
    expect_invalid(row_counts, "slug", services.create_service, actor=org, name="API 2", slug="api")
    expect_invalid(row_counts, "slug", services.update_service, actor=org, service_id=web.id, slug="api")
    assert load(Service, web.id).slug == "web"
    # Another organization may use the same slug.
    assert new_service(other_org, "api").id != api.id


def test_update_service_slug_taken_with_other_bad_field(org, row_counts):
    new_service(org, "api")
    web = new_service(org, "web")
    err = expect_invalid(
        row_counts, "slug", services.update_service, actor=org, service_id=web.id, slug="api", group_id=999_999
    )
    assert "group_id" in err.errors


@pytest.mark.parametrize("title", ["", "   ", None])
def test_incident_title_required(org, row_counts, title):
    expect_invalid(row_counts, "title", incidents.create_incident, actor=org, title=title, impact="minor", message="x")


def test_incident_message_required(org, row_counts):
    expect_invalid(row_counts, "message", incidents.create_incident, actor=org, title="T", impact="minor", message="")


def test_incident_unknown_service_id(org, row_counts):
    api = new_service(org, "api")
    expect_invalid(
        row_counts, "services", incidents.create_incident,
        actor=org, title="T", impact="minor", message="m", services={api.id: DEG, 987654: DEG},
    )
    expect_invalid(
        row_counts, "services", incidents.create_incident,
        actor=org, title="T", impact="minor", message="m", services={"not-a-number": DEG},
    )
    assert status_of(api.id) == OP


def test_page_unknown_service_id(org, row_counts):
    api = new_service(org, "api")
    expect_invalid(row_counts, "service_ids", pages.create_page, actor=org, name="P", slug="p", service_ids=[api.id, 424242])
    expect_invalid(row_counts, "service_ids", pages.create_page, actor=org, name="P", slug="p", service_ids=[api.id, api.id])
    expect_invalid(row_counts, "service_ids", pages.create_page, actor=org, name="P", slug="p", service_ids=["abc"])
    page = pages.create_page(actor=org, name="P", slug="p", service_ids=[api.id])
    expect_invalid(row_counts, "service_ids", pages.update_page, actor=org, page_id=page.id, service_ids=[str(api.id), "x"])
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
    expect_invalid(
        row_counts, field, incidents.create_incident,
        actor=org, title="T", impact=impact, status=status, message="m", services={api.id: service_status},
    )
    assert status_of(api.id) == OP


def test_status_outside_enum_for_service_and_update(org, row_counts):
    api = new_service(org, "api")
    inc = declare(org, {api.id: DEG})
    expect_invalid(row_counts, "status", services.set_manual_status, actor=org, service_id=api.id, status="broken")
    expect_invalid(row_counts, "manual_status", services.create_service, actor=org, name="W", slug="w", manual_status="meh")
    expect_invalid(row_counts, "status", incidents.post_update, actor=org, incident_id=inc.id, status="done", message="m")
    expect_invalid(
        row_counts, "services", incidents.post_update,
        actor=org, incident_id=inc.id, status="identified", message="m", services={api.id: "sideways"},
    )
    expect_invalid(row_counts, "impact", incidents.edit_incident, actor=org, incident_id=inc.id, impact="huge")
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
    expect_invalid(row_counts, field, pages.create_page, actor=org, **{"name": "P", "slug": "p", field: value})
    page = pages.create_page(actor=org, name="Good", slug="good")
    expect_invalid(row_counts, field, pages.update_page, actor=org, page_id=page.id, **{field: value})
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


def test_a_custom_domain_is_a_claim_anyone_may_make(org, other_org):
    """Typing a domain claims nothing exclusive (first-come would let anyone squat a domain):
    it serves only the page whose DNS record proves it (see test_custom_domains.py)."""
    one = pages.create_page(actor=org, name="One", slug="one", custom_domain="status.example.com")
    two = pages.create_page(actor=other_org, name="Two", slug="two", custom_domain="STATUS.example.com")
    assert load(StatusPage, one.id).custom_domain == load(StatusPage, two.id).custom_domain == "status.example.com"
    assert load(StatusPage, one.id).verified_domain is None and load(StatusPage, two.id).verified_domain is None
    assert load(StatusPage, one.id).domain_token != load(StatusPage, two.id).domain_token


def test_several_page_errors_reported_at_once(org, row_counts):
    err = expect_invalid(
        row_counts, "slug", pages.create_page, actor=org, name="", slug="Bad Slug", brand_color="red", time_zone="Nowhere"
    )
    assert set(err.errors) == {"name", "slug", "brand_color", "time_zone"}


def test_unknown_page_field(org, row_counts):
    expect_invalid(row_counts, "colour", pages.create_page, actor=org, name="P", slug="p", colour="#ffffff")


def test_short_password_and_bad_email_rejected(org, row_counts):
    expect_invalid(
        row_counts, "password", organizations.create_user,
        organization_id=org.organization_id, email="a@example.com", password="short",
    )
    expect_invalid(
        row_counts, "email", organizations.create_user,
        organization_id=org.organization_id, email="not-an-email", password="long enough password",
    )


@pytest.mark.parametrize("text", ["nul\x00byte", "bell\x07", "escape\x1b[31m", "lone \ud800 surrogate"])
def test_text_that_cannot_be_stored_or_rendered_is_refused(org, row_counts, text):
    """PostgreSQL refuses NUL, XML (feeds, badges) cannot carry control characters, UTF-8 no lone
    surrogates: a field error instead of a crash on one database only."""
    expect_invalid(row_counts, "name", services.create_service, actor=org, name=text, slug="api")
    expect_invalid(row_counts, "title", incidents.create_incident, actor=org, title=text, impact="minor", message="m")
    expect_invalid(row_counts, "logo_url", pages.create_page, actor=org, name="S", slug="s", logo_url="https://x/" + text)


def test_tabs_and_line_breaks_are_kept(org):
    inc = incidents.create_incident(actor=org, title="t", impact="minor", message="line 1\n\tline 2\r\nend")
    assert load(Incident, inc.id).title == "t"


@pytest.mark.parametrize("raw", ["abc", "-1", "0", "99999999999", 2**31, -5, True, None, 1.5])
def test_ids_that_cannot_name_a_row_are_field_errors(org, row_counts, raw):
    expect_invalid(row_counts, "services", incidents.create_incident, actor=org, title="t", impact="minor",
                   message="m", services={raw: None})
    expect_invalid(row_counts, "service_ids", pages.create_page, actor=org, name="S", slug="s", service_ids=[raw])


def test_taken_values_are_marked_as_conflicts(org):
    pages.create_page(actor=org, name="S", slug="s")
    with pytest.raises(ValidationError) as exc:
        pages.create_page(actor=org, name="", slug="s")
    assert exc.value.conflicts == {"slug"} and set(exc.value.errors) == {"name", "slug"}
