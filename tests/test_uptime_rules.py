"""Table-driven tests of the pure uptime maths (statusapp/domain/uptime.py); no database.

Times in the tables are local wall-clock times of the case's page time zone.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from statusapp.domain.uptime import (
    DayUptime,
    bar_level,
    mean_uptime,
    service_uptime,
    services_uptime,
    uptime_window,
)

OP = "operational"
MAINT = "under_maintenance"
DEG = "degraded_performance"
PART = "partial_outage"
MAJOR = "major_outage"
H = 3600.0
DAY = 24 * H


def at(value: str, tz: str = "UTC") -> dt.datetime:
    return dt.datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(tz))


def compute(tz, now, days, timeline, maintenance=(), status_at_start=None):
    window = uptime_window(days, tz, at(now, tz))
    return service_uptime(
        [(at(t, tz), s) for t, s in timeline],
        window,
        maintenance=[(at(a, tz), at(b, tz)) for a, b in maintenance],
        status_at_start=status_at_start,
    )


# Unless a case says otherwise: UTC page, 3 days (May 1, May 2, today May 3 up to 12:00).
NOW = "2024-05-03 12:00"
BEFORE = "2024-01-01 00:00"  # creation long before the window

# (tz, now, days, timeline, maintenance, status_at_start,
#  expected per day: (uptime %, downtime s, worst status) or None, expected window uptime %)
CASES = {
    "all operational": (
        "UTC", NOW, 3, [(BEFORE, OP)], [], None,
        [(100, 0, OP), (100, 0, OP), (100, 0, OP)], 100,
    ),
    # 22:00 -> 02:00 partial: 2 h on each day, at 30 % = 2160 s of downtime each.
    "partial outage spanning midnight": (
        "UTC", NOW, 3,
        [(BEFORE, OP), ("2024-05-01 22:00", PART), ("2024-05-02 02:00", OP)], [], None,
        [(97.5, 0.6 * H, PART), (97.5, 0.6 * H, PART), (100, 0, OP)],
        100 * (1 - 1.2 * H / (60 * H)),
    ),
    "full-day major outage": (
        "UTC", NOW, 3,
        [(BEFORE, OP), ("2024-05-01 00:00", MAJOR), ("2024-05-02 00:00", OP)], [], None,
        [(0, DAY, MAJOR), (100, 0, OP), (100, 0, OP)], 100 * (1 - 24 / 60),
    ),
    "major outage still going at now": (
        "UTC", NOW, 3, [(BEFORE, OP), ("2024-05-03 06:00", MAJOR)], [], None,
        [(100, 0, OP), (100, 0, OP), (50, 6 * H, MAJOR)], 90,
    ),
    "degraded counts as up": (
        "UTC", NOW, 3, [(BEFORE, DEG), ("2024-05-02 00:00", OP)], [], None,
        [(100, 0, DEG), (100, 0, OP), (100, 0, OP)], 100,
    ),
    "under_maintenance status counts as up": (
        "UTC", NOW, 3, [(BEFORE, OP), ("2024-05-02 01:00", MAINT), ("2024-05-02 05:00", OP)], [],
        None, [(100, 0, OP), (100, 0, MAINT), (100, 0, OP)], 100,
    ),
    "escalation degraded -> partial -> major": (
        "UTC", NOW, 3,
        [(BEFORE, OP), ("2024-05-01 10:00", DEG), ("2024-05-01 11:00", PART),
         ("2024-05-01 13:00", MAJOR), ("2024-05-01 14:00", OP)], [], None,
        [(100 * (1 - 1.6 / 24), 1.6 * H, MAJOR), (100, 0, OP), (100, 0, OP)],
        100 * (1 - 1.6 / 60),
    ),
    # Maintenance 09:00-12:00 hides 2 h of the 10:00-14:00 major outage: 2 h remain.
    "maintenance window cuts a major outage": (
        "UTC", NOW, 3, [(BEFORE, OP), ("2024-05-01 10:00", MAJOR), ("2024-05-01 14:00", OP)],
        [("2024-05-01 09:00", "2024-05-01 12:00")], None,
        [(100 * (1 - 2 / 24), 2 * H, MAJOR), (100, 0, OP), (100, 0, OP)], 100 * (1 - 2 / 60),
    ),
    "maintenance window covers the whole major outage": (
        "UTC", NOW, 3, [(BEFORE, OP), ("2024-05-01 10:00", MAJOR), ("2024-05-01 14:00", OP)],
        [("2024-05-01 09:00", "2024-05-01 15:00")], None,
        [(100, 0, MAINT), (100, 0, OP), (100, 0, OP)], 100,
    ),
    "operational during maintenance stays operational": (
        "UTC", NOW, 3, [(BEFORE, OP)], [("2024-05-02 09:00", "2024-05-02 15:00")], None,
        [(100, 0, OP), (100, 0, OP), (100, 0, OP)], 100,
    ),
    # Merged: 09:00-13:00 and 16:00-17:00 = 5 h of the 10 h major outage are hidden.
    "overlapping maintenance windows": (
        "UTC", NOW, 3, [(BEFORE, OP), ("2024-05-01 08:00", MAJOR), ("2024-05-01 18:00", OP)],
        [("2024-05-01 10:00", "2024-05-01 13:00"), ("2024-05-01 09:00", "2024-05-01 11:00"),
         ("2024-05-01 12:00", "2024-05-01 12:30"), ("2024-05-01 16:00", "2024-05-01 17:00"),
         ("2024-05-01 16:30", "2024-05-01 17:00")], None,
        [(100 * (1 - 5 / 24), 5 * H, MAJOR), (100, 0, OP), (100, 0, OP)], 100 * (1 - 5 / 60),
    ),
    "maintenance window spanning midnight and the window start": (
        "UTC", NOW, 3, [(BEFORE, MAJOR), ("2024-05-02 02:00", OP)],
        [("2024-04-30 20:00", "2024-05-01 06:00"), ("2024-05-01 23:00", "2024-05-02 01:00")],
        None,
        [(100 * (1 - 17 / 24), 17 * H, MAJOR), (100 * (1 - 1 / 24), H, MAJOR), (100, 0, OP)],
        100 * (1 - 18 / 60),
    ),
    # Created May 2 18:00 in major outage, recovered 20:00: 2 h down out of 6 h that day.
    "service created in the middle of the window": (
        "UTC", NOW, 3, [("2024-05-02 18:00", MAJOR), ("2024-05-02 20:00", OP)], [], None,
        [None, (100 * (1 - 2 / 6), 2 * H, MAJOR), (100, 0, OP)], 100 * (1 - 2 / 18),
    ),
    "service created today": (
        "UTC", NOW, 3, [("2024-05-03 08:00", OP), ("2024-05-03 11:00", PART)], [], None,
        [None, None, (100 * (1 - 0.3 / 4), 0.3 * H, PART)], 100 * (1 - 0.3 / 4),
    ),
    "today counts only up to now": (
        "UTC", NOW, 3, [(BEFORE, OP), ("2024-05-03 09:00", MAJOR), ("2024-05-03 10:00", OP)], [],
        None, [(100, 0, OP), (100, 0, OP), (100 * (1 - 1 / 12), H, MAJOR)], 100 * (1 - 1 / 60),
    ),
    "changes after now are ignored": (
        "UTC", NOW, 3, [(BEFORE, OP), ("2024-05-03 13:00", MAJOR)], [], None,
        [(100, 0, OP), (100, 0, OP), (100, 0, OP)], 100,
    ),
    "no changes inside the window: status carried from before": (
        "UTC", NOW, 3, [(BEFORE, OP), ("2024-04-20 00:00", PART)], [], None,
        [(70, 0.3 * DAY, PART), (70, 0.3 * DAY, PART), (70, 3.6 * H, PART)], 70,
    ),
    "rows inside the window only, status_at_start given": (
        "UTC", NOW, 3, [("2024-05-02 00:00", OP)], [], MAJOR,
        [(0, DAY, MAJOR), (100, 0, OP), (100, 0, OP)], 100 * (1 - 24 / 60),
    ),
    "no rows at all, status_at_start given": (
        "UTC", NOW, 3, [], [], DEG, [(100, 0, DEG), (100, 0, DEG), (100, 0, DEG)], 100,
    ),
    "no rows at all: no data": ("UTC", NOW, 3, [], [], None, [None, None, None], None),
    "now exactly at local midnight: today has no time yet": (
        "UTC", "2024-05-03 00:00", 2, [(BEFORE, PART)], [], None, [(70, 0.3 * DAY, PART), None], 70,
    ),
    "one day, now at midnight": ("UTC", "2024-05-03 00:00", 1, [(BEFORE, OP)], [], None, [None], None),
    "change exactly at the window start": (
        "UTC", NOW, 3, [(BEFORE, OP), ("2024-05-01 00:00", PART)], [], None,
        [(70, 0.3 * DAY, PART), (70, 0.3 * DAY, PART), (70, 3.6 * H, PART)], 70,
    ),
    "two rows at the same instant: the later wins": (
        "UTC", NOW, 3,
        [(BEFORE, OP), ("2024-05-02 12:00", MAJOR), ("2024-05-02 12:00", PART),
         ("2024-05-02 22:00", OP)], [], None,
        [(100, 0, OP), (100 * (1 - 3 / 24), 3 * H, PART), (100, 0, OP)], 100 * (1 - 3 / 60),
    ),
    # Days are the page's local days: 22:00-24:00 New York on May 1 is 02:00-04:00 UTC May 2.
    "local days of the page, not UTC days": (
        "America/New_York", NOW, 3,
        [(BEFORE, OP), ("2024-05-01 22:00", MAJOR), ("2024-05-02 00:00", OP)], [], None,
        [(100 * (1 - 2 / 24), 2 * H, MAJOR), (100, 0, OP), (100, 0, OP)], 100 * (1 - 2 / 60),
    ),
    # Europe/Paris 2024-03-31 has 23 h (02:00 -> 03:00): 1 h of major outage is 1/23.
    "DST spring-forward day (23 h) in Paris": (
        "Europe/Paris", "2024-04-01 12:00", 3,
        [(BEFORE, OP), ("2024-03-31 01:00", MAJOR), ("2024-03-31 04:00", OP)], [], None,
        [(100, 0, OP), (100 * (1 - 2 / 23), 2 * H, MAJOR), (100, 0, OP)],
        100 * (1 - 2 / (24 + 23 + 12)),
    ),
    "DST spring-forward day fully down": (
        "Europe/Paris", "2024-04-01 12:00", 3,
        [(BEFORE, OP), ("2024-03-31 00:00", MAJOR), ("2024-04-01 00:00", OP)], [], None,
        [(100, 0, OP), (0, 23 * H, MAJOR), (100, 0, OP)], 100 * (1 - 23 / 59),
    ),
    # Europe/Paris 2024-10-27 has 25 h (03:00 -> 02:00): 01:00-04:00 local is 4 h, 4/25 down.
    "DST fall-back day (25 h) in Paris": (
        "Europe/Paris", "2024-10-28 12:00", 3,
        [(BEFORE, OP), ("2024-10-27 01:00", MAJOR), ("2024-10-27 04:00", OP)], [], None,
        [(100, 0, OP), (84, 4 * H, MAJOR), (100, 0, OP)], 100 * (1 - 4 / (24 + 25 + 12)),
    ),
    "DST fall-back day partial outage all day": (
        "Europe/Paris", "2024-10-28 12:00", 3,
        [(BEFORE, OP), ("2024-10-27 00:00", PART), ("2024-10-28 00:00", OP)], [], None,
        [(100, 0, OP), (70, 0.3 * 25 * H, PART), (100, 0, OP)],
        100 * (1 - 7.5 / 61),
    ),
    # America/Santiago jumps from 00:00 to 01:00 on 2024-09-08: that day starts at 01:00.
    "DST gap at midnight (Santiago)": (
        "America/Santiago", "2024-09-09 12:00", 3,
        [(BEFORE, OP), ("2024-09-07 23:00", MAJOR), ("2024-09-08 02:00", OP)], [], None,
        [(100 * (1 - 1 / 24), H, MAJOR), (100 * (1 - 1 / 23), H, MAJOR), (100, 0, OP)],
        100 * (1 - 2 / (24 + 23 + 12)),
    ),
}


@pytest.mark.parametrize(
    ("tz", "now", "days", "timeline", "maintenance", "status_at_start", "expected", "overall"),
    CASES.values(),
    ids=CASES.keys(),
)
def test_service_uptime(tz, now, days, timeline, maintenance, status_at_start, expected, overall):
    result = compute(tz, now, days, timeline, maintenance, status_at_start)
    today = at(now, tz).date()
    assert [d.date for d in result.days] == [today - dt.timedelta(days=days - 1 - i) for i in range(days)]
    got = [
        None if d.uptime is None else (d.uptime, d.downtime_seconds, d.worst_status)
        for d in result.days
    ]
    want = [None if e is None else (pytest.approx(e[0]), pytest.approx(e[1]), e[2]) for e in expected]
    assert got == want
    assert result.uptime == (None if overall is None else pytest.approx(overall))
    for d in result.days:
        assert d.downtime_seconds == pytest.approx(d.major_seconds + 0.3 * d.partial_seconds)
        if d.uptime is None:
            assert (d.existed_seconds, d.worst_status) == (0, None)


@pytest.mark.parametrize(
    ("tz", "now", "hours"),
    [
        ("UTC", "2024-05-03 12:00", [24, 24, 12]),
        ("Europe/Paris", "2024-04-01 12:00", [24, 23, 12]),
        ("Europe/Paris", "2024-10-28 06:30", [24, 25, 6.5]),
        ("America/Santiago", "2024-09-09 00:00", [24, 23, 0]),
    ],
)
def test_window_day_lengths(tz, now, hours):
    window = uptime_window(3, tz, at(now, tz))
    b = window.bounds
    assert [(b[i + 1] - b[i]) / H for i in range(3)] == hours
    assert window.start.utcoffset() == dt.timedelta(0)
    assert window.start.astimezone(ZoneInfo(tz)).time() in (dt.time(0), dt.time(1))


def test_existed_seconds_of_a_day_created_midway():
    result = compute("UTC", NOW, 3, [("2024-05-02 18:00", OP)])
    assert [d.existed_seconds for d in result.days] == [0, 6 * H, 12 * H]


def _random_timeline(rng: random.Random, start: dt.datetime, days: int) -> list:
    t = start + dt.timedelta(minutes=rng.randrange(0, 3 * 1440))
    out = [(t, OP)]
    while True:
        t += dt.timedelta(minutes=rng.randrange(1, 1000))
        if t >= start + dt.timedelta(days=days + 2):
            return out
        out.append((t, rng.choice([OP, OP, DEG, PART, MAJOR, MAINT])))


def _brute_force(timeline, maintenance, tz, now, days):
    """Minute by minute (every time here is on a whole minute): the definition, slowly."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    first = today - dt.timedelta(days=days - 1)
    per_day: dict[dt.date, list[float]] = {}
    t = timeline[0][0]
    i = 0
    while t < now:
        while i + 1 < len(timeline) and timeline[i + 1][0] <= t:
            i += 1
        date = t.astimezone(zone).date()
        if date >= first:
            status = timeline[i][1]
            if any(a <= t < b for a, b in maintenance):
                status = OP
            acc = per_day.setdefault(date, [0.0, 0.0])
            acc[0] += 60
            acc[1] += 60 * {MAJOR: 1.0, PART: 0.3}.get(status, 0.0)
        t += dt.timedelta(minutes=1)
    return [per_day.get(first + dt.timedelta(days=k)) for k in range(days)]


@pytest.mark.parametrize("seed", range(4))
def test_matches_minute_by_minute_definition(seed):
    """Random histories over a DST change, against a per-minute count of the rule."""
    rng = random.Random(seed)
    tz, days = "Europe/Paris", 6
    start = dt.datetime(2024, 10, 23, 22, 0, tzinfo=dt.timezone.utc)
    now = start + dt.timedelta(days=days, minutes=rng.randrange(0, 1440))
    timeline = _random_timeline(rng, start - dt.timedelta(days=2), days)
    maintenance = []
    for _ in range(3):
        a = start + dt.timedelta(minutes=rng.randrange(-600, days * 1440))
        maintenance.append((a, a + dt.timedelta(minutes=rng.randrange(1, 900))))
    result = service_uptime(timeline, uptime_window(days, tz, now), maintenance=maintenance)
    expected = _brute_force(timeline, maintenance, tz, now, days)
    for day, want in zip(result.days, expected):
        if want is None:
            assert day.uptime is None
        else:
            assert (day.existed_seconds, day.downtime_seconds) == (pytest.approx(want[0]), pytest.approx(want[1]))


@pytest.mark.parametrize("seed", range(4))
def test_trimmed_history_gives_the_same_result(seed):
    """The cheap load (last change at or before the start + the rest), or only the rows
    inside with status_at_start, gives what the full history gives."""
    rng = random.Random(seed)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    timeline = _random_timeline(rng, start, 60)
    window = uptime_window(30, "Europe/Paris", start + dt.timedelta(days=50, hours=7))
    full = service_uptime(timeline, window)
    before = [row for row in timeline if row[0] <= window.start]
    inside = [row for row in timeline if row[0] > window.start]
    assert before, "the service exists before the window in this test"
    assert service_uptime(before[-1:] + inside, window) == full
    assert service_uptime(inside, window, status_at_start=before[-1][1]) == full


def test_services_uptime_does_each_service():
    window = uptime_window(3, "UTC", at(NOW))
    timelines = {
        "api": [(at(BEFORE), OP), (at("2024-05-01 00:00"), MAJOR), (at("2024-05-02 00:00"), OP)],
        "web": [(at("2024-05-02 00:00"), OP)],
        "db": [],
    }
    maintenance = {"api": [(at("2024-05-01 00:00"), at("2024-05-01 12:00"))]}
    result = services_uptime(timelines, window, maintenance=maintenance, status_at_start={"db": PART})
    assert list(result) == ["api", "web", "db"]
    assert [d.uptime for d in result["api"].days] == [50, 100, 100]
    assert [d.uptime for d in result["web"].days] == [None, 100, 100]
    assert result["db"].uptime == pytest.approx(70)
    assert result["api"] == service_uptime(timelines["api"], window, maintenance=maintenance["api"])


@pytest.mark.parametrize(
    ("timeline", "error"),
    [
        ([(dt.datetime(2024, 5, 1), OP)], "naive"),
        ([(at(BEFORE), "on_fire")], "unknown service status"),
    ],
)
def test_rejects_bad_rows(timeline, error):
    with pytest.raises(ValueError, match=error):
        service_uptime(timeline, uptime_window(3, "UTC", at(NOW)))


def test_window_rejects_bad_arguments():
    with pytest.raises(ValueError):
        uptime_window(0, "UTC", at(NOW))
    with pytest.raises(ValueError):
        uptime_window(3, "UTC", dt.datetime(2024, 5, 3))


def _day(uptime, down):
    return DayUptime(dt.date(2024, 5, 1), uptime, DAY, down, 0.0, 0.0, None if uptime is None else OP)


@pytest.mark.parametrize(
    ("uptime", "down", "level"),
    [
        (None, 0, "nodata"),
        (100, 0, "none"),  # also a fully degraded or maintenance day
        (100 * (1 - 180 / DAY), 180, "minor"),  # 10 min of partial outage
        (99.0, 30 * 60 - 1, "minor"),
        (98.0, 30 * 60, "major"),
        (90.0, 4 * H - 1, "major"),
        (80.0, 4 * H, "critical"),
        (0.0, DAY, "critical"),
    ],
)
def test_bar_level(uptime, down, level):
    assert bar_level(_day(uptime, down)) == level


def test_bar_level_thresholds_are_adjustable():
    day = _day(99.0, 20 * 60)
    assert bar_level(day) == "minor"
    assert bar_level(day, major_after=dt.timedelta(minutes=15)) == "major"
    assert bar_level(day, major_after=dt.timedelta(minutes=5), critical_after=dt.timedelta(minutes=10)) == "critical"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], None),
        ([None, None], None),
        ([100.0], 100.0),
        ([100.0, 90.0], 95.0),
        ([100.0, None, 70.0], 85.0),  # a child without data does not count as 100 %
    ],
)
def test_mean_uptime(values, expected):
    assert mean_uptime(values) == (None if expected is None else pytest.approx(expected))
