"""Monitoring read models: what the checker runs, what the console shows, the response-time charts.

Raw values (ids, enum values, ISO 8601 UTC times, milliseconds) as in the other read models.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time

from sqlalchemy import func
from sqlmodel import Session, select

from statusapp.db import session_scope
from statusapp.domain.monitor_spec import CheckKind, MonitorSpec, Thresholds, check_from_json, describe_target, form_values
from statusapp.enums import ServiceStatus
from statusapp.models import (
    CheckerHeartbeat,
    Monitor,
    MonitorCheck,
    MonitorDaily,
    Service,
    StatusPage,
    StatusPageService,
    utcnow,
)
from statusapp.queries.public import charted_service_ids, iso

# ---- for the checker ----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ActiveMonitor:
    id: int
    service_id: int
    spec: MonitorSpec
    last_checked_at: dt.datetime | None


def spec_of(mon: Monitor) -> MonitorSpec:
    return MonitorSpec(
        kind=CheckKind(mon.kind),
        interval_seconds=mon.interval_seconds,
        check=check_from_json(mon.kind, mon.check),
        thresholds=Thresholds(mon.failures_to_confirm, mon.successes_to_recover, ServiceStatus(mon.failure_status)),
    )


def monitors_version() -> tuple[int, str]:
    """Changes whenever a monitor is added, removed, reconfigured, paused or resumed: the
    checker polls this (one cheap aggregate) and reloads only then."""
    with session_scope() as session:
        count, newest, total = session.exec(
            select(func.count(Monitor.id), func.max(Monitor.updated_at), func.coalesce(func.sum(Monitor.id), 0))
        ).one()
    return count, f"{iso(newest)}:{total}"


def load_active_monitors() -> list[ActiveMonitor]:
    """Every enabled monitor the checker actively checks (HTTP and TCP; push monitors are
    judged by `domain.monitoring.record_missed_beats`)."""
    with session_scope() as session:
        rows = session.exec(
            select(Monitor).where(Monitor.enabled == True, Monitor.kind != CheckKind.push.value)  # noqa: E712
        ).all()
        return [ActiveMonitor(m.id, m.service_id, spec_of(m), m.last_checked_at) for m in rows]


# ---- for the console ----------------------------------------------------------------------------


@dataclasses.dataclass
class MonitorRow:
    """A service and its monitor (if any), as the console's monitor list shows them."""

    service_id: int = 0
    service_name: str = ""
    has_monitor: bool = False
    kind: str = ""
    target: str = ""
    interval_seconds: int = 0
    enabled: bool = False
    verdict: str = "operational"
    verdict_label: str = ""
    verdict_color: str = ""
    verdict_text_color: str = ""
    recent: str = ""  # oldest first: u up, s slow, d down
    recent_words: str = ""  # the same for people: "up, up, down"
    pending: str = ""  # an unconfirmed change in words ("1 of 2 failures"), console only
    last_checked_at: str = ""
    last_ok: bool = True
    last_reason: str = ""
    last_latency_ms: float | None = None


@dataclasses.dataclass
class CheckRow:
    checked_at: str = ""
    ok: bool = True
    degraded: bool = False
    latency_ms: float | None = None
    status_code: int | None = None
    reason: str = ""


@dataclasses.dataclass
class DailyRow:
    day: str = ""
    checks: int = 0
    failures: int = 0
    avg_latency_ms: float | None = None
    p95_latency_ms: float | None = None


@dataclasses.dataclass
class ChartPoint:
    at: str = ""  # ISO UTC start of the bucket
    ms: float | None = None  # average response time of the bucket's successful checks
    failures: int = 0


@dataclasses.dataclass
class MonitorDetail:
    row: MonitorRow = dataclasses.field(default_factory=MonitorRow)
    form: dict[str, str] = dataclasses.field(default_factory=dict)
    auto_incident: bool = True
    has_push_token: bool = False
    checks: list[CheckRow] = dataclasses.field(default_factory=list)
    daily: list[DailyRow] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class CheckerHealth:
    leader: str = ""
    leader_since: str = ""
    beat_at: str = ""
    alive: bool = False  # a heartbeat within HEALTH_STALE_SECONDS
    monitors: int = 0
    checks_per_minute: int = 0
    lag_p95_ms: float | None = None
    lag_max_ms: float | None = None
    pending_writes: int = 0
    last_error: str = ""


_WORDS = {"u": "up", "s": "slow", "d": "down"}
HEALTH_STALE_SECONDS = 30
RECENT_CHECKS = 50
DAILY_ROWS = 30


def _pending(mon: Monitor, verdict: str) -> str:
    """An unconfirmed change: the run of latest observations that points away from the
    verdict but has not reached the monitor's threshold yet."""
    if not mon.recent:
        return ""
    last = mon.recent[-1]
    run = len(mon.recent) - len(mon.recent.rstrip(last))
    current = ServiceStatus(verdict)
    if last == "d" and current.value != mon.failure_status and run < mon.failures_to_confirm:
        return f"{run} of {mon.failures_to_confirm} failures before it counts as down"
    if last == "u" and current is not ServiceStatus.operational and run < mon.successes_to_recover:
        return f"{run} of {mon.successes_to_recover} successes before it counts as up"
    if last == "s" and current is ServiceStatus.operational and run < mon.failures_to_confirm:
        return f"{run} of {mon.failures_to_confirm} slow checks before it counts as degraded"
    return ""


def _row(svc: Service, mon: Monitor | None) -> MonitorRow:
    verdict = ServiceStatus(svc.monitor_status)
    row = MonitorRow(
        service_id=svc.id, service_name=svc.name, verdict=verdict.value, verdict_label=verdict.label,
        verdict_color=verdict.color, verdict_text_color=verdict.text_color,
    )
    if mon is None:
        return row
    row.has_monitor = True
    row.kind = mon.kind
    row.target = describe_target(mon.kind, check_from_json(mon.kind, mon.check))
    row.interval_seconds = mon.interval_seconds
    row.enabled = mon.enabled
    row.recent = mon.recent
    row.recent_words = ", ".join(_WORDS.get(o, o) for o in mon.recent)
    row.pending = _pending(mon, svc.monitor_status) if mon.enabled else ""
    row.last_checked_at = iso(mon.last_checked_at)
    row.last_ok = bool(mon.last_ok) if mon.last_ok is not None else True
    row.last_reason = mon.last_reason
    row.last_latency_ms = None if mon.last_latency_ms is None else round(mon.last_latency_ms, 1)
    return row


def monitor_rows(session: Session, organization_id: int) -> list[MonitorRow]:
    services = session.exec(
        select(Service).where(Service.organization_id == organization_id).order_by(Service.position, Service.id)
    ).all()
    monitors = {
        m.service_id: m for m in session.exec(select(Monitor).where(Monitor.organization_id == organization_id))
    }
    return [_row(svc, monitors.get(svc.id)) for svc in services]


def load_monitor_rows(organization_id: int) -> list[MonitorRow]:
    with session_scope() as session:
        return monitor_rows(session, organization_id)


def load_monitor_detail(organization_id: int, service_id: int) -> MonitorDetail | None:
    """The console's page of one service's monitor (None: no such service here)."""
    with session_scope() as session:
        svc = session.get(Service, service_id)
        if svc is None or svc.organization_id != organization_id:
            return None
        mon = session.exec(select(Monitor).where(Monitor.service_id == service_id)).first()
        detail = MonitorDetail(row=_row(svc, mon))
        if mon is None:
            return detail
        detail.form = form_values(spec_of(mon))
        detail.auto_incident = mon.auto_incident
        detail.has_push_token = mon.push_token_hash is not None
        detail.checks = [
            CheckRow(iso(c.checked_at), c.ok, c.degraded, c.latency_ms, c.status_code, c.reason)
            for c in session.exec(
                select(MonitorCheck).where(MonitorCheck.monitor_id == mon.id)
                .order_by(MonitorCheck.checked_at.desc(), MonitorCheck.id.desc()).limit(RECENT_CHECKS)
            )
        ]
        detail.daily = [
            DailyRow(d.day.isoformat(), d.checks, d.failures, d.avg_latency_ms, d.p95_latency_ms)
            for d in session.exec(
                select(MonitorDaily).where(MonitorDaily.service_id == service_id)
                .order_by(MonitorDaily.day.desc()).limit(DAILY_ROWS)
            )
        ]
        return detail


def load_checker_health() -> CheckerHealth:
    with session_scope() as session:
        row = session.get(CheckerHeartbeat, 1)
    if row is None or row.beat_at is None:
        return CheckerHealth()
    age = (utcnow() - row.beat_at).total_seconds()
    return CheckerHealth(
        leader=row.leader, leader_since=iso(row.leader_since), beat_at=iso(row.beat_at),
        alive=age < HEALTH_STALE_SECONDS, monitors=row.monitors, checks_per_minute=row.checks_per_minute,
        lag_p95_ms=row.lag_p95_ms, lag_max_ms=row.lag_max_ms, pending_writes=row.pending_writes,
        last_error=row.last_error,
    )


# ---- response-time charts -----------------------------------------------------------------------

# range -> (length, bucket): 24 h in 15-minute buckets, 7 days in hourly ones.
CHART_RANGES = {"24h": (dt.timedelta(hours=24), dt.timedelta(minutes=15)), "7d": (dt.timedelta(days=7), dt.timedelta(hours=1))}
CHART_TTL_SECONDS = 60.0
_charts: dict[tuple[int, str], tuple[float, list[ChartPoint]]] = {}
_charts_lock = threading.Lock()


def response_times(session: Session, service_id: int, range_: str, now: dt.datetime | None = None) -> list[ChartPoint]:
    """Average response time of the service's successful checks per bucket over the range
    (oldest first; a bucket without checks has ms None)."""
    length, bucket = CHART_RANGES[range_]
    now = now or utcnow()
    step = bucket.total_seconds()
    end = (int(now.timestamp() // step) + 1) * step
    start = end - length.total_seconds()
    n = int(length / bucket)
    sums, counts, failures = [0.0] * n, [0] * n, [0] * n
    mon_id = session.exec(select(Monitor.id).where(Monitor.service_id == service_id)).first()
    if mon_id is not None:
        since = dt.datetime.fromtimestamp(start, dt.timezone.utc)
        for at, ok, ms in session.exec(
            select(MonitorCheck.checked_at, MonitorCheck.ok, MonitorCheck.latency_ms)
            .where(MonitorCheck.monitor_id == mon_id, MonitorCheck.checked_at >= since)
        ):
            i = int((at.timestamp() - start) // step)
            if not 0 <= i < n:
                continue
            if not ok:
                failures[i] += 1
            elif ms is not None:
                sums[i] += ms
                counts[i] += 1
    return [
        ChartPoint(
            at=dt.datetime.fromtimestamp(start + i * step, dt.timezone.utc).isoformat(),
            ms=round(sums[i] / counts[i], 1) if counts[i] else None,
            failures=failures[i],
        )
        for i in range(n)
    ]


def load_public_chart(page_id: int, service_id: int, range_: str) -> list[ChartPoint] | None:
    """A response-time chart as a public page shows it; None unless the page is public, shows
    charts and has this monitored service. Cached per service and range for a minute in this
    process: a crowd opening the same chart costs one read."""
    if range_ not in CHART_RANGES:
        return None
    key = (service_id, range_)
    with session_scope() as session:
        page = session.get(StatusPage, page_id)
        if page is None or not page.is_public or service_id not in charted_service_ids(session, page, [service_id]):
            return None
        if session.get(StatusPageService, (page_id, service_id)) is None:
            return None
        with _charts_lock:
            hit = _charts.get(key)
        if hit is not None and time.monotonic() < hit[0]:
            return hit[1]
        points = response_times(session, service_id, range_)
    with _charts_lock:
        for old in [k for k, (exp, _p) in _charts.items() if exp < time.monotonic()]:
            del _charts[old]
        _charts[key] = (time.monotonic() + CHART_TTL_SECONDS, points)
    return points


def load_console_chart(organization_id: int, service_id: int, range_: str) -> list[ChartPoint]:
    if range_ not in CHART_RANGES:
        return []
    with session_scope() as session:
        svc = session.get(Service, service_id)
        if svc is None or svc.organization_id != organization_id:
            return []
        return response_times(session, service_id, range_)
