"""Scheduled maintenance: windows, their timeline, recurring series, and the clock's moves.

Lifecycle: scheduled -> in_progress (-> verifying) -> completed, or scheduled -> cancelled.
While a maintenance is in progress or verifying, its services show `under_maintenance`
(domain.status ranks it below any degradation or outage), through the same recompute,
status history and outbox as incidents; completing it withdraws only its contribution.

The clock (`tick`, run by the jobs runner every second or two) materialises series
occurrences, sends reminders, starts due windows and completes ended ones. Each of those is a
state transition of ONE row under its row lock (SQLite: the write unit's database lock),
re-checked after locking, so a second runner or a rerun finds nothing left to do: every
start, completion and reminder happens, and is announced, exactly once.

Series: an RRULE in a time zone (domain.recurrence); occurrences become ordinary Maintenance
rows (`series_id`, `occurrence_start`, unique together) at most MAX_AHEAD ahead and never
beyond HORIZON, generated lazily by the clock. Editing one occurrence detaches it; editing the
series rewrites (or, when its schedule changed, regenerates) only its future, still scheduled,
non-detached occurrences.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, delete, func, select

from statusapp import clock
from statusapp.db import get_engine
from statusapp.domain import recurrence
from statusapp.domain.base import Actor, UnitOfWork, unit_of_work
from statusapp.domain.errors import NotFound, ValidationError
from statusapp.domain.events import (
    MaintenanceCancelled,
    MaintenanceCompleted,
    MaintenanceCreated,
    MaintenanceDeleted,
    MaintenanceEdited,
    MaintenanceOccurrencesGenerated,
    MaintenanceReminder,
    MaintenanceSeriesCancelled,
    MaintenanceSeriesCreated,
    MaintenanceSeriesEdited,
    MaintenanceStarted,
    MaintenanceUpdated,
    StatusChange,
)
from statusapp.domain.servicestatus import lock_services, recompute_services
from statusapp.domain.validation import (
    MESSAGE_MAX,
    TITLE_MAX,
    UNSET,
    Errors,
    clean_enum,
    clean_text,
    clean_timezone,
    parse_id,
    shown,
)
from statusapp.enums import ChangeCause, MaintenanceStatus
from statusapp.models import (
    Maintenance,
    MaintenanceSeries,
    MaintenanceSeriesService,
    MaintenanceService,
    MaintenanceUpdate,
    Service,
)

S = MaintenanceStatus
log = logging.getLogger(__name__)

DESCRIPTION_MAX = MESSAGE_MAX
# A "scheduled" window may start this long ago (a form filled in slowly); the clock starts it.
PAST_GRACE = dt.timedelta(minutes=5)
REMIND_MAX_MINUTES = 7 * 24 * 60
DURATION_MAX_MINUTES = 31 * 24 * 60
# Occurrences of a series exist at most this far ahead, and at most MAX_AHEAD scheduled ones.
HORIZON = dt.timedelta(days=60)
MAX_AHEAD = 10

# Which status an update may move a maintenance to, from each status.
TRANSITIONS: dict[MaintenanceStatus, frozenset[MaintenanceStatus]] = {
    S.scheduled: frozenset({S.scheduled, S.in_progress, S.cancelled}),
    S.in_progress: frozenset({S.in_progress, S.verifying, S.completed}),
    S.verifying: frozenset({S.verifying, S.in_progress, S.completed}),
    S.completed: frozenset(),
    S.cancelled: frozenset(),
}


def clock_actor(organization_id: int) -> Actor:
    """The actor of what the clock does on its own (auto start/complete, reminders, occurrences)."""
    return Actor(organization_id=organization_id, source=ChangeCause.maintenance)


# --------------------------------------------------------------------------- input


def _moment(errors: Errors, field: str, value: object) -> dt.datetime | None:
    """An aware datetime (UTC) from a datetime or an ISO 8601 string with an offset."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            errors.add(field, f"{shown(value)} is not a date and time (ISO 8601, e.g. 2026-12-01T02:00:00Z).")
            return None
    if not isinstance(value, dt.datetime):
        errors.add(field, "A date and time is required.")
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        errors.add(field, "Give the time with its UTC offset (e.g. 2026-12-01T02:00:00Z).")
        return None
    return value.astimezone(dt.timezone.utc).replace(microsecond=0)


def _remind(errors: Errors, value: object) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    try:
        minutes = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        minutes = -1
    if isinstance(value, bool) or not 1 <= minutes <= REMIND_MAX_MINUTES:
        errors.add("remind_minutes_before", f"Use a number of minutes from 1 to {REMIND_MAX_MINUTES}, or none.")
        return None
    return minutes


def _flag(errors: Errors, field: str, value: object) -> bool:
    if not isinstance(value, bool):
        errors.add(field, "Use true or false.")
        return False
    return value


def _clean_services(session, actor: Actor, errors: Errors, services: Iterable[Any] | None) -> list[int]:
    """Service ids of the actor's organization, in the order given, without repeats."""
    out: list[int] = []
    if services is None:
        return out
    if isinstance(services, (str, bytes)) or not isinstance(services, Iterable):
        errors.add("services", "Give a list of service ids.")
        return out
    for raw in list(services)[:1000]:
        sid = parse_id(raw)
        if sid is None:
            errors.add("services", f"{shown(raw)} is not a service id.")
            continue
        svc = session.get(Service, sid)
        if svc is None or svc.organization_id != actor.organization_id:
            errors.add("services", f"Unknown service id {sid}.")
            continue
        if sid not in out:
            out.append(sid)
    return out


def _check_window(errors: Errors, start: dt.datetime | None, end: dt.datetime | None) -> None:
    if start is None or end is None:
        return
    if end <= start:
        errors.add("scheduled_until", "The end must be after the start.")
    elif end - start > dt.timedelta(minutes=DURATION_MAX_MINUTES):
        errors.add("scheduled_until", f"A window lasts at most {DURATION_MAX_MINUTES // 1440} days.")


# --------------------------------------------------------------------------- rows


def _get(session, actor: Actor, maintenance_id: object) -> Maintenance:
    """The maintenance, locked for this transaction (transitions happen one after the other)."""
    key = parse_id(maintenance_id)
    m = session.get(Maintenance, key, with_for_update=True, populate_existing=True) if key is not None else None
    if m is None or m.organization_id != actor.organization_id:
        raise NotFound("maintenance", maintenance_id)
    return m


def _get_series(session, actor: Actor, series_id: object) -> MaintenanceSeries:
    key = parse_id(series_id)
    row = session.get(MaintenanceSeries, key, with_for_update=True, populate_existing=True) if key is not None else None
    if row is None or row.organization_id != actor.organization_id:
        raise NotFound("maintenance series", series_id)
    return row


def service_ids_of(session, maintenance_id: int) -> list[int]:
    return sorted(session.exec(select(MaintenanceService.service_id)
                               .where(MaintenanceService.maintenance_id == maintenance_id)))


def _series_service_ids(session, series_id: int) -> list[int]:
    return sorted(session.exec(select(MaintenanceSeriesService.service_id)
                               .where(MaintenanceSeriesService.series_id == series_id)))


def _set_services(session, m: Maintenance, ids: Iterable[int]) -> None:
    session.exec(delete(MaintenanceService).where(MaintenanceService.maintenance_id == m.id))
    for sid in ids:
        session.add(MaintenanceService(maintenance_id=m.id, service_id=sid))


def _add_update(uow: UnitOfWork, actor: Actor, m: Maintenance, message: str, deliver: bool) -> MaintenanceUpdate:
    update = MaintenanceUpdate(
        maintenance_id=m.id, status=m.status, message=message, deliver_notifications=deliver,
        created_by_user_id=actor.user_id, created_by_api_key_id=actor.api_key_id, source=actor.source.value,
    )
    uow.session.add(update)
    uow.session.flush()
    return update


def _recompute(uow: UnitOfWork, actor: Actor, m: Maintenance, locked: dict[int, Service]) -> list[StatusChange]:
    return recompute_services(uow, [locked[sid] for sid in sorted(locked)], actor=actor,
                              cause=ChangeCause.maintenance, maintenance_id=m.id)


# --------------------------------------------------------------------------- one-off windows


def create_maintenance(
    *,
    actor: Actor,
    title: str,
    scheduled_for: dt.datetime | str,
    scheduled_until: dt.datetime | str,
    description: str = "",
    services: Iterable[Any] | None = None,
    message: str | None = None,
    status: str = S.scheduled.value,
    notify_on_create: bool = True,
    remind_minutes_before: int | None = 60,
    notify_on_start: bool = True,
    notify_on_complete: bool = True,
    auto_start: bool = True,
    auto_complete: bool = True,
) -> Maintenance:
    """Schedule a maintenance window (UTC times) for some services; its timeline starts with
    `message` (default: the usual "scheduled" text). `status` "in_progress" starts it now (its
    services show under maintenance at once). Announces MaintenanceCreated (the sender tells
    subscribers when `notify_on_create`), or, started at once, MaintenanceCreated (telling
    nobody) then MaintenanceStarted (telling them when `notify_on_start`)."""
    errors = Errors()
    now = clock.now()
    title = clean_text(errors, "title", title, max_len=TITLE_MAX, required=True)
    description = clean_text(errors, "description", description, max_len=DESCRIPTION_MAX)
    status_e = clean_enum(errors, "status", status, MaintenanceStatus)
    if status_e is not None and status_e not in (S.scheduled, S.in_progress):
        errors.add("status", "A new maintenance is scheduled or in progress.")
    start = _moment(errors, "scheduled_for", scheduled_for)
    end = _moment(errors, "scheduled_until", scheduled_until)
    _check_window(errors, start, end)
    if status_e == S.scheduled and start is not None and start < now - PAST_GRACE:
        errors.add("scheduled_for", "The start is in the past: a scheduled maintenance starts later.")
    if status_e == S.in_progress and end is not None and end <= now:
        errors.add("scheduled_until", "The end is in the past.")
    remind = _remind(errors, remind_minutes_before)
    flags = {name: _flag(errors, name, value) for name, value in (
        ("notify_on_create", notify_on_create), ("notify_on_start", notify_on_start),
        ("notify_on_complete", notify_on_complete), ("auto_start", auto_start), ("auto_complete", auto_complete))}
    first_message = clean_text(errors, "message", message if message is not None else S.scheduled.default_message,
                               max_len=MESSAGE_MAX, required=True)
    with unit_of_work() as uow:
        s = uow.session
        ids = _clean_services(s, actor, errors, services)
        errors.raise_if_any()
        m = Maintenance(
            organization_id=actor.organization_id, title=title, description=description, status=S.scheduled.value,
            scheduled_for=start, scheduled_until=end, remind_minutes_before=remind,
            created_by_user_id=actor.user_id, created_by_api_key_id=actor.api_key_id, **flags,
        )
        s.add(m)
        s.flush()
        _set_services(s, m, ids)
        # Started at once: subscribers hear "started" (if chosen), not "scheduled" as well.
        announce = flags["notify_on_create"] and status_e == S.scheduled
        first = _add_update(uow, actor, m, first_message, announce)
        uow.announce(actor.organization_id, MaintenanceCreated(maintenance_id=m.id, update_id=first.id, notify=announce))
        if status_e == S.in_progress:
            _transition(uow, actor, m, S.in_progress, S.in_progress.default_message, flags["notify_on_start"])
    return m


def edit_maintenance(
    *,
    actor: Actor,
    maintenance_id: int,
    title: str = UNSET,
    description: str = UNSET,
    services: Iterable[Any] = UNSET,
    scheduled_for: dt.datetime | str = UNSET,
    scheduled_until: dt.datetime | str = UNSET,
    remind_minutes_before: int | None = UNSET,
    notify_on_start: bool = UNSET,
    notify_on_complete: bool = UNSET,
    auto_start: bool = UNSET,
    auto_complete: bool = UNSET,
) -> Maintenance:
    """Correct or reschedule a maintenance that is not over (no timeline entry, no notice).

    A window in progress keeps its start; its end may move (extend, or shorten to a future
    time). Services added to or removed from a window in progress change status at once.
    Editing an occurrence of a series detaches it from the series; it may not overlap another
    occurrence of the same series. A new start re-arms the reminder."""
    errors = Errors()
    now = clock.now()
    with unit_of_work() as uow:
        s = uow.session
        m = _get(s, actor, maintenance_id)
        status = MaintenanceStatus(m.status)
        if status.is_closed:
            _raise_closed(m)
        start, end = m.scheduled_for, m.scheduled_until
        if title is not UNSET:
            m.title = clean_text(errors, "title", title, max_len=TITLE_MAX, required=True)
        if description is not UNSET:
            m.description = clean_text(errors, "description", description, max_len=DESCRIPTION_MAX)
        if scheduled_for is not UNSET:
            new_start = _moment(errors, "scheduled_for", scheduled_for)
            if new_start is not None and new_start != start:
                if status != S.scheduled:
                    errors.add("scheduled_for", "This maintenance has started: its start cannot move.")
                elif new_start < now - PAST_GRACE:
                    errors.add("scheduled_for", "The start is in the past: a scheduled maintenance starts later.")
                else:
                    start = new_start
        if scheduled_until is not UNSET:
            new_end = _moment(errors, "scheduled_until", scheduled_until)
            if new_end is not None and new_end != end:
                if status.is_active and new_end <= now:
                    errors.add("scheduled_until", "The end is in the past: complete the maintenance instead.")
                else:
                    end = new_end
        _check_window(errors, start, end)
        if remind_minutes_before is not UNSET:
            m.remind_minutes_before = _remind(errors, remind_minutes_before)
        for name, value in (("notify_on_start", notify_on_start), ("notify_on_complete", notify_on_complete),
                            ("auto_start", auto_start), ("auto_complete", auto_complete)):
            if value is not UNSET:
                setattr(m, name, _flag(errors, name, value))
        new_ids = _clean_services(s, actor, errors, services) if services is not UNSET else None
        if m.series_id is not None and (start, end) != (m.scheduled_for, m.scheduled_until):
            overlapping = s.exec(
                select(Maintenance.id).where(
                    Maintenance.series_id == m.series_id, Maintenance.id != m.id,
                    Maintenance.status != S.cancelled.value,
                    Maintenance.scheduled_for < end, Maintenance.scheduled_until > start,
                ).limit(1)
            ).first()
            if overlapping is not None:
                errors.add("scheduled_for", "This overlaps another occurrence of the same series.")
        errors.raise_if_any()
        if start != m.scheduled_for:
            m.reminded_at = None
        m.scheduled_for, m.scheduled_until = start, end
        changes: list[StatusChange] = []
        if new_ids is not None and new_ids != service_ids_of(s, m.id):
            locked = lock_services(s, [*service_ids_of(s, m.id), *new_ids]) if status.is_active else {}
            _set_services(s, m, new_ids)
            if locked:
                changes = _recompute(uow, actor, m, locked)
        if m.series_id is not None:
            m.detached = True
        m.updated_at = now
        s.add(m)
        uow.announce(actor.organization_id, MaintenanceEdited(maintenance_id=m.id, status_changes=changes))
    return m


def extend_maintenance(*, actor: Actor, maintenance_id: int, scheduled_until: dt.datetime | str) -> Maintenance:
    """Move the end of a maintenance (typically one in progress that needs longer)."""
    return edit_maintenance(actor=actor, maintenance_id=maintenance_id, scheduled_until=scheduled_until)


def _raise_closed(m: Maintenance) -> None:
    raise ValidationError.one(
        "status", f"This maintenance is {MaintenanceStatus(m.status).label.lower()}: it cannot change any more."
    )


def _transition(
    uow: UnitOfWork, actor: Actor, m: Maintenance, to: MaintenanceStatus, message: str, deliver: bool,
    *, by_clock: bool = False,
) -> MaintenanceUpdate:
    """Move the (locked) maintenance to `to`, record the timeline entry, recompute its services
    when it starts or stops being active, and announce it."""
    s = uow.session
    frm = MaintenanceStatus(m.status)
    now = clock.now()
    locked = lock_services(s, service_ids_of(s, m.id)) if frm.is_active != to.is_active else {}
    m.status = to.value
    m.updated_at = now
    if to == S.in_progress and m.started_at is None:
        m.started_at = now
    if to == S.verifying and m.verifying_at is None:
        m.verifying_at = now
    if to == S.completed:
        m.completed_at = now
    if to == S.cancelled:
        m.cancelled_at = now
    s.add(m)
    update = _add_update(uow, actor, m, message, deliver)
    changes = _recompute(uow, actor, m, locked) if locked else []
    if frm == S.scheduled and to == S.in_progress:
        event: type = MaintenanceStarted
    elif to == S.completed:
        event = MaintenanceCompleted
    elif to == S.cancelled:
        event = MaintenanceCancelled
    else:
        event = MaintenanceUpdated
    uow.announce(m.organization_id, event(maintenance_id=m.id, update_id=update.id, status_changes=changes,
                                          deliver_notifications=deliver, by_clock=by_clock))
    return update


def post_maintenance_update(
    *,
    actor: Actor,
    maintenance_id: int,
    message: str,
    status: str | None = None,
    deliver_notifications: bool | None = None,
) -> MaintenanceUpdate:
    """Add a timeline entry, possibly moving the maintenance on (TRANSITIONS): to in_progress
    starts it, to completed completes it, to cancelled cancels it (scheduled ones only).
    `deliver_notifications` defaults to the maintenance's notify_on_start / notify_on_complete
    for a start or completion, to True for other updates, and to False for a cancellation."""
    return _move(None, actor=actor, maintenance_id=maintenance_id, message=message, status=status,
                 deliver_notifications=deliver_notifications)


def _move(
    expect: MaintenanceStatus | None,
    *,
    actor: Actor,
    maintenance_id: int,
    message: str,
    status: str | None = None,
    deliver_notifications: bool | None = None,
) -> MaintenanceUpdate:
    """post_maintenance_update, refusing when the maintenance is not in status `expect`
    (starting twice is a mistake to report, not a note to add)."""
    errors = Errors()
    message = clean_text(errors, "message", message, max_len=MESSAGE_MAX, required=True)
    status_e = clean_enum(errors, "status", status, MaintenanceStatus) if status not in (None, "") else None
    if deliver_notifications is not None:
        _flag(errors, "deliver_notifications", deliver_notifications)
    errors.raise_if_any()
    with unit_of_work() as uow:
        m = _get(uow.session, actor, maintenance_id)
        current = MaintenanceStatus(m.status)
        to = status_e or current
        if current.is_closed:
            _raise_closed(m)
        if to not in TRANSITIONS[current] or (expect is not None and current != expect):
            errors.add("status", _refusal(current, to))
            errors.raise_if_any()
        if deliver_notifications is None:
            deliver_notifications = _default_deliver(m, current, to)
        update = _transition(uow, actor, m, to, message, deliver_notifications)
    return update


def _refusal(current: MaintenanceStatus, to: MaintenanceStatus) -> str:
    if current == to == S.in_progress:
        return "This maintenance is in progress already."
    if current == S.verifying and to == S.verifying:
        return "This maintenance is being verified already."
    if current == S.scheduled and to in (S.completed, S.verifying):
        return "This maintenance has not started: start it first, or cancel it."
    if current.is_active and to == S.cancelled:
        return "This maintenance is in progress: complete it instead of cancelling it."
    if current.is_active and to == S.scheduled:
        return "This maintenance has started: it cannot be scheduled again."
    return f"A maintenance cannot go from {current.label.lower()} to {to.label.lower()}."


def _default_deliver(m: Maintenance, current: MaintenanceStatus, to: MaintenanceStatus) -> bool:
    if current == S.scheduled and to == S.in_progress:
        return m.notify_on_start
    if to == S.completed:
        return m.notify_on_complete
    if to == S.cancelled:
        return False
    return True


def start_maintenance(
    *, actor: Actor, maintenance_id: int, message: str | None = None, deliver_notifications: bool | None = None
) -> MaintenanceUpdate:
    """Start a scheduled maintenance now (before its time, or one that does not start itself)."""
    return _move(
        S.scheduled,
        actor=actor, maintenance_id=maintenance_id, status=S.in_progress.value,
        message=message if message is not None else S.in_progress.default_message,
        deliver_notifications=deliver_notifications,
    )


def verify_maintenance(
    *, actor: Actor, maintenance_id: int, message: str | None = None, deliver_notifications: bool | None = None
) -> MaintenanceUpdate:
    """The work is done and being checked (services stay under maintenance until completed)."""
    return _move(
        S.in_progress,
        actor=actor, maintenance_id=maintenance_id, status=S.verifying.value,
        message=message if message is not None else S.verifying.default_message,
        deliver_notifications=deliver_notifications,
    )


def complete_maintenance(
    *, actor: Actor, maintenance_id: int, message: str | None = None, deliver_notifications: bool | None = None
) -> MaintenanceUpdate:
    """Complete a maintenance in progress or verifying (early, or one that does not end itself)."""
    return _move(
        None,
        actor=actor, maintenance_id=maintenance_id, status=S.completed.value,
        message=message if message is not None else S.completed.default_message,
        deliver_notifications=deliver_notifications,
    )


def cancel_maintenance(
    *, actor: Actor, maintenance_id: int, message: str | None = None, deliver_notifications: bool = False
) -> MaintenanceUpdate:
    """Call off a scheduled maintenance (one in progress is completed instead)."""
    return _move(
        None,
        actor=actor, maintenance_id=maintenance_id, status=S.cancelled.value,
        message=message if message is not None else S.cancelled.default_message,
        deliver_notifications=deliver_notifications,
    )


def delete_maintenance(*, actor: Actor, maintenance_id: int) -> None:
    """Delete a maintenance (e.g. created by mistake): a window in progress stops affecting its
    services; the status history keeps what was shown. A deleted occurrence of a series is not
    generated again (its slot is remembered by the series' bookmark)."""
    with unit_of_work() as uow:
        s = uow.session
        m = _get(s, actor, maintenance_id)
        active = MaintenanceStatus(m.status).is_active
        locked = lock_services(s, service_ids_of(s, m.id)) if active else {}
        s.exec(delete(MaintenanceService).where(MaintenanceService.maintenance_id == m.id))
        s.exec(delete(MaintenanceUpdate).where(MaintenanceUpdate.maintenance_id == m.id))
        changes = recompute_services(uow, [locked[k] for k in sorted(locked)], actor=actor,
                                     cause=ChangeCause.maintenance) if locked else []
        s.delete(m)
        uow.announce(actor.organization_id, MaintenanceDeleted(maintenance_id=maintenance_id, status_changes=changes))


# --------------------------------------------------------------------------- the clock


@dataclasses.dataclass
class TickResult:
    generated: list[int] = dataclasses.field(default_factory=list)
    reminded: list[int] = dataclasses.field(default_factory=list)
    started: list[int] = dataclasses.field(default_factory=list)
    completed: list[int] = dataclasses.field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(self.generated or self.reminded or self.started or self.completed)


def _read_ids(query) -> list[Any]:
    """Candidates for the clock, read outside any write (each is re-checked under its lock)."""
    with Session(get_engine()) as session:
        return list(session.exec(query).all())


def _as_of(fn):
    """A clock step run for `now` stamps what it writes with `now` (clock.at), so the times it
    records (started_at, the status history) are the moment it acted for."""

    @functools.wraps(fn)
    def run(now: dt.datetime | None = None):
        now = now or clock.now()
        with clock.at(now):
            return fn(now)

    return run


@_as_of
def start_due(now: dt.datetime | None = None) -> list[int]:
    """Start every scheduled, self-starting maintenance whose start has come; the ids started."""
    now = now or clock.now()
    candidates = _read_ids(
        select(Maintenance.id, Maintenance.organization_id)
        .where(Maintenance.status == S.scheduled.value, Maintenance.auto_start.is_(True),
               Maintenance.scheduled_for <= now)
        .order_by(Maintenance.scheduled_for, Maintenance.id)
    )
    started = []
    for mid, org_id in candidates:
        with unit_of_work() as uow:
            m = _get(uow.session, clock_actor(org_id), mid)
            if m.status != S.scheduled.value or not m.auto_start or m.scheduled_for > now:
                continue  # someone (another runner, a person) got there first
            if m.scheduled_until <= now:
                # The runner was down for the whole window: it happened unobserved. Record it
                # as started and completed, telling nobody (a notice now would be wrong).
                _transition(uow, clock_actor(org_id), m, S.in_progress, S.in_progress.default_message, False,
                            by_clock=True)
                _transition(uow, clock_actor(org_id), m, S.completed, S.completed.default_message, False,
                            by_clock=True)
            else:
                _transition(uow, clock_actor(org_id), m, S.in_progress, S.in_progress.default_message,
                            m.notify_on_start, by_clock=True)
            started.append(mid)
    return started


@_as_of
def complete_due(now: dt.datetime | None = None) -> list[int]:
    """Complete every self-completing maintenance in progress (or verifying) whose end has come."""
    now = now or clock.now()
    candidates = _read_ids(
        select(Maintenance.id, Maintenance.organization_id)
        .where(Maintenance.status.in_(S.active_values()), Maintenance.auto_complete.is_(True),
               Maintenance.scheduled_until <= now)
        .order_by(Maintenance.scheduled_until, Maintenance.id)
    )
    done = []
    for mid, org_id in candidates:
        with unit_of_work() as uow:
            m = _get(uow.session, clock_actor(org_id), mid)
            if not MaintenanceStatus(m.status).is_active or not m.auto_complete or m.scheduled_until > now:
                continue
            _transition(uow, clock_actor(org_id), m, S.completed, S.completed.default_message,
                        m.notify_on_complete, by_clock=True)
            done.append(mid)
    return done


def reminder_due(m: Maintenance, now: dt.datetime) -> bool:
    """A reminder goes out once, `remind_minutes_before` before the start, for a maintenance
    still scheduled then, and only when that moment came after it was scheduled (one created
    30 minutes ahead was just announced: no reminder on top)."""
    if m.status != S.scheduled.value or m.reminded_at is not None or not m.remind_minutes_before:
        return False
    moment = m.scheduled_for - dt.timedelta(minutes=m.remind_minutes_before)
    return moment <= now < m.scheduled_for and m.created_at <= moment


@_as_of
def remind_due(now: dt.datetime | None = None) -> list[int]:
    """Announce MaintenanceReminder for every maintenance whose reminder moment has come."""
    now = now or clock.now()
    candidates = _read_ids(
        select(Maintenance.id, Maintenance.organization_id)
        .where(Maintenance.status == S.scheduled.value, Maintenance.reminded_at.is_(None),
               Maintenance.remind_minutes_before.is_not(None), Maintenance.scheduled_for > now,
               Maintenance.scheduled_for <= now + dt.timedelta(minutes=REMIND_MAX_MINUTES))
        .order_by(Maintenance.scheduled_for, Maintenance.id)
    )
    sent = []
    for mid, org_id in candidates:
        with unit_of_work() as uow:
            m = _get(uow.session, clock_actor(org_id), mid)
            if not reminder_due(m, now):
                continue
            m.reminded_at = now
            uow.session.add(m)
            uow.announce(org_id, MaintenanceReminder(maintenance_id=m.id, minutes_before=m.remind_minutes_before))
            sent.append(mid)
    return sent


@_as_of
def tick(now: dt.datetime | None = None) -> TickResult:
    """One turn of the maintenance clock: generate occurrences, remind, start, complete."""
    now = now or clock.now()
    return TickResult(
        generated=materialise_occurrences(now),
        reminded=remind_due(now),
        started=start_due(now),
        completed=complete_due(now),
    )


# --------------------------------------------------------------------------- series


@dataclasses.dataclass
class _SeriesInput:
    rule: str | None = None
    dtstart: dt.datetime | None = None
    zone_name: str | None = None
    duration: int | None = None


def _clean_schedule(errors: Errors, rule: object, dtstart_local: object, time_zone: object,
                    duration_minutes: object) -> _SeriesInput:
    out = _SeriesInput()
    zone_name = clean_timezone(errors, "time_zone", time_zone)
    zone = None
    if "time_zone" not in errors.errors:
        try:
            zone = recurrence.zone_of(zone_name)
            out.zone_name = zone_name
        except recurrence.RuleError as exc:
            errors.add("time_zone", str(exc))
    try:
        out.dtstart = recurrence.parse_local(dtstart_local)
    except recurrence.RuleError as exc:
        errors.add("dtstart_local", str(exc))
    try:
        minutes = int(duration_minutes)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        minutes = 0
    if isinstance(duration_minutes, bool) or not 1 <= minutes <= DURATION_MAX_MINUTES:
        errors.add("duration_minutes", f"Use a number of minutes from 1 to {DURATION_MAX_MINUTES}.")
    else:
        out.duration = minutes
    if zone is not None:
        try:
            out.rule = recurrence.normalize_rule(rule, zone)
        except recurrence.RuleError as exc:
            errors.add("rrule", str(exc))
    if out.rule and out.dtstart and zone is not None and out.duration:
        try:
            recurrence.check_rule(out.rule, out.dtstart, zone, dt.timedelta(minutes=out.duration))
        except recurrence.RuleError as exc:
            errors.add("rrule", str(exc))
    return out


def _set_series_services(session, series: MaintenanceSeries, ids: Iterable[int]) -> None:
    session.exec(delete(MaintenanceSeriesService).where(MaintenanceSeriesService.series_id == series.id))
    for sid in ids:
        session.add(MaintenanceSeriesService(series_id=series.id, service_id=sid))


def create_series(
    *,
    actor: Actor,
    title: str,
    rrule: str,
    dtstart_local: dt.datetime | str,
    time_zone: str,
    duration_minutes: int,
    description: str = "",
    services: Iterable[Any] | None = None,
    remind_minutes_before: int | None = 60,
    notify_on_start: bool = True,
    notify_on_complete: bool = True,
    auto_start: bool = True,
    auto_complete: bool = True,
) -> MaintenanceSeries:
    """A recurring window: `rrule` (RFC 5545, e.g. "FREQ=WEEKLY;BYDAY=SU") from the wall-clock
    time `dtstart_local` ("2026-03-01T02:00") in `time_zone` (IANA), each lasting
    `duration_minutes`. Its first occurrences (from now on) are generated at once."""
    errors = Errors()
    title = clean_text(errors, "title", title, max_len=TITLE_MAX, required=True)
    description = clean_text(errors, "description", description, max_len=DESCRIPTION_MAX)
    sched = _clean_schedule(errors, rrule, dtstart_local, time_zone, duration_minutes)
    remind = _remind(errors, remind_minutes_before)
    flags = {name: _flag(errors, name, value) for name, value in (
        ("notify_on_start", notify_on_start), ("notify_on_complete", notify_on_complete),
        ("auto_start", auto_start), ("auto_complete", auto_complete))}
    now = clock.now()
    with unit_of_work() as uow:
        s = uow.session
        ids = _clean_services(s, actor, errors, services)
        errors.raise_if_any()
        series = MaintenanceSeries(
            organization_id=actor.organization_id, title=title, description=description, rrule=sched.rule,
            dtstart_local=recurrence.format_local(sched.dtstart), time_zone=sched.zone_name,
            duration_minutes=sched.duration, remind_minutes_before=remind,
            generated_until=now, next_fill_at=now,
            created_by_user_id=actor.user_id, created_by_api_key_id=actor.api_key_id, **flags,
        )
        s.add(series)
        s.flush()
        _set_series_services(s, series, ids)
        s.flush()
        created = _fill(uow, series, now)
        uow.announce(actor.organization_id, MaintenanceSeriesCreated(series_id=series.id, maintenance_ids=created))
    return series


def edit_series(
    *,
    actor: Actor,
    series_id: int,
    title: str = UNSET,
    description: str = UNSET,
    services: Iterable[Any] = UNSET,
    rrule: str = UNSET,
    dtstart_local: dt.datetime | str = UNSET,
    time_zone: str = UNSET,
    duration_minutes: int = UNSET,
    remind_minutes_before: int | None = UNSET,
    notify_on_start: bool = UNSET,
    notify_on_complete: bool = UNSET,
    auto_start: bool = UNSET,
    auto_complete: bool = UNSET,
) -> MaintenanceSeries:
    """Change a series and its future: its scheduled, non-detached occurrences that have not
    started take the new title, description, services and settings; when the schedule (rule,
    start, zone, duration) changed they are removed and generated anew from the new rule.
    Occurrences in progress or past, and detached ones, stay as they are."""
    errors = Errors()
    now = clock.now()
    with unit_of_work() as uow:
        s = uow.session
        series = _get_series(s, actor, series_id)
        if series.cancelled_at is not None:
            errors.add("status", "This series is cancelled.")
            errors.raise_if_any()
        if title is not UNSET:
            series.title = clean_text(errors, "title", title, max_len=TITLE_MAX, required=True)
        if description is not UNSET:
            series.description = clean_text(errors, "description", description, max_len=DESCRIPTION_MAX)
        schedule_given = any(v is not UNSET for v in (rrule, dtstart_local, time_zone, duration_minutes))
        reschedule = False
        if schedule_given:
            sched = _clean_schedule(
                errors,
                series.rrule if rrule is UNSET else rrule,
                series.dtstart_local if dtstart_local is UNSET else dtstart_local,
                series.time_zone if time_zone is UNSET else time_zone,
                series.duration_minutes if duration_minutes is UNSET else duration_minutes,
            )
            if not errors.errors:
                new = (sched.rule, recurrence.format_local(sched.dtstart), sched.zone_name, sched.duration)
                old = (series.rrule, series.dtstart_local, series.time_zone, series.duration_minutes)
                reschedule = new != old
                series.rrule, series.dtstart_local, series.time_zone, series.duration_minutes = new
        if remind_minutes_before is not UNSET:
            series.remind_minutes_before = _remind(errors, remind_minutes_before)
        for name, value in (("notify_on_start", notify_on_start), ("notify_on_complete", notify_on_complete),
                            ("auto_start", auto_start), ("auto_complete", auto_complete)):
            if value is not UNSET:
                setattr(series, name, _flag(errors, name, value))
        new_ids = _clean_services(s, actor, errors, services) if services is not UNSET else None
        errors.raise_if_any()
        if new_ids is not None:
            _set_series_services(s, series, new_ids)
        series.updated_at = now
        s.add(series)
        s.flush()
        future = list(s.exec(
            select(Maintenance).where(
                Maintenance.series_id == series.id, Maintenance.detached.is_(False),
                Maintenance.status == S.scheduled.value, Maintenance.scheduled_for > now,
            ).with_for_update().order_by(Maintenance.id)
        ))
        removed: list[int] = []
        if reschedule:
            removed = [m.id for m in future]
            if removed:
                s.exec(delete(MaintenanceService).where(MaintenanceService.maintenance_id.in_(removed)))
                s.exec(delete(MaintenanceUpdate).where(MaintenanceUpdate.maintenance_id.in_(removed)))
                s.exec(delete(Maintenance).where(Maintenance.id.in_(removed)))
            series.generated_until = now
            series.next_fill_at = now
            s.add(series)
            s.flush()
            created = _fill(uow, series, now)
        else:
            ids = _series_service_ids(s, series.id)
            for m in future:
                _copy_series_fields(series, m)
                if new_ids is not None:
                    _set_services(s, m, ids)
                s.add(m)
            created = [m.id for m in future]
        uow.announce(actor.organization_id,
                     MaintenanceSeriesEdited(series_id=series.id, maintenance_ids=created, removed_ids=removed))
    return series


def _copy_series_fields(series: MaintenanceSeries, m: Maintenance) -> None:
    m.title, m.description = series.title, series.description
    m.remind_minutes_before = series.remind_minutes_before
    m.notify_on_start, m.notify_on_complete = series.notify_on_start, series.notify_on_complete
    m.auto_start, m.auto_complete = series.auto_start, series.auto_complete
    m.updated_at = clock.now()


def cancel_series(*, actor: Actor, series_id: int, message: str | None = None) -> MaintenanceSeries:
    """End a series: no more occurrences; its scheduled ones (detached or not) are cancelled.
    An occurrence in progress runs to its end."""
    errors = Errors()
    text = clean_text(errors, "message", message if message is not None else S.cancelled.default_message,
                      max_len=MESSAGE_MAX, required=True)
    errors.raise_if_any()
    now = clock.now()
    with unit_of_work() as uow:
        s = uow.session
        series = _get_series(s, actor, series_id)
        if series.cancelled_at is not None:
            errors.add("status", "This series is cancelled already.")
            errors.raise_if_any()
        series.cancelled_at = now
        series.next_fill_at = None
        series.updated_at = now
        s.add(series)
        scheduled = list(s.exec(
            select(Maintenance).where(Maintenance.series_id == series.id, Maintenance.status == S.scheduled.value)
            .with_for_update().order_by(Maintenance.id)
        ))
        for m in scheduled:
            _transition(uow, actor, m, S.cancelled, text, False)
        uow.announce(actor.organization_id,
                     MaintenanceSeriesCancelled(series_id=series.id, cancelled_ids=[m.id for m in scheduled]))
    return series


def _fill(uow: UnitOfWork, series: MaintenanceSeries, now: dt.datetime) -> list[int]:
    """Generate the series' next occurrences (the series row is locked): those starting after
    its bookmark, up to HORIZON ahead and MAX_AHEAD scheduled ones; sets when to look again.
    Idempotent: an occurrence that exists (or was deleted behind the bookmark) is not made again."""
    s = uow.session
    if series.cancelled_at is not None:
        series.next_fill_at = None
        s.add(series)
        return []
    zone = recurrence.zone_of(series.time_zone)
    rule = recurrence.build_rule(series.rrule, recurrence.parse_local(series.dtstart_local))
    duration = dt.timedelta(minutes=series.duration_minutes)
    ahead_starts = sorted(s.exec(
        select(Maintenance.scheduled_for).where(
            Maintenance.series_id == series.id, Maintenance.status == S.scheduled.value,
            Maintenance.scheduled_for > now)
    ).all())
    ahead = len(ahead_starts)
    horizon = now + HORIZON
    bookmark = series.generated_until or now
    next_fill: dt.datetime | None = None
    service_ids = _series_service_ids(s, series.id)
    created: list[int] = []
    for start in recurrence.occurrences_after(rule, zone, bookmark):
        if start > horizon:
            next_fill = start - HORIZON
            break
        if start + duration <= now:  # missed entirely (the clock was stopped): skip it
            bookmark = start
            continue
        if ahead >= MAX_AHEAD:
            next_fill = ahead_starts[0] if ahead_starts else now  # when the first one starts, a slot frees
            break
        exists = s.exec(select(Maintenance.id).where(
            Maintenance.series_id == series.id, Maintenance.occurrence_start == start)).first()
        if exists is None:
            m = Maintenance(
                organization_id=series.organization_id, title=series.title, description=series.description,
                status=S.scheduled.value, scheduled_for=start, scheduled_until=start + duration,
                notify_on_create=False, remind_minutes_before=series.remind_minutes_before,
                notify_on_start=series.notify_on_start, notify_on_complete=series.notify_on_complete,
                auto_start=series.auto_start, auto_complete=series.auto_complete,
                series_id=series.id, occurrence_start=start,
                created_by_user_id=series.created_by_user_id, created_by_api_key_id=series.created_by_api_key_id,
            )
            s.add(m)
            s.flush()
            _set_services(s, m, service_ids)
            s.add(MaintenanceUpdate(maintenance_id=m.id, status=m.status, message=S.scheduled.default_message,
                                    deliver_notifications=False, source=ChangeCause.maintenance.value))
            created.append(m.id)
            if start > now:
                ahead += 1
                ahead_starts.append(start)
        bookmark = start
    series.generated_until = bookmark
    series.next_fill_at = next_fill
    s.add(series)
    s.flush()
    return created


@_as_of
def materialise_occurrences(now: dt.datetime | None = None) -> list[int]:
    """Generate the due occurrences of every live series (the clock's first step); the ids made.
    One transaction per series, under its row lock: two runners never make one occurrence twice
    (and the unique (series_id, occurrence_start) would refuse it)."""
    now = now or clock.now()
    due = _read_ids(
        select(MaintenanceSeries.id, MaintenanceSeries.organization_id)
        .where(MaintenanceSeries.cancelled_at.is_(None), MaintenanceSeries.next_fill_at <= now)
        .order_by(MaintenanceSeries.id)
    )
    made: list[int] = []
    for series_id, org_id in due:
        try:
            with unit_of_work() as uow:
                series = _get_series(uow.session, clock_actor(org_id), series_id)
                if series.cancelled_at is not None or series.next_fill_at is None or series.next_fill_at > now:
                    continue
                created = _fill(uow, series, now)
                if created:
                    uow.announce(org_id, MaintenanceOccurrencesGenerated(series_id=series.id, maintenance_ids=created))
                made.extend(created)
        except recurrence.RuleError:
            # A stored rule that no longer expands (its time zone left the tz database): this
            # series waits for an edit; the clock goes on with the others.
            log.exception("maintenance series %s cannot be expanded; it waits for an edit", series_id)
            with unit_of_work() as uow:
                series = _get_series(uow.session, clock_actor(org_id), series_id)
                series.next_fill_at = None
                uow.session.add(series)
    return made


def count_occurrences(session, series_id: int) -> int:
    return session.exec(select(func.count()).select_from(Maintenance).where(Maintenance.series_id == series_id)).one()
