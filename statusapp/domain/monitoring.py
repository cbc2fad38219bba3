"""Monitor operations: configure a service's monitor, and record what the checker observed.

Admin side: `set_monitor` (create, reconfigure, pause), `delete_monitor`, `regenerate_push_token`.
Checker side (high volume): `record_check_results` (one call per batch of results),
`record_push` (a heartbeat arrived), `record_missed_beats`, `roll_up_checks`, `prune_checks`,
`record_checker_heartbeat`.

Raw results are written in bulk with no outbox row each: only a *confirmed* change of verdict
(`domain.status.next_verdict`: N failures in a row, M successes in a row) is a change of state.
It sets `Service.monitor_status`, a third input of the shown status, and goes through
`recompute_services` with `ChangeCause.monitor`, so history, live push and outbox follow as for
any change; it may open an incident ("<service> is not responding") or resolve the one it
opened, through the incident operations, in the same transaction (`unit_of_work` nests).

During a maintenance in progress on its service, a monitor's verdict never gets worse: the
failures are recorded (raw checks, `recent`) but confirm nothing, so they neither open an
incident nor count as an outage; a recovery still counts. After the window the same recent
failures confirm the outage at the next failing check, as they would have without it.

Locks (PostgreSQL), always in this order: monitor rows, then incidents, then services (ids
ascending in each). People's incident operations lock an incident and then services, and never
a monitor row, so the two cannot wait on each other in a cycle.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import secrets
from collections import defaultdict
from collections.abc import Mapping, Sequence

from sqlalchemy import delete, func, insert, select as sa_select
from sqlmodel import Session, select

from statusapp.db import get_engine
from statusapp.domain import incidents
from statusapp.domain.base import Actor, UnitOfWork, unit_of_work
from statusapp.domain.errors import DomainError, NotFound
from statusapp.domain.events import MonitorDeleted, MonitorSaved, MonitorVerdictChanged, StatusChange
from statusapp.domain.monitor_spec import CheckKind, MonitorSpec, PushCheck, check_to_json, clean_bool, clean_monitor_spec
from statusapp.domain.servicestatus import (
    active_incident_statuses,
    lock_services,
    recompute_services,
    services_under_maintenance,
)
from statusapp.domain.status import DOWN, RECENT_KEPT, SLOW, UP, is_down_confirmed, next_verdict
from statusapp.domain.validation import Errors, clean_text
from statusapp.enums import IMPACT_DEFAULT_SERVICE_STATUS, ChangeCause, IncidentImpact, IncidentStatus, ServiceStatus
from statusapp.models import (
    CheckerHeartbeat,
    Incident,
    IncidentUpdate,
    Monitor,
    MonitorCheck,
    MonitorDaily,
    Service,
    utcnow,
)

MAX_REASON = 300
# A push URL called more often than this is answered "too many requests" and not recorded:
# whoever holds the secret cannot fill the database.
PUSH_MIN_SECONDS = 1.0
_IMPACT_OF = {status: impact for impact, status in IMPACT_DEFAULT_SERVICE_STATUS.items()}


def monitor_actor(organization_id: int) -> Actor:
    """Who the checker acts as: no user, source monitor (recorded on history and updates)."""
    return Actor(organization_id, None, ChangeCause.monitor)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TooManyPushes(DomainError):
    """A push monitor's URL was called again within PUSH_MIN_SECONDS."""


@dataclasses.dataclass(frozen=True)
class CheckOutcome:
    """One check's result as the checker hands it over (CheckResult plus who and when)."""

    monitor_id: int
    checked_at: dt.datetime
    ok: bool
    reason: str
    latency_ms: float | None = None
    status_code: int | None = None
    degraded: bool = False

    @property
    def observation(self) -> str:
        return DOWN if not self.ok else SLOW if self.degraded else UP


@dataclasses.dataclass
class SavedMonitor:
    monitor: Monitor
    push_token: str | None = None  # the push URL's secret: only when just made, never stored


@dataclasses.dataclass
class RecordSummary:
    recorded: int = 0  # results written (those of deleted or paused monitors are dropped)
    verdicts_changed: int = 0


# ---- configuring a monitor (the console, the API) ---------------------------------------------


def _clean_flag(errors: Errors, name: str, data: Mapping[str, object], default: bool) -> bool:
    value = data.get(name)
    return default if value is None else clean_bool(errors, name, value)


def _lock_monitor_of(session: Session, actor: Actor, service_id: int) -> Monitor | None:
    mon = session.exec(
        select(Monitor).where(Monitor.service_id == service_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if mon is not None and mon.organization_id != actor.organization_id:
        raise NotFound("service", service_id)
    return mon


def _open_auto_incident(session: Session, monitor_id: int, *, lock: bool) -> Incident | None:
    """The active incident this monitor opened (None when there is none)."""
    query = select(Incident).where(
        Incident.opened_by_monitor_id == monitor_id, Incident.status.in_(IncidentStatus.active_values())
    ).order_by(Incident.id.desc())
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.exec(query).first()


def _people_posted(session: Session, incident_id: int) -> bool:
    """Whether anyone but a monitor posted on the incident (then it is theirs to resolve)."""
    return session.exec(
        select(func.count()).select_from(IncidentUpdate).where(
            IncidentUpdate.incident_id == incident_id, IncidentUpdate.source != ChangeCause.monitor.value
        )
    ).one() > 0


def _resolve_auto_incident(uow: UnitOfWork, mon: Monitor, incident: Incident | None, message: str) -> None:
    """Resolve the incident the monitor opened, unless a person took it over (posted on it)."""
    if incident is None or _people_posted(uow.session, incident.id):
        return
    incidents.resolve_incident(actor=monitor_actor(mon.organization_id), incident_id=incident.id, message=message)


def _withdraw_verdict(uow: UnitOfWork, mon: Monitor, svc: Service, incident: Incident | None, why: str) -> list[StatusChange]:
    """A paused or deleted monitor no longer says anything about its service."""
    _resolve_auto_incident(uow, mon, incident, f"Monitoring of {svc.name} was {why}; this incident was closed with it.")
    mon.recent = ""
    if svc.monitor_status == ServiceStatus.operational.value:
        return []
    svc.monitor_status = ServiceStatus.operational.value
    uow.session.add(svc)
    return recompute_services(uow, [svc], actor=monitor_actor(mon.organization_id), cause=ChangeCause.monitor)


def _new_token(mon: Monitor) -> str:
    token = secrets.token_urlsafe(24)
    mon.push_token_hash = hash_token(token)
    return token


def set_monitor(*, actor: Actor, service_id: int, data: Mapping[str, object]) -> SavedMonitor:
    """Create or reconfigure the monitor of a service from flat form/API fields (see
    `monitor_spec.clean_monitor_spec`, plus `auto_incident` and `enabled`, both true by default).

    Changing what is checked forgets the observations made so far (they were about the old
    target); pausing (`enabled` false) withdraws the monitor's verdict and closes the incident
    it opened. A new push monitor gets its secret URL token, returned once in `push_token`.
    """
    errors = Errors()
    spec = clean_monitor_spec(errors, data)
    auto_incident = _clean_flag(errors, "auto_incident", data, True)
    enabled = _clean_flag(errors, "enabled", data, True)
    errors.raise_if_any()
    assert spec is not None
    with unit_of_work() as uow:
        s = uow.session
        mon = _lock_monitor_of(s, actor, service_id)
        incident = _open_auto_incident(s, mon.id, lock=True) if mon is not None else None
        svc = lock_services(s, [service_id]).get(service_id)
        if svc is None or svc.organization_id != actor.organization_id:
            raise NotFound("service", service_id)
        token = None
        now = utcnow()
        if mon is None:
            mon = Monitor(organization_id=actor.organization_id, service_id=svc.id, kind=spec.kind.value)
        config = _config_of(spec)
        if any(getattr(mon, k) != v for k, v in config.items()):
            mon.recent = ""  # observations of another target or thresholds no longer count
        for key, value in config.items():
            setattr(mon, key, value)
        mon.auto_incident = auto_incident
        if spec.kind is CheckKind.push and mon.push_token_hash is None:
            token = _new_token(mon)
        elif spec.kind is not CheckKind.push:
            mon.push_token_hash = None
        changes: list[StatusChange] = []
        if mon.enabled and not enabled:
            changes = _withdraw_verdict(uow, mon, svc, incident, "paused")
        mon.enabled = enabled
        mon.updated_at = now
        s.add(mon)
        s.flush()
        uow.announce(actor.organization_id, MonitorSaved(monitor_id=mon.id, service_id=svc.id, status_changes=changes))
    return SavedMonitor(mon, token)


def _config_of(spec: MonitorSpec) -> dict[str, object]:
    return {
        "kind": spec.kind.value,
        "interval_seconds": spec.interval_seconds,
        "check": check_to_json(spec.check),
        "failures_to_confirm": spec.thresholds.failures_to_confirm,
        "successes_to_recover": spec.thresholds.successes_to_recover,
        "failure_status": spec.thresholds.failure_status.value,
    }


def delete_monitor(*, actor: Actor, service_id: int) -> None:
    """Stop monitoring a service: its verdict is withdrawn, the incident it opened (if nobody
    took it over) resolved; its raw checks go with it, its daily rollups stay."""
    with unit_of_work() as uow:
        s = uow.session
        mon = _lock_monitor_of(s, actor, service_id)
        if mon is None:
            raise NotFound("monitor of service", service_id)
        incident = _open_auto_incident(s, mon.id, lock=True)
        svc = lock_services(s, [service_id])[service_id]
        changes = _withdraw_verdict(uow, mon, svc, incident, "removed")
        s.exec(delete(MonitorCheck).where(MonitorCheck.monitor_id == mon.id))
        s.delete(mon)
        uow.announce(actor.organization_id, MonitorDeleted(monitor_id=mon.id, service_id=service_id, status_changes=changes))


def regenerate_push_token(*, actor: Actor, service_id: int) -> str:
    """A new secret push URL for a push monitor (the old one stops working); returned once."""
    with unit_of_work() as uow:
        mon = _lock_monitor_of(uow.session, actor, service_id)
        if mon is None or mon.kind != CheckKind.push.value:
            raise NotFound("push monitor of service", service_id)
        token = _new_token(mon)
        mon.updated_at = utcnow()
        uow.session.add(mon)
        uow.announce(actor.organization_id, MonitorSaved(monitor_id=mon.id, service_id=service_id))
    return token


# ---- what the checker observed ---------------------------------------------------------------


@dataclasses.dataclass
class _Transition:
    mon: Monitor
    old: str
    new: str
    reason: str
    down_confirmed: bool  # the new verdict came from failures in a row (not slowness)


def record_check_results(outcomes: Sequence[CheckOutcome]) -> RecordSummary:
    """Store a batch of check results and act on every verdict they confirm (one transaction).

    Results of monitors deleted or paused meanwhile are dropped. Several results of one
    monitor are applied in time order.
    """
    if not outcomes:
        return RecordSummary()
    with unit_of_work() as uow:
        return _apply(uow, outcomes)


def record_push(
    token: str, *, ok: bool = True, message: str = "", latency_ms: float | None = None, now: dt.datetime | None = None
) -> None:
    """A heartbeat reached a push monitor's secret URL: a successful check (or, with ok false,
    a failed one with the caller's message). NotFound for an unknown token or a paused monitor;
    TooManyPushes when called again within PUSH_MIN_SECONDS."""
    errors = Errors()
    message = clean_text(errors, "msg", message, max_len=MAX_REASON - 20)
    errors.raise_if_any()
    digest = hash_token(token or "")
    with Session(get_engine()) as session:
        row = session.exec(
            sa_select(Monitor.id, Monitor.last_push_at).where(
                Monitor.push_token_hash == digest, Monitor.kind == CheckKind.push.value, Monitor.enabled == True  # noqa: E712
            )
        ).first()
    if row is None:
        raise NotFound("push monitor")
    now = now or utcnow()
    if row.last_push_at is not None and (now - row.last_push_at).total_seconds() < PUSH_MIN_SECONDS:
        raise TooManyPushes("Pushed too often: at most one heartbeat per second is recorded.")
    reason = ("heartbeat received" if ok else "heartbeat reported down") + (f": {message}" if message else "")
    outcome = CheckOutcome(row.id, now, ok, reason, latency_ms)
    with unit_of_work() as uow:
        _apply(uow, [outcome], pushed=True)


def record_missed_beats(now: dt.datetime | None = None) -> int:
    """A failed check for every push monitor whose heartbeat is overdue (interval + grace),
    at most one per interval; returns how many. Cheap when nothing is overdue (one read)."""
    now = now or utcnow()
    with Session(get_engine()) as session:
        candidates = [m for m in session.exec(_push_monitors()) if _missed(m, now)]
    if not candidates:
        return 0
    with unit_of_work() as uow:
        locked = uow.session.exec(
            _push_monitors().where(Monitor.id.in_([m.id for m in candidates])).order_by(Monitor.id)
            .with_for_update().execution_options(populate_existing=True)
        ).all()
        outcomes = []
        for mon in locked:
            if _missed(mon, now):
                since = _expected_since(mon)
                grace = PushCheck(**mon.check).grace_seconds
                outcomes.append(CheckOutcome(
                    mon.id, now, False,
                    f"no heartbeat for {(now - since).total_seconds():.0f} s "
                    f"(expected every {mon.interval_seconds} s + {grace} s grace)",
                ))
        _apply(uow, outcomes)
    return len(outcomes)


def _push_monitors():
    return select(Monitor).where(Monitor.kind == CheckKind.push.value, Monitor.enabled == True)  # noqa: E712


def _expected_since(mon: Monitor) -> dt.datetime:
    """Since when a heartbeat is awaited: the last one, or the monitor's last (re)configuration
    (a new, changed or resumed push monitor gets a full interval plus grace)."""
    return max(t for t in (mon.last_push_at, mon.updated_at) if t is not None)


def _missed(mon: Monitor, now: dt.datetime) -> bool:
    grace = PushCheck(**mon.check).grace_seconds
    since = _expected_since(mon)
    overdue = (now - since).total_seconds() > mon.interval_seconds + grace
    recently_judged = mon.last_checked_at is not None and (now - mon.last_checked_at).total_seconds() < mon.interval_seconds
    return overdue and not recently_judged


def _apply(uow: UnitOfWork, outcomes: Sequence[CheckOutcome], *, pushed: bool = False) -> RecordSummary:
    s = uow.session
    ids = sorted({o.monitor_id for o in outcomes})
    monitors = {
        m.id: m
        for m in s.exec(
            select(Monitor).where(Monitor.id.in_(ids), Monitor.enabled == True)  # noqa: E712
            .order_by(Monitor.id).with_for_update().execution_options(populate_existing=True)
        )
    }
    kept = sorted((o for o in outcomes if o.monitor_id in monitors), key=lambda o: (o.monitor_id, o.checked_at))
    if not kept:
        return RecordSummary()
    s.execute(
        insert(MonitorCheck),
        [
            {
                "monitor_id": o.monitor_id,
                "checked_at": o.checked_at,
                "ok": o.ok,
                "degraded": o.degraded,
                "latency_ms": None if o.latency_ms is None or not math.isfinite(o.latency_ms) else round(o.latency_ms, 2),
                "status_code": o.status_code,
                "reason": o.reason[:MAX_REASON],
            }
            for o in kept
        ],
    )
    # The verdicts now: only the checker and the monitor operations change them, and both hold
    # the monitor rows locked while they do, so this read cannot go stale before the commit.
    verdict = dict(
        s.exec(sa_select(Service.id, Service.monitor_status).where(Service.id.in_([m.service_id for m in monitors.values()]))).all()
    )
    maintained = services_under_maintenance(s, [m.service_id for m in monitors.values()])
    transitions: list[_Transition] = []
    by_monitor: dict[int, list[CheckOutcome]] = defaultdict(list)
    for o in kept:
        by_monitor[o.monitor_id].append(o)
    for mid, results in by_monitor.items():
        mon = monitors[mid]
        start = current = verdict[mon.service_id]
        down_confirmed = False
        for o in results:
            mon.recent = (mon.recent + o.observation)[-RECENT_KEPT:]
            new = next_verdict(
                current, mon.recent, failures_to_confirm=mon.failures_to_confirm,
                successes_to_recover=mon.successes_to_recover, failure_status=mon.failure_status,
            ).value
            if mon.service_id in maintained and ServiceStatus(new).severity > ServiceStatus(current).severity:
                continue  # expected during maintenance: not confirmed
            if new != current:
                down_confirmed = is_down_confirmed(mon.recent, mon.failures_to_confirm)
                current = new
        last = results[-1]
        mon.last_checked_at, mon.last_ok, mon.last_reason = last.checked_at, last.ok, last.reason[:MAX_REASON]
        mon.last_latency_ms = last.latency_ms
        if pushed:
            mon.last_push_at = last.checked_at
        if current != start:
            transitions.append(_Transition(mon, start, current, last.reason[:MAX_REASON], down_confirmed))
    s.add_all(monitors.values())
    if transitions:
        _confirm(uow, transitions)
    return RecordSummary(recorded=len(kept), verdicts_changed=len(transitions))


def _confirm(uow: UnitOfWork, transitions: list[_Transition]) -> None:
    """Apply confirmed verdicts: incidents to resolve are locked first, then the services (one
    statement, ids ascending), as every operation that derives a status does."""
    s = uow.session
    recovering = [t for t in transitions if ServiceStatus(t.new).severity < ServiceStatus(t.old).severity]
    open_incidents = {
        t.mon.id: _open_auto_incident(s, t.mon.id, lock=True) for t in sorted(recovering, key=lambda t: t.mon.id)
    }
    services = lock_services(s, [t.mon.service_id for t in transitions])
    for t in transitions:
        mon, svc = t.mon, services[t.mon.service_id]
        actor = monitor_actor(mon.organization_id)
        was_down = t.old == mon.failure_status and t.old != ServiceStatus.operational.value
        if mon.id in open_incidents and was_down:
            # First the incident, then the verdict: the recovery is recorded as the monitor's.
            _resolve_auto_incident(
                uow, mon, open_incidents[mon.id],
                f"{svc.name} is responding again ({t.reason}). Resolved automatically by its monitor.",
            )
        svc.monitor_status = t.new
        s.add(svc)
        changes = recompute_services(uow, [svc], actor=actor, cause=ChangeCause.monitor)
        uow.announce(
            mon.organization_id,
            MonitorVerdictChanged(
                monitor_id=mon.id, service_id=svc.id, name=svc.name, old_verdict=t.old, new_verdict=t.new,
                reason=t.reason, status_changes=changes,
            ),
        )
        if t.down_confirmed and mon.auto_incident and not active_incident_statuses(s, [svc.id])[svc.id]:
            # No incident is open on the service (its own, or one people declared): open one.
            status = ServiceStatus(t.new)
            incident = incidents.create_incident(
                actor=actor,
                title=f"{svc.name} is not responding",
                impact=_IMPACT_OF.get(status, IncidentImpact.major).value,
                message=f"{svc.name} is not responding: {t.reason}. "
                        f"Detected by its monitor after {mon.failures_to_confirm} failed check(s) in a row.",
                services={svc.id: status.value},
            )
            incident.opened_by_monitor_id = mon.id
            s.add(incident)


# ---- rollups, retention, the checker's heartbeat ---------------------------------------------


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    values.sort()
    return values[max(0, math.ceil(0.95 * len(values)) - 1)]


def roll_up_checks(*, retention_days: int, now: dt.datetime | None = None) -> int:
    """Roll each finished UTC day's raw checks up per service (checks, failures, average and
    p95 response time of the successful ones), from the day after the last rolled-up one (at
    most `retention_days` back: older raw checks are gone); idempotent. Returns the number of
    days that had checks (a day without any is looked at again next time).

    A day is read monitor by monitor (index ix_monitor_check_monitor_at) outside the write
    transaction, so the checker's batches never wait for it.
    """
    now = now or utcnow()
    yesterday = (now.astimezone(dt.timezone.utc) - dt.timedelta(days=1)).date()
    with Session(get_engine()) as session:
        last = session.exec(sa_select(func.max(MonitorDaily.day))).one()[0]
        # The oldest result: the lowest id (rows are written in time order; the id is indexed,
        # checked_at alone is not), so a fresh install does not scan empty days monitor by monitor.
        oldest = session.exec(
            sa_select(MonitorCheck.checked_at).where(MonitorCheck.id == sa_select(func.min(MonitorCheck.id)).scalar_subquery())
        ).first()
        monitors = session.exec(sa_select(Monitor.id, Monitor.service_id).order_by(Monitor.id)).all()
    if oldest is None:
        return 0
    day = max(yesterday - dt.timedelta(days=retention_days), oldest[0].astimezone(dt.timezone.utc).date())
    if last is not None:
        day = max(day, last + dt.timedelta(days=1))
    done = 0
    while day <= yesterday:
        done += _roll_up_day(day, [(m.id, m.service_id) for m in monitors])
        day += dt.timedelta(days=1)
    return done


def _roll_up_day(day: dt.date, monitors: list[tuple[int, int]]) -> bool:
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.timezone.utc)
    end = start + dt.timedelta(days=1)
    per_service: dict[int, list[tuple[bool, float | None]]] = defaultdict(list)
    with Session(get_engine()) as session:
        for monitor_id, service_id in monitors:
            per_service[service_id] += session.execute(
                sa_select(MonitorCheck.ok, MonitorCheck.latency_ms).where(
                    MonitorCheck.monitor_id == monitor_id, MonitorCheck.checked_at >= start, MonitorCheck.checked_at < end
                )
            ).all()
    rollups = []
    for service_id, rows in per_service.items():
        if not rows:
            continue
        latencies = [lat for ok, lat in rows if ok and lat is not None]  # failures' times say little
        rollups.append(MonitorDaily(
            service_id=service_id, day=day, checks=len(rows), failures=sum(1 for ok, _lat in rows if not ok),
            avg_latency_ms=round(sum(latencies) / len(latencies), 2) if latencies else None,
            p95_latency_ms=_p95(latencies),
        ))
    if not rollups:
        return False
    with unit_of_work() as uow:
        uow.session.exec(delete(MonitorDaily).where(MonitorDaily.day == day))
        uow.session.add_all(rollups)
    return True


def prune_checks(*, retention_days: int, now: dt.datetime | None = None, chunk: int = 20_000) -> int:
    """Delete raw checks older than `retention_days` (rollups and status history stay), in
    short transactions of at most `chunk` rows per monitor, so the checker never waits long."""
    cutoff = (now or utcnow()) - dt.timedelta(days=retention_days)
    with Session(get_engine()) as session:
        monitor_ids = list(session.exec(sa_select(Monitor.id).order_by(Monitor.id)).scalars())
    deleted = 0
    for mid in monitor_ids:
        while True:
            with unit_of_work() as uow:
                old = sa_select(MonitorCheck.id).where(
                    MonitorCheck.monitor_id == mid, MonitorCheck.checked_at < cutoff
                ).limit(chunk)
                n = uow.session.exec(delete(MonitorCheck).where(MonitorCheck.id.in_(old))).rowcount
            deleted += n
            if n < chunk:
                break
    return deleted


def record_checker_heartbeat(
    *,
    leader: str,
    leader_since: dt.datetime | None,
    monitors: int,
    checks_per_minute: int,
    lag_p95_ms: float | None,
    lag_max_ms: float | None,
    pending_writes: int,
    last_error: str = "",
) -> None:
    """The checker's health, for consoles served by any process (one row, overwritten)."""
    with unit_of_work() as uow:
        row = uow.session.get(CheckerHeartbeat, 1) or CheckerHeartbeat(id=1)
        row.leader, row.leader_since, row.beat_at = leader[:200], leader_since, utcnow()
        row.monitors, row.checks_per_minute = monitors, checks_per_minute
        row.lag_p95_ms, row.lag_max_ms = lag_p95_ms, lag_max_ms
        row.pending_writes, row.last_error = pending_writes, last_error[:500]
        uow.session.add(row)
