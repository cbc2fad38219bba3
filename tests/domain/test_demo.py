"""The demo page: a believable past, written at past moments through the domain operations.
Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from statusapp import demo
from statusapp.models import IncidentUpdate, Service, ServiceStatusChange, utcnow
from statusapp.queries import public as queries
from tests.domain.helpers import DEG, OP, assert_history_chain, fresh, view_of


def test_load_demo_builds_a_believable_page_once(db, row_counts):
    assert demo.load_demo() is True
    view = view_of("demo")
    assert view.found and view.name == "Demo Status"
    assert [(g.name, [x.name for x in g.services]) for g in view.groups] == [
        ("Core platform", ["Website", "API", "Background jobs"]),
        ("Regions", ["EU West", "US East"]),
        ("", ["Email delivery"]),
    ]
    # One service is degraded now; nothing is open.
    statuses = {x.name: x.status for g in view.groups for x in g.services}
    assert statuses.pop("EU West") == DEG and set(statuses.values()) == {OP}
    assert (view.indicator, view.status_text) == ("minor", "Partially Degraded Service")
    assert view.incidents == []
    # Yesterday's incident: its updates are spread over an hour, newest first.
    (recent,) = [i for i in view.recent if i.title == "Elevated API error rates"]
    times = [dt.datetime.fromisoformat(u.at_iso) for u in recent.updates]
    assert [u.status for u in recent.updates] == ["resolved", "monitoring", "identified", "investigating"]
    assert times == sorted(times, reverse=True) and dt.timedelta(minutes=45) < times[0] - times[-1] < dt.timedelta(hours=2)
    assert utcnow() - times[-1] < dt.timedelta(days=2)

    before = row_counts()
    assert demo.load_demo() is False
    assert row_counts() == before


def test_the_demo_history_goes_back_three_months(db):
    demo.load_demo()
    with fresh() as s:
        page = queries.find_page(s, "demo")
        months = queries.history_view(s, page, offset=0)
        older = queries.history_view(s, page, offset=1)
        services = list(s.exec(select(Service)))
        oldest_change = s.exec(select(ServiceStatusChange.changed_at).order_by(ServiceStatusChange.changed_at)).first()
        updates = len(list(s.exec(select(IncidentUpdate))))
    titles = [i.title for m in months + older for i in m.incidents]
    assert len(titles) >= 4 and "US East: intermittent connection errors" in titles
    assert utcnow() - oldest_change > dt.timedelta(days=85)  # services exist long before today
    assert updates >= 15
    for svc in services:  # the past was written in order: every history chain is whole
        assert_history_chain(svc.id)


def test_a_quiet_demo_for_tests_has_everything_operational(db):
    demo.load_demo(lively=False)
    view = view_of("demo")
    assert (view.indicator, view.status_text) == ("none", "All Systems Operational")


def test_load_demo_uses_existing_organization(org):
    assert demo.load_demo() is True
    with fresh() as s:
        page = queries.find_page(s, "demo")
    assert page.organization_id == org.organization_id


def test_the_demo_has_maintenance_done_upcoming_and_recurring(db):
    from statusapp.models import Maintenance

    demo.load_demo()
    with fresh() as s:
        rows = list(s.exec(select(Maintenance).order_by(Maintenance.scheduled_for)))
    assert rows[0].status == "completed" and rows[0].title == "Email provider migration"
    upcoming = [m for m in rows if m.status == "scheduled"]
    assert "Database upgrade" in {m.title for m in upcoming}
    assert len([m for m in upcoming if m.series_id is not None]) >= 5
    assert all(m.scheduled_for > utcnow() for m in upcoming)
