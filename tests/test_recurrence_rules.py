"""Table tests of the recurrence rules of maintenance series (statusapp/domain/recurrence.py):
RRULE checks, wall-clock expansion in a zone across DST changes; no database."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from statusapp.domain import recurrence
from statusapp.domain.recurrence import RuleError

UTC = dt.timezone.utc
BERLIN = recurrence.zone_of("Europe/Berlin")


def starts(rule, dtstart, zone, after, n):
    built = recurrence.build_rule(recurrence.normalize_rule(rule, zone), recurrence.parse_local(dtstart))
    return list(itertools.islice(recurrence.occurrences_after(built, zone, after), n))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FREQ=WEEKLY;BYDAY=SU", "FREQ=WEEKLY;BYDAY=SU"),
        ("rrule:freq=weekly;byday=su", "FREQ=WEEKLY;BYDAY=SU"),
        ("FREQ=MONTHLY;BYDAY=1SA;INTERVAL=2", "FREQ=MONTHLY;BYDAY=1SA;INTERVAL=2"),
        # UNTIL in UTC becomes the zone's wall-clock time (dateutil expands local times).
        ("FREQ=DAILY;UNTIL=20260701T220000Z", "FREQ=DAILY;UNTIL=20260702T000000"),
        ("FREQ=DAILY;UNTIL=20260701", "FREQ=DAILY;UNTIL=20260701"),
    ],
)
def test_normalize_rule(text, expected):
    assert recurrence.normalize_rule(text, BERLIN) == expected


@pytest.mark.parametrize(
    "text",
    ["", "FREQ=HOURLY", "FREQ=MINUTELY", "BYDAY=SU", "FREQ=WEEKLY;FREQ=DAILY", "FREQ=DAILY;BYHOUR=2",
     "FREQ=DAILY;COUNT=0", "FREQ=DAILY;INTERVAL=x", "FREQ=DAILY;COUNT=3;UNTIL=20270101", "FREQ=DAILY;UNTIL=tomorrow",
     "FREQ=DAILY;UNTIL=20261301", "FREQ", "DTSTART:20260101T000000", "X" * 600],
)
def test_bad_rules(text):
    with pytest.raises(RuleError):
        recurrence.normalize_rule(text, BERLIN)


@pytest.mark.parametrize("value", ["", "soon", "2026-03-01T02:00+01:00", "1850-01-01T00:00", "2300-01-01T00:00"])
def test_bad_starts(value):
    with pytest.raises(RuleError):
        recurrence.parse_local(value)


def test_sunday_two_am_berlin_across_both_dst_changes():
    got = starts("FREQ=WEEKLY;BYDAY=SU", "2026-03-01T02:00", BERLIN, dt.datetime(2026, 3, 20, tzinfo=UTC), 2)
    # 2026-03-22 02:00 CET = 01:00 UTC; 2026-03-29 02:00 does not exist: 03:00 CEST = 01:00 UTC.
    assert got == [dt.datetime(2026, 3, 22, 1, tzinfo=UTC), dt.datetime(2026, 3, 29, 1, tzinfo=UTC)]
    got = starts("FREQ=WEEKLY;BYDAY=SU", "2026-03-01T02:00", BERLIN, dt.datetime(2026, 4, 1, tzinfo=UTC), 1)
    assert got == [dt.datetime(2026, 4, 5, 0, tzinfo=UTC)]  # 02:00 CEST
    # Autumn: 2026-10-25 02:30 happens twice; the first (summer time) is meant.
    got = starts("FREQ=WEEKLY;BYDAY=SU", "2026-03-01T02:30", BERLIN, dt.datetime(2026, 10, 20, tzinfo=UTC), 2)
    assert got == [dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC), dt.datetime(2026, 11, 1, 1, 30, tzinfo=UTC)]
    assert [g.astimezone(BERLIN).hour for g in got] == [2, 2]


def test_until_and_count_end_the_rule():
    assert len(starts("FREQ=DAILY;COUNT=3", "2026-01-01T00:00", UTC_ZONE(), dt.datetime(2025, 1, 1, tzinfo=UTC), 10)) == 3
    assert starts("FREQ=DAILY;UNTIL=20260102T000000Z", "2026-01-01T00:00", UTC_ZONE(),
                  dt.datetime(2025, 1, 1, tzinfo=UTC), 10) == [dt.datetime(2026, 1, 1, tzinfo=UTC),
                                                                dt.datetime(2026, 1, 2, tzinfo=UTC)]


def UTC_ZONE():
    return recurrence.zone_of("UTC")


@pytest.mark.parametrize(
    ("rule", "minutes"),
    [
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", 60),  # never happens: refused within the deadline
        ("FREQ=DAILY", 24 * 60 + 1),  # each window overlaps the next
        ("FREQ=WEEKLY;BYDAY=SA,SU", 24 * 60 + 60),
    ],
)
def test_check_rule_refuses(rule, minutes):
    with pytest.raises(RuleError):
        recurrence.check_rule(recurrence.normalize_rule(rule, BERLIN), dt.datetime(2026, 1, 1, 2, 0), BERLIN,
                              dt.timedelta(minutes=minutes))


def test_check_rule_gives_first_occurrences():
    got = recurrence.check_rule("FREQ=WEEKLY;BYDAY=SU", dt.datetime(2026, 3, 1, 2, 0), BERLIN, dt.timedelta(hours=1))
    assert got[0] == dt.datetime(2026, 3, 1, 1, tzinfo=UTC) and len(got) == recurrence.CHECK_OCCURRENCES


def test_unknown_zone():
    with pytest.raises(RuleError):
        recurrence.zone_of("Mars/Olympus")
