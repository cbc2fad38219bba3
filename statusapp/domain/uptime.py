"""Pure uptime maths for the 90-day bars; no database, no Reflex. Tested as tables in
tests/test_uptime_rules.py.

Rule (Statuspage's published one, docs: statuspage-api-v2 notes "How Statuspage computes uptime"):
time in `major_outage` counts fully as downtime, `partial_outage` at 30 %,
`degraded_performance`, `under_maintenance` and `operational` not at all. The same rule for every
service, with or without a monitor: it reads only the displayed-status history
(ServiceStatusChange rows).

- Days are local calendar days of the page's time zone (IANA name). A day runs from the first
  instant of its local date to the first instant of the next one, so a DST day lasts 23 or 25
  hours (or 23 h when the clock jumps at midnight, as in America/Santiago). Today's day ends at
  `now`.
- A service exists from the first entry of its timeline. Time before that is "no data": a day
  where the service never existed has `uptime=None`; a day where it existed partly counts only
  that part.
- Time inside a maintenance window of the service is never downtime, whatever the status (a
  monitor may report failures during it). It stays in the denominator (it is time the service
  existed), and a non-operational status inside it shows as `under_maintenance`.
- Percentages are floats in 0..100, unrounded; the UI rounds.

Cost: O(changes + maintenance windows + days) per service, no per-minute loop. Everything is
done on POSIX timestamps; day boundaries are computed once per window (`UptimeWindow`) and
shared by all services of the page, and so are the (immutable) results of "clear" days (existed
all day, operational throughout): only days with non-operational time are built per service.

Loading history cheaply: a service's timeline may start before the window. Entries at or before
`window.start` only decide the status in effect at the start, so a caller needs just "the last
change at or before window.start + every change after it", e.g. per service

    (SELECT changed_at, to_status FROM service_status_change
      WHERE service_id = :id AND changed_at <= :start ORDER BY changed_at DESC LIMIT 1)
    UNION ALL
    SELECT changed_at, to_status FROM service_status_change
      WHERE service_id = :id AND changed_at > :start ORDER BY changed_at

which index ix_status_change_service_at answers with two range scans, however long the history.
A caller that loaded only the rows inside the window passes `status_at_start` instead (e.g. the
`from_status` of the first row inside the window when it is not None, i.e. not the creation).
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TypeVar
from zoneinfo import ZoneInfo

from statusapp.enums import ServiceStatus

K = TypeVar("K", bound=Hashable)

# Share of a status's time that counts as downtime; every other status counts 0.
PARTIAL_OUTAGE_WEIGHT = 0.3
MAJOR_OUTAGE_WEIGHT = 1.0

# Bar colour levels (Statuspage's impact words) from a day's weighted downtime: see bar_level().
BAR_LEVELS = ("nodata", "none", "minor", "major", "critical")
MAJOR_AFTER = dt.timedelta(minutes=30)
CRITICAL_AFTER = dt.timedelta(hours=4)

_OP = ServiceStatus.operational.value
_MAINT = ServiceStatus.under_maintenance.value
_PARTIAL = ServiceStatus.partial_outage.value
_MAJOR = ServiceStatus.major_outage.value
_SEVERITY = {s.value: s.severity for s in ServiceStatus}
_BY_SEVERITY = {s.severity: s.value for s in ServiceStatus}

Timeline = Sequence[tuple[dt.datetime, str]]
Windows = Iterable[tuple[dt.datetime, dt.datetime]]


@dataclasses.dataclass(frozen=True, slots=True)
class DayUptime:
    """One bar: a local calendar day of the page (today: up to `now`). Immutable: clear days
    (existed all day, operational throughout) are shared between the services of a window."""

    date: dt.date
    uptime: float | None  # percent; None when the service did not exist at all that day
    existed_seconds: float  # part of the day when the service existed (the denominator)
    downtime_seconds: float  # major_seconds + 30 % of partial_seconds, maintenance excluded
    partial_seconds: float  # outside maintenance windows
    major_seconds: float  # outside maintenance windows
    worst_status: str | None  # worst displayed status while it existed (maintenance applied)


@dataclasses.dataclass(slots=True)
class ServiceUptime:
    """A service's bars over a window and its uptime over the whole window."""

    days: list[DayUptime]  # oldest first, today last
    uptime: float | None  # time-weighted over the existing time of the window; None if never existed
    existed_seconds: float
    downtime_seconds: float


@dataclasses.dataclass(frozen=True, slots=True)
class UptimeWindow:
    """The last `days` local days of a page up to `now`; build with uptime_window()."""

    dates: tuple[dt.date, ...]
    bounds: tuple[float, ...]  # len(dates) + 1 POSIX timestamps: day starts, then `now`
    day_seconds: tuple[float, ...]  # length of each day (today: up to `now`)
    start: dt.datetime  # aware UTC: start of the oldest day (query history from here)
    now: dt.datetime  # aware UTC
    # Shared results of untouched days: the service existed and was operational all day / not at all.
    clear_days: tuple[DayUptime, ...] = dataclasses.field(repr=False, compare=False)
    no_data_days: tuple[DayUptime, ...] = dataclasses.field(repr=False, compare=False)


def _no_data(date: dt.date) -> DayUptime:
    return DayUptime(date, None, 0.0, 0.0, 0.0, 0.0, None)


def _ts(value: dt.datetime) -> float:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: uptime needs aware datetimes")
    return value.timestamp()


def uptime_window(days: int, tz: str, now: dt.datetime) -> UptimeWindow:
    """The `days` local calendar days (page time zone `tz`) ending with today, today up to `now`."""
    if days < 1:
        raise ValueError("days must be at least 1")
    zone = ZoneInfo(tz)
    now_ts = _ts(now)
    today = now.astimezone(zone).date()
    dates = tuple(today - dt.timedelta(days=days - 1 - i) for i in range(days))
    # fold=0 gives the first instant of the local date, also when midnight falls in a DST gap.
    starts = [dt.datetime.combine(d, dt.time(), tzinfo=zone).timestamp() for d in dates]
    bounds = (*starts, max(now_ts, starts[-1]))
    day_seconds = tuple(b - a for a, b in zip(bounds, bounds[1:]))
    return UptimeWindow(
        dates=dates,
        bounds=bounds,
        day_seconds=day_seconds,
        start=dt.datetime.fromtimestamp(starts[0], dt.timezone.utc),
        now=now.astimezone(dt.timezone.utc),
        clear_days=tuple(
            DayUptime(d, 100.0, secs, 0.0, 0.0, 0.0, _OP) if secs > 0 else _no_data(d)
            for d, secs in zip(dates, day_seconds)
        ),
        no_data_days=tuple(_no_data(d) for d in dates),
    )


def _merge_windows(windows: Windows, lo: float, hi: float) -> list[tuple[float, float]]:
    """Maintenance windows as sorted, disjoint (start, end) timestamps clipped to [lo, hi]."""
    spans = sorted((max(_ts(a), lo), min(_ts(b), hi)) for a, b in windows)
    merged: list[list[float]] = []
    for a, b in spans:
        if a >= b:
            continue
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1][1] = b
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def service_uptime(
    timeline: Timeline,
    window: UptimeWindow,
    *,
    maintenance: Windows = (),
    status_at_start: str | None = None,
) -> ServiceUptime:
    """Daily bars and window uptime of one service.

    `timeline`: `(changed_at, to_status)` sorted by time; the first entry is the creation unless
    it lies at or before window.start. `status_at_start`: the status in effect at window.start
    when the caller loaded only rows inside the window (the service then existed at the start).
    `maintenance`: the service's maintenance windows `(start, end)`, any order, may overlap.
    """
    bounds = window.bounds
    lo, hi = bounds[0], bounds[-1]
    ndays = len(window.dates)

    # Status segments [seg_t[i], seg_t[i + 1]) inside [lo, hi); None = did not exist yet.
    seg_t: list[float] = [lo]
    seg_s: list[str | None] = [status_at_start]
    for changed_at, status in timeline:
        if status not in _SEVERITY:
            raise ValueError(f"unknown service status {status!r}")
        if changed_at.tzinfo is None:
            raise ValueError(f"naive datetime {changed_at!r}: uptime needs aware datetimes")
        t = changed_at.timestamp()
        if t <= lo:
            seg_s[0] = status
        elif t < hi:
            if t == seg_t[-1]:
                seg_s[-1] = status  # same instant: the later row wins
            else:
                seg_t.append(t)
                seg_s.append(status)
    seg_t.append(hi)

    # The service exists from its creation to now: whole days after the creation day.
    created = lo if seg_s[0] is not None else seg_t[1] if len(seg_s) > 1 else hi
    if created >= hi:
        return ServiceUptime(list(window.no_data_days), None, 0.0, 0.0)
    k = bisect.bisect_right(bounds, created) - 1  # the creation day
    worst = [0] * ndays  # severity; 0 = operational
    partial = [0.0] * ndays
    major = [0.0] * ndays
    touched = [k]  # days that are not "existed and operational all day"

    # Only non-operational time changes anything: spread it over the days it covers.
    maint = _merge_windows(maintenance, lo, hi)
    nm = len(maint)
    d = m = 0  # day and maintenance pointers only move forward
    for i in range(len(seg_s)):
        status = seg_s[i]
        if status is None or status == _OP:
            continue
        t, end = seg_t[i], seg_t[i + 1]
        while t < end:
            # The next piece runs up to the next maintenance edge.
            while m < nm and maint[m][1] <= t:
                m += 1
            if m < nm and maint[m][0] <= t:
                e = min(end, maint[m][1])
                eff = _MAINT
            else:
                e = min(end, maint[m][0]) if m < nm else end
                eff = status
            sev = _SEVERITY[eff]
            acc = major if eff == _MAJOR else partial if eff == _PARTIAL else None
            while t < e:
                while bounds[d + 1] <= t:
                    d += 1
                de = bounds[d + 1]
                if de > e:
                    de = e
                if acc is not None:
                    acc[d] += de - t
                if sev > worst[d]:
                    if not worst[d]:
                        touched.append(d)
                    worst[d] = sev
                t = de

    # Untouched days share the window's ready-made results; only touched ones are built.
    out = [*window.no_data_days[:k], *window.clear_days[k:]]
    total_down = 0.0
    for i in set(touched):
        ex = bounds[i + 1] - created if i == k else window.day_seconds[i]
        if ex <= 0:
            continue  # a day of no length (now at midnight): no data
        pa, ma = partial[i], major[i]
        down = MAJOR_OUTAGE_WEIGHT * ma + PARTIAL_OUTAGE_WEIGHT * pa
        total_down += down
        out[i] = DayUptime(
            window.dates[i], 100.0 * (1.0 - down / ex), ex, down, pa, ma, _BY_SEVERITY[worst[i]]
        )
    total = hi - created
    return ServiceUptime(
        days=out,
        uptime=100.0 * (1.0 - total_down / total) if total > 0 else None,
        existed_seconds=total,
        downtime_seconds=total_down,
    )


def services_uptime(
    timelines: Mapping[K, Timeline],
    window: UptimeWindow,
    *,
    maintenance: Mapping[K, Windows] | None = None,
    status_at_start: Mapping[K, str] | None = None,
) -> dict[K, ServiceUptime]:
    """service_uptime() for every service of a page, sharing one window (same keys out as in)."""
    maintenance = maintenance or {}
    status_at_start = status_at_start or {}
    return {
        key: service_uptime(
            timeline,
            window,
            maintenance=maintenance.get(key, ()),
            status_at_start=status_at_start.get(key),
        )
        for key, timeline in timelines.items()
    }


def bar_level(
    day: DayUptime,
    *,
    major_after: dt.timedelta = MAJOR_AFTER,
    critical_after: dt.timedelta = CRITICAL_AFTER,
) -> str:
    """Colour level of a bar from the day's weighted downtime (absolute, so that a day the
    service existed only partly is not exaggerated):

    nodata   the service did not exist that day
    none     no downtime (degraded performance and maintenance count none)
    minor    some downtime, less than `major_after` (30 min)
    major    at least `major_after`, less than `critical_after` (4 h)
    critical at least `critical_after`
    """
    if day.uptime is None:
        return "nodata"
    down = day.downtime_seconds
    if down <= 0:
        return "none"
    if down < major_after.total_seconds():
        return "minor"
    if down < critical_after.total_seconds():
        return "major"
    return "critical"


def mean_uptime(values: Iterable[float | None]) -> float | None:
    """A group's uptime: the mean of its children's, skipping children without data."""
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None
