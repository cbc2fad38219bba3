"""The demo page. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from statusapp import demo
from statusapp.queries import public as queries
from tests.domain.helpers import OP, fresh, view_of


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
