"""Uptime read models: per service, 90 daily bars of a page and the 90-day percentage.

Split in two for the live page, because they change at very different rates:

* the 89 finished days never change once they are over (status history rows are written at
  "now"), so they are computed once per page per local day per process (`finished_bars`,
  memoized; a TTL picks up edited incident titles) and sent to a visitor once per visit;
* today's bar and the percentages change with every status change: `today_uptime` computes
  them at each rebuild of the page view from today's changes alone, plus the finished days'
  sums, and they travel in the live view.

Both read the status history with the two-index-scan load of `domain.uptime` (one statement
for all the page's services: the changes inside the window, the status in effect at its start
from the first one's `from_status`) and apply Statuspage's rule there. Time a service spent
inside a maintenance window (from its actual start to its completion, or now while it runs)
is never downtime (`_maintenance_windows`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import threading
import time
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import or_
from sqlmodel import Session, select

from statusapp.db import session_scope
from statusapp.domain.uptime import DayUptime, UptimeWindow, bar_level, services_uptime, uptime_window
from statusapp.enums import MaintenanceStatus, ServiceStatus
from statusapp.models import (
    Incident,
    IncidentService,
    Maintenance,
    MaintenanceService,
    Service,
    ServiceStatusChange,
    StatusPage,
    utcnow,
)

UPTIME_DAYS = 90
FINISHED_TTL_SECONDS = 300.0
MAX_TITLES = 3  # incident titles listed per bar; "+ N more" after that


# A bar's level as one character, for the compact strips sent to visitors (StripView.levels).
LEVEL_CODES = {"nodata": "0", "none": "1", "minor": "2", "major": "3", "critical": "4"}


@dataclasses.dataclass
class BarView:
    """One day of one service: local date, colour level (domain.uptime.bar_level), uptime in
    percent (None: the service did not exist), worst status shown, incidents of that day, and
    all of it in words (`label`, several lines: what a bar's tooltip and screen readers say)."""

    date: str = ""  # YYYY-MM-DD, the page's local date
    level: str = "nodata"  # nodata | none | minor | major | critical
    uptime: float | None = None
    status: str = ""  # worst status that day ("" without data)
    incidents: list[str] = dataclasses.field(default_factory=list)  # titles, at most MAX_TITLES
    more_incidents: int = 0
    label: str = ""

    @property
    def plain(self) -> bool:
        """Nothing to tell but the date and "100% uptime" (or "no data")."""
        return self.level in ("none", "nodata") and not self.incidents and self.status in ("", "operational")


@dataclasses.dataclass
class StripView:
    """One service's finished days as a visitor's page receives them: a level code per day
    (LEVEL_CODES, oldest first) and words only for the days that are not plain."""

    levels: str = ""
    labels: dict[str, str] = dataclasses.field(default_factory=dict)  # day index -> BarView.label


@dataclasses.dataclass
class PageHistory:
    """A page's finished days, compact (sent once per visit, never pushed): the dates in words
    once for all services, then a strip per service id."""

    dates: list[str] = dataclasses.field(default_factory=list)  # "Mar 3, 2026", oldest first
    services: dict[str, StripView] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class FinishedBars:
    """The 89 finished days of a page's services (oldest first) and their sums."""

    page_id: int
    day: str  # the local date these were computed on ("today" for them)
    bars: dict[int, list[BarView]]
    existed_seconds: dict[int, float]
    downtime_seconds: dict[int, float]
    _compact: PageHistory | None = dataclasses.field(default=None, repr=False)

    def compact(self) -> PageHistory:
        """What a visitor's page receives (computed once per FinishedBars)."""
        if self._compact is None:
            any_bars = next(iter(self.bars.values()), [])
            self._compact = PageHistory(
                dates=[_date_words(dt.date.fromisoformat(b.date)) for b in any_bars],
                services={
                    str(sid): StripView(
                        levels="".join(LEVEL_CODES[b.level] for b in bars),
                        labels={str(i): b.label for i, b in enumerate(bars) if not b.plain},
                    )
                    for sid, bars in self.bars.items()
                },
            )
        return self._compact


@dataclasses.dataclass
class TodayUptime:
    today: BarView
    uptime: float | None  # the 90-day percentage, None when the service never existed in it


# ---- loading status history ---------------------------------------------------------------------


def _timelines(
    session: Session, services: Sequence[Service], since: dt.datetime
) -> tuple[dict[int, list[tuple[dt.datetime, str]]], dict[int, str]]:
    """Per service: the changes after `since` (time order), and the status in effect at `since`
    for those that existed then (absent: created after `since`)."""
    ids = [s.id for s in services]
    timelines: dict[int, list[tuple[dt.datetime, str]]] = {i: [] for i in ids}
    first_from: dict[int, str | None] = {}
    if ids:
        sc = ServiceStatusChange
        for sid, at, from_status, to_status in session.exec(
            select(sc.service_id, sc.changed_at, sc.from_status, sc.to_status)
            .where(sc.service_id.in_(ids), sc.changed_at > since)
            .order_by(sc.service_id, sc.changed_at, sc.id)
        ):
            if sid not in first_from:
                first_from[sid] = from_status
            timelines[sid].append((at, to_status))
    at_start = {}
    for svc in services:
        if svc.id in first_from:
            if first_from[svc.id] is not None:  # None: its creation is inside the window
                at_start[svc.id] = first_from[svc.id]
        elif svc.created_at <= since:
            at_start[svc.id] = svc.status  # nothing changed since: what it shows now
    return timelines, at_start


def _maintenance_windows(
    session: Session, services: Sequence[Service], start: dt.datetime, now: dt.datetime
) -> dict[int, list[tuple[dt.datetime, dt.datetime]]]:
    """Per service: the maintenance windows it was actually under (started; until completed,
    or `now` while in progress) that overlap [start, now]."""
    ids = [s.id for s in services]
    out: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    if not ids:
        return out
    m = Maintenance
    rows = session.exec(
        select(MaintenanceService.service_id, m.started_at, m.completed_at, m.status)
        .join(m, m.id == MaintenanceService.maintenance_id)
        .where(
            MaintenanceService.service_id.in_(ids),
            m.started_at.is_not(None),
            m.started_at < now,
            or_(m.completed_at.is_(None), m.completed_at > start),
        )
    ).all()
    for sid, started, completed, status in rows:
        if completed is None and not MaintenanceStatus(status).is_active:
            continue  # deleted or cancelled without a completion: no window
        out[sid].append((started, completed or now))
    return out


def _incident_titles(
    session: Session, services: Sequence[Service], window: UptimeWindow
) -> dict[tuple[int, int], list[str]]:
    """(service id, day index in the window) -> titles of the incidents affecting the service
    that day (active at any moment of it), oldest first."""
    ids = [s.id for s in services]
    out: dict[tuple[int, int], list[str]] = defaultdict(list)
    if not ids:
        return out
    rows = session.exec(
        select(IncidentService.service_id, Incident.title, Incident.started_at, Incident.resolved_at)
        .join(Incident, Incident.id == IncidentService.incident_id)
        .where(
            IncidentService.service_id.in_(ids),
            Incident.started_at < window.now,
            or_(Incident.resolved_at.is_(None), Incident.resolved_at >= window.start),
        )
        .order_by(Incident.started_at, Incident.id)
    ).all()
    bounds = window.bounds
    for sid, title, started, resolved in rows:
        lo = started.timestamp()
        hi = (resolved or window.now).timestamp()
        for i in range(len(window.dates)):
            if bounds[i] <= hi and lo < bounds[i + 1]:
                out[(sid, i)].append(title)
    return out


@functools.lru_cache(maxsize=1024)
def _date_words(day: dt.date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


_STATUS_LABEL = {s.value: s.label for s in ServiceStatus}


def percent_words(value: float | None) -> str:
    """"99.95%": two decimals, rounded down so that any downtime never shows as 100%."""
    if value is None:
        return "no data"
    if value >= 100:
        return "100%"
    return f"{math.floor(value * 100) / 100:.2f}%"


def _bar(day: DayUptime, titles: list[str]) -> BarView:
    status = day.worst_status or ""
    lines = [f"{_date_words(day.date)}: " + ("no data" if day.uptime is None else f"{percent_words(day.uptime)} uptime")]
    if status and status != ServiceStatus.operational.value:
        lines.append(f"{_STATUS_LABEL[status]} at worst")
    lines += [f"• {t}" for t in titles[:MAX_TITLES]]
    if len(titles) > MAX_TITLES:
        lines.append(f"and {len(titles) - MAX_TITLES} more")
    return BarView(
        date=day.date.isoformat(),
        level=bar_level(day),
        uptime=None if day.uptime is None else round(day.uptime, 4),
        status=status,
        incidents=titles[:MAX_TITLES],
        more_incidents=max(0, len(titles) - MAX_TITLES),
        label="\n".join(lines),
    )


# ---- the finished days (memoized per page per local day) -----------------------------------------

_finished: dict[tuple, tuple[float, FinishedBars]] = {}
_latest_key: dict[int, tuple] = {}
_lock = threading.Lock()


def _compute_finished(session: Session, page_id: int, services: Sequence[Service], tz: str, now: dt.datetime) -> FinishedBars:
    window = uptime_window(UPTIME_DAYS, tz, now)
    timelines, at_start = _timelines(session, services, window.start)
    windows = _maintenance_windows(session, services, window.start, window.now)
    results = services_uptime(timelines, window, status_at_start=at_start, maintenance=windows)
    titles = _incident_titles(session, services, window)
    last = len(window.dates) - 1  # today: not finished
    bars, existed, down = {}, {}, {}
    # Most days are "clear" or "no data": one DayUptime object shared by every service of the
    # window (domain.uptime), so one BarView each as well, unless the day lists incidents.
    shared: dict[int, BarView] = {}
    titled = {key for key in titles}
    for sid, res in results.items():
        days = res.days[:last]
        row = []
        for i, d in enumerate(days):
            if (sid, i) in titled:
                row.append(_bar(d, titles[(sid, i)]))
                continue
            bar = shared.get(id(d))
            if bar is None:
                bar = shared[id(d)] = _bar(d, [])
            row.append(bar)
        bars[sid] = row
        existed[sid] = res.existed_seconds - res.days[last].existed_seconds
        down[sid] = res.downtime_seconds - res.days[last].downtime_seconds
    return FinishedBars(page_id, window.dates[last].isoformat(), bars, existed, down)


def finished_bars(session: Session, page: StatusPage, services: Sequence[Service], now: dt.datetime | None = None) -> FinishedBars:
    """The page's finished days, computed at most once per page, service set, time zone and
    local day (and every FINISHED_TTL_SECONDS, for edited incidents) in this process."""
    now = now or utcnow()
    tz = page.time_zone or "UTC"
    today = uptime_window(1, tz, now).dates[0].isoformat()
    key = (page.id, tuple(s.id for s in services), tz, today)
    with _lock:
        hit = _finished.get(key)
    if hit is not None and time.monotonic() < hit[0]:
        return hit[1]
    bars = _compute_finished(session, page.id, services, tz, now)
    with _lock:
        expires = time.monotonic() + FINISHED_TTL_SECONDS
        for old in [k for k, (exp, _b) in _finished.items() if exp < time.monotonic() or k[0] == page.id]:
            del _finished[old]
        _finished[key] = (expires, bars)
        _latest_key[page.id] = key
    return bars


def cached_finished_bars(page_id: int | None) -> FinishedBars | None:
    """The page's finished days if this process has them fresh (no I/O: for computed vars)."""
    if page_id is None:
        return None
    with _lock:
        key = _latest_key.get(page_id)
        hit = _finished.get(key) if key is not None else None
    if hit is None or time.monotonic() >= hit[0]:
        return None
    return hit[1]


# ---- today and the percentages (every rebuild of the live view) ---------------------------------


def today_uptime(
    session: Session, page: StatusPage, services: Sequence[Service], now: dt.datetime | None = None
) -> dict[int, TodayUptime]:
    """Per service: today's bar and the 90-day uptime, from today's changes only (the finished
    days come from `finished_bars`)."""
    now = now or utcnow()
    tz = page.time_zone or "UTC"
    finished = finished_bars(session, page, services, now)
    window = uptime_window(1, tz, now)
    timelines, at_start = _timelines(session, services, window.start)
    windows = _maintenance_windows(session, services, window.start, window.now)
    results = services_uptime(timelines, window, status_at_start=at_start, maintenance=windows)
    titles = _incident_titles(session, services, window)
    out = {}
    for sid, res in results.items():
        day = res.days[0]
        existed = finished.existed_seconds.get(sid, 0.0) + day.existed_seconds
        down = finished.downtime_seconds.get(sid, 0.0) + day.downtime_seconds
        out[sid] = TodayUptime(
            today=_bar(day, titles.get((sid, 0), [])),
            uptime=round(100.0 * (1.0 - down / existed), 4) if existed > 0 else None,
        )
    return out


def service_uptime_percent(service_id: int, time_zone: str, now: dt.datetime | None = None) -> float | None:
    """One service's uptime over the last 90 local days of `time_zone` (for badges and the API)."""
    now = now or utcnow()
    with session_scope() as session:
        svc = session.get(Service, service_id)
        if svc is None:
            return None
        window = uptime_window(UPTIME_DAYS, time_zone, now)
        timelines, at_start = _timelines(session, [svc], window.start)
        windows = _maintenance_windows(session, [svc], window.start, window.now)
        return services_uptime(timelines, window, status_at_start=at_start, maintenance=windows)[svc.id].uptime
