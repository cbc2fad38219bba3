"""Uptime read models on hand-made histories (SQLite and PostgreSQL): the 89 finished days plus
today add up to the whole window, days before a service existed have no data, an incident shows
on every day it touched, and the live page view carries today's bar only."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete

from statusapp.domain import incidents, pages
from statusapp.domain.uptime import service_uptime, uptime_window
from statusapp.models import Incident, Service, ServiceStatusChange, StatusPage
from statusapp.queries import uptime
from statusapp.queries.public import page_services, page_view
from tests.domain.helpers import MAJOR, OP, PART, fresh, new_service

TZ = "Europe/Paris"
NOW = dt.datetime(2026, 3, 31, 10, 0, tzinfo=ZoneInfo(TZ))  # the day after the spring DST change


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(TZ))


def with_history(service_id: int, timeline: list[tuple[str, str]]) -> list[tuple[dt.datetime, str]]:
    """Replace a service's status history with `timeline` (local times of the page)."""
    rows = [(at(t), s) for t, s in timeline]
    with fresh() as s:
        s.exec(delete(ServiceStatusChange).where(ServiceStatusChange.service_id == service_id))
        prev = None
        for when, status in rows:
            s.add(ServiceStatusChange(organization_id=1, service_id=service_id, service_name="x", from_status=prev,
                                      to_status=status, cause="monitor", changed_at=when))
            prev = status
        svc = s.get(Service, service_id)
        svc.status, svc.created_at = rows[-1][1], rows[0][0]
        s.add(svc)
        s.commit()
    return rows


@pytest.fixture
def page(org):
    uptime._finished.clear()
    uptime._latest_key.clear()
    old = new_service(org, "old")
    late = new_service(org, "late")
    p = pages.create_page(actor=org, name="P", slug="p", service_ids=[old.id, late.id], time_zone=TZ)
    return p, old, late


def compute(page_id: int):
    with fresh() as s:
        p = s.get(StatusPage, page_id)
        services = page_services(s, p)
        return uptime.finished_bars(s, p, services, NOW), uptime.today_uptime(s, p, services, NOW)


def test_finished_days_and_today_add_up_to_the_whole_window(page):
    p, old, late = page
    timeline = with_history(old.id, [
        ("2025-06-01 00:00", OP),
        ("2026-03-20 22:00", PART), ("2026-03-21 02:00", OP),  # a partial outage over midnight
        ("2026-03-29 01:30", MAJOR), ("2026-03-29 04:00", OP),  # across the DST change (23 h day)
        ("2026-03-31 08:00", MAJOR), ("2026-03-31 09:00", OP),  # today
    ])
    finished, today = compute(p.id)
    whole = service_uptime(timeline, uptime_window(90, TZ, NOW))
    bars = finished.bars[old.id]
    assert len(bars) == 89
    assert [b.uptime for b in bars] == [pytest.approx(d.uptime, abs=1e-3) for d in whole.days[:-1]]
    assert [b.level for b in bars[-11:-9]] == ["major", "major"]  # Mar 20 and 21: 2 h at 30 % = 36 min each
    assert bars[-11].date == "2026-03-20" and bars[-11].status == PART
    assert bars[-2].date == "2026-03-29" and bars[-2].uptime == pytest.approx(100 * (1 - 1.5 / 23), abs=1e-3)
    assert today[old.id].today.date == "2026-03-31" and today[old.id].today.level == "major"
    assert today[old.id].today.label == "Mar 31, 2026: 90.00% uptime\nMajor outage at worst"  # 1 h of 10
    assert today[old.id].uptime == pytest.approx(whole.uptime, abs=1e-3)


def test_days_before_a_service_existed_have_no_data(page):
    p, old, late = page
    with_history(old.id, [("2025-01-01 00:00", OP)])
    with_history(late.id, [("2026-03-25 18:00", MAJOR), ("2026-03-25 20:00", OP)])
    finished, today = compute(p.id)
    bars = finished.bars[late.id]
    assert [b.level for b in bars[:-6]] == ["nodata"] * 83 and bars[0].uptime is None
    assert bars[-6].date == "2026-03-25" and bars[-6].uptime == pytest.approx(100 * (1 - 2 / 6), abs=1e-3)
    existed = (6 + 3 * 24 + 23 + 24 + 10) * 3600  # Mar 25 18:00 -> Mar 31 10:00, Mar 29 lasting 23 h
    assert today[late.id].uptime == pytest.approx(100 * (1 - 2 * 3600 / existed), abs=1e-3)
    assert today[old.id].uptime == 100.0


def test_an_incident_shows_on_every_day_it_touched(page, org):
    p, old, late = page
    with_history(old.id, [("2025-01-01 00:00", OP)])
    inc = incidents.create_incident(actor=org, title="Disk full", impact="minor", message="m",
                                    services={old.id: "degraded_performance"})
    with fresh() as s:
        row = s.get(Incident, inc.id)
        row.started_at, row.resolved_at, row.status = at("2026-03-27 23:00"), at("2026-03-28 01:00"), "resolved"
        s.add(row)
        s.commit()
    finished, _today = compute(p.id)
    titled = {b.date: b.incidents for b in finished.bars[old.id] if b.incidents}
    assert titled == {"2026-03-27": ["Disk full"], "2026-03-28": ["Disk full"]}


def test_the_live_view_carries_today_and_the_percentage_not_the_finished_days(page):
    p, old, late = page
    with fresh() as s:
        view = page_view(s, s.get(StatusPage, p.id))
    services = [svc for g in view.groups for svc in g.services]
    assert {svc.id for svc in services} == {old.id, late.id}
    for svc in services:
        assert svc.today_level == "none" and svc.uptime == 100.0
        assert svc.today_label == ""  # a plain day: the page says "Today: 100% uptime" itself
        assert all(not isinstance(v, list) or len(v) < 10 for v in dataclasses.asdict(svc).values())


def test_visitors_get_the_finished_days_compact(page, org):
    """Plain days travel as one character; only the others carry their words."""
    p, old, late = page
    with_history(old.id, [("2025-01-01 00:00", OP), ("2026-03-20 22:00", PART), ("2026-03-21 02:00", OP)])
    with_history(late.id, [("2026-03-25 18:00", OP)])
    finished, _today = compute(p.id)
    history = finished.compact()
    assert len(history.dates) == 89 and history.dates[-1] == "Mar 30, 2026"
    strip = history.services[str(old.id)]
    assert strip.levels == "1" * 78 + "33" + "1" * 9
    assert strip.labels == {
        "78": "Mar 20, 2026: 97.50% uptime\nPartial outage at worst",
        "79": "Mar 21, 2026: 97.50% uptime\nPartial outage at worst",
    }
    assert history.services[str(late.id)].levels == "0" * 83 + "1" * 6
