"""A page's incident history: pages of three months back to the oldest incident, and nothing a
visitor types can make a request cost more. Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlmodel import update

from statusapp.domain import pages
from statusapp.models import Incident, utcnow
from statusapp.queries import public as queries
from tests.domain.helpers import declare, fresh


def _started_months_ago(incident_id: int, months: int) -> None:
    with fresh() as s:
        s.exec(update(Incident).where(Incident.id == incident_id).values(
            started_at=utcnow() - dt.timedelta(days=31 * months)))
        s.commit()


@pytest.fixture
def history_page(org):
    pages.create_page(actor=org, name="Acme", slug="acme")
    recent = declare(org, None, title="Recent")
    old = declare(org, None, title="Old")
    _started_months_ago(old.id, 7)  # on the third page (months 6-8 back)
    return recent, old


def test_pages_reach_back_to_the_oldest_incident(history_page):
    first = queries.load_history("acme", 0)
    assert first.in_range and first.has_older and len(first.months) == 3
    assert [i.title for m in first.months for i in m.incidents] == ["Recent"]
    last = queries.load_history("acme", 2)
    assert last.in_range and not last.has_older
    assert [i.title for m in last.months for i in m.incidents] == ["Old"]


@pytest.mark.parametrize("offset", [3, 10**9, 10**11, 2**63, None])
def test_a_page_past_the_history_is_no_such_page_and_costs_one_query(history_page, offset):
    started = time.monotonic()
    view = queries.load_history("acme", offset)
    assert time.monotonic() - started < 1
    assert (view.in_range, view.months, view.page_name) == (False, [], "Acme")


def test_history_of_an_unknown_page_is_none(org):
    assert queries.load_history("nope", 0) is None


def test_a_page_without_incidents_has_one_history_page(org):
    pages.create_page(actor=org, name="Quiet", slug="quiet")
    assert queries.load_history("quiet", 0).in_range
    assert not queries.load_history("quiet", 0).has_older
    assert not queries.load_history("quiet", 1).in_range


@pytest.mark.parametrize(
    "first, back, expected",
    [((2026, 1), 0, (2026, 1)), ((2026, 1), 1, (2025, 12)), ((2026, 3), 14, (2025, 1)),
     ((2026, 12), -1, (2027, 1)), ((2026, 5), 12 * 2025, (1, 5))],
)
def test_month_arithmetic(first, back, expected):
    start = dt.datetime(*first, 1, tzinfo=dt.timezone.utc)
    got = queries._month_start(start, back)
    assert (got.year, got.month, got.day) == (*expected, 1)
