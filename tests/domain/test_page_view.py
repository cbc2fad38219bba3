"""The public page view: groups, banner, incidents, custom domains. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import update

from statusapp.domain import incidents, pages, services
from statusapp.models import Incident, utcnow
from statusapp.queries import public as queries
from tests.domain.helpers import DEG, MAINT, MAJOR, OP, PART, declare, fresh, new_service, view_of


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
    assert top.resolved_at == "" and top.started_at.endswith("+00:00")
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
    assert by_title["Resolved today"].resolved_at != ""
    assert by_title["Resolved today"].updates[0].message == "Fixed."
    assert by_title["With postmortem"].postmortem == "Lessons learned."
    assert by_title["With postmortem"].status == "postmortem"


def test_private_page_not_found_publicly(org):
    pages.create_page(actor=org, name="Internal", slug="internal", is_public=False)
    with fresh() as s:
        assert queries.find_page(s, "internal") is None
        assert queries.find_root_page(s, None) is None  # no public page at all
        assert queries.find_page(s, "") is None
    assert view_of("internal").found is False
    assert view_of("internal", include_private=True).found is True


def test_find_page_by_slug(org):
    pages.create_page(actor=org, name="First", slug="first")
    with fresh() as s:
        assert queries.find_page(s, "first").name == "First"
        assert queries.find_page(s, "nope") is None
        assert queries.find_page(s, "") is None  # an empty slug is not "the first page"


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


def test_page_view_times_are_iso_utc_with_the_page_time_zone(org):
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
    assert view.incidents[0].started_at == "2024-01-15T12:30:00+00:00"  # the page formats it (ui/format.py)


def test_a_private_page_shows_nothing_by_slug_history_incident_or_live_view(org):
    from statusapp.domain import pages as page_ops

    page_ops.create_page(actor=org, name="Internal", slug="internal", is_public=False)
    inc = declare(org, None, title="Internal outage")
    assert queries.load_public_view("internal", None) is None
    assert queries.load_history("internal", 0) is None
    assert queries.load_incident("internal", inc.id) is None
    assert queries.page_exists("internal") is False
