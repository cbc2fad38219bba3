"""Scheduled maintenance: lifecycle, derived status, validation, series and the clock's moves.
Every test runs on SQLite and PostgreSQL, on a controlled clock (no sleeping)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from statusapp import clock
from statusapp.domain import NotFound, ValidationError, incidents, maintenance, services
from statusapp.enums import ChangeCause
from statusapp.models import (
    Maintenance,
    MaintenanceSeries,
    MaintenanceService,
    MaintenanceUpdate,
    ServiceStatusChange,
)
from tests.domain.helpers import MAINT, MAJOR, OP, PART, declare, fresh, history, load, new_service, status_of

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


def at(moment):
    return clock.at(moment)


def schedule(org, svc_ids, start=T0 + 2 * H, end=T0 + 3 * H, **kw):
    with at(kw.pop("now", T0)):
        return maintenance.create_maintenance(
            actor=org, title=kw.pop("title", "Database upgrade"), scheduled_for=start, scheduled_until=end,
            services=svc_ids, **kw,
        )


def updates(mid):
    with fresh() as s:
        return list(s.exec(select(MaintenanceUpdate).where(MaintenanceUpdate.maintenance_id == mid)
                           .order_by(MaintenanceUpdate.id)))


def occurrences(series_id):
    with fresh() as s:
        return list(s.exec(select(Maintenance).where(Maintenance.series_id == series_id)
                           .order_by(Maintenance.scheduled_for)))


# --------------------------------------------------------------------------- lifecycle


def test_create_records_window_services_and_first_update(org, capture_changes):
    api = new_service(org, "api")
    web = new_service(org, "web")
    m = schedule(org, [api.id, str(web.id)], description="**Short** outage of writes.")
    got = load(Maintenance, m.id)
    assert (got.status, got.scheduled_for, got.scheduled_until) == ("scheduled", T0 + 2 * H, T0 + 3 * H)
    assert got.description == "**Short** outage of writes."
    assert (got.notify_on_create, got.remind_minutes_before, got.auto_start, got.auto_complete) == (True, 60, True, True)
    with fresh() as s:
        assert sorted(s.exec(select(MaintenanceService.service_id)
                             .where(MaintenanceService.maintenance_id == m.id))) == sorted([api.id, web.id])
    [first] = updates(m.id)
    assert first.status == "scheduled" and first.message
    assert status_of(api.id) == OP  # scheduled: nothing shown yet
    assert capture_changes.kinds[-1].value == "maintenance.created"
    assert capture_changes.changes[-1].payload.notify is True


def test_manual_start_and_complete_drive_service_status(org, capture_changes):
    api = new_service(org, "api")
    m = schedule(org, [api.id])
    with at(T0 + H):
        maintenance.start_maintenance(actor=org, maintenance_id=m.id)
    assert status_of(api.id) == MAINT
    got = load(Maintenance, m.id)
    assert (got.status, got.started_at) == ("in_progress", T0 + H)
    [change] = history(api.id)[-1:]
    assert (change.from_status, change.to_status, change.cause, change.maintenance_id) == (OP, MAINT, "maintenance", m.id)
    started = capture_changes.changes[-1]
    assert started.kind.value == "maintenance.started"
    assert [c.new_status for c in started.payload.status_changes] == [MAINT]

    with at(T0 + H + 10 * M):
        maintenance.verify_maintenance(actor=org, maintenance_id=m.id)
    assert status_of(api.id) == MAINT  # still under maintenance while verifying
    with at(T0 + H + 20 * M):
        maintenance.complete_maintenance(actor=org, maintenance_id=m.id, message="All done early.")
    assert status_of(api.id) == OP
    got = load(Maintenance, m.id)
    assert (got.status, got.completed_at) == ("completed", T0 + H + 20 * M)
    assert [u.status for u in updates(m.id)] == ["scheduled", "in_progress", "verifying", "completed"]
    assert updates(m.id)[-1].message == "All done early."
    assert capture_changes.kinds[-1].value == "maintenance.completed"


def test_maintenance_ranks_below_outages_and_leaves_other_inputs(org):
    api = new_service(org, "api")
    web = new_service(org, "web")
    m = schedule(org, [api.id, web.id])
    inc = declare(org, {api.id: PART})
    with at(T0 + H):
        maintenance.start_maintenance(actor=org, maintenance_id=m.id)
    assert (status_of(api.id), status_of(web.id)) == (PART, MAINT)
    incidents.resolve_incident(actor=org, incident_id=inc.id)
    assert status_of(api.id) == MAINT  # the incident withdrew only its own impact
    services.set_manual_status(actor=org, service_id=web.id, status=MAJOR)
    assert status_of(web.id) == MAJOR
    with at(T0 + 2 * H):
        maintenance.complete_maintenance(actor=org, maintenance_id=m.id)
    assert (status_of(api.id), status_of(web.id)) == (OP, MAJOR)


def test_two_overlapping_windows_each_withdraw_only_their_own(org):
    api = new_service(org, "api")
    a = schedule(org, [api.id])
    b = schedule(org, [api.id], title="Network work")
    with at(T0 + H):
        maintenance.start_maintenance(actor=org, maintenance_id=a.id)
        maintenance.start_maintenance(actor=org, maintenance_id=b.id)
        maintenance.complete_maintenance(actor=org, maintenance_id=a.id)
    assert status_of(api.id) == MAINT
    with at(T0 + H):
        maintenance.complete_maintenance(actor=org, maintenance_id=b.id)
    assert status_of(api.id) == OP


def test_created_in_progress_starts_at_once(org, capture_changes):
    api = new_service(org, "api")
    m = schedule(org, [api.id], start=T0 - H, end=T0 + H, status="in_progress")
    assert load(Maintenance, m.id).status == "in_progress"
    assert status_of(api.id) == MAINT
    created, started = capture_changes.changes[-2:]
    assert (created.kind.value, started.kind.value) == ("maintenance.created", "maintenance.started")
    assert (created.payload.notify, started.payload.deliver_notifications) == (False, True)


@pytest.mark.parametrize(
    ("first", "then", "field"),
    [
        ("completed", "start", "status"),
        ("completed", "complete", "status"),
        ("completed", "cancel", "status"),
        ("cancelled", "start", "status"),
        ("scheduled", "complete", "status"),
        ("scheduled", "verify", "status"),
        ("in_progress", "cancel", "status"),
        ("in_progress", "start", "status"),
    ],
)
def test_lifecycle_refuses_impossible_moves(org, row_counts, first, then, field):
    api = new_service(org, "api")
    m = schedule(org, [api.id])
    with at(T0 + H):
        if first in ("in_progress", "completed"):
            maintenance.start_maintenance(actor=org, maintenance_id=m.id)
        if first == "completed":
            maintenance.complete_maintenance(actor=org, maintenance_id=m.id)
        if first == "cancelled":
            maintenance.cancel_maintenance(actor=org, maintenance_id=m.id)
        counts = row_counts()
        op = {"start": maintenance.start_maintenance, "complete": maintenance.complete_maintenance,
              "cancel": maintenance.cancel_maintenance, "verify": maintenance.verify_maintenance}[then]
        with pytest.raises(ValidationError) as exc:
            op(actor=org, maintenance_id=m.id)
    assert field in exc.value.errors
    assert row_counts() == counts


def test_cancel_scheduled(org, capture_changes):
    api = new_service(org, "api")
    m = schedule(org, [api.id])
    with at(T0 + H):
        maintenance.cancel_maintenance(actor=org, maintenance_id=m.id)
    got = load(Maintenance, m.id)
    assert (got.status, got.cancelled_at) == ("cancelled", T0 + H)
    assert capture_changes.changes[-1].payload.deliver_notifications is False
    assert status_of(api.id) == OP


def test_post_update_keeps_status_by_default(org):
    api = new_service(org, "api")
    m = schedule(org, [api.id])
    with at(T0 + H):
        maintenance.post_maintenance_update(actor=org, maintenance_id=m.id, message="Moved to a quieter hour.")
    assert [u.status for u in updates(m.id)] == ["scheduled", "scheduled"]


def test_edit_extend_and_services_of_window_in_progress(org, capture_changes):
    api = new_service(org, "api")
    web = new_service(org, "web")
    m = schedule(org, [api.id])
    with at(T0 + 2 * H):
        maintenance.start_maintenance(actor=org, maintenance_id=m.id)
        maintenance.extend_maintenance(actor=org, maintenance_id=m.id, scheduled_until=T0 + 5 * H)
        maintenance.edit_maintenance(actor=org, maintenance_id=m.id, services=[web.id], title="Bigger upgrade")
    got = load(Maintenance, m.id)
    assert (got.scheduled_until, got.title) == (T0 + 5 * H, "Bigger upgrade")
    assert (status_of(api.id), status_of(web.id)) == (OP, MAINT)
    edited = capture_changes.changes[-1]
    assert edited.kind.value == "maintenance.edited"
    assert {(c.service_id, c.new_status) for c in edited.payload.status_changes} == {(api.id, OP), (web.id, MAINT)}


def test_reschedule_rearms_the_reminder(org):
    api = new_service(org, "api")
    m = schedule(org, [api.id], start=T0 + 3 * H, end=T0 + 4 * H)
    assert maintenance.remind_due(T0 + 2 * H + M) == [m.id]
    with at(T0 + 2 * H + 2 * M):
        maintenance.edit_maintenance(actor=org, maintenance_id=m.id, scheduled_for=T0 + 5 * H,
                                     scheduled_until=T0 + 6 * H)
    assert load(Maintenance, m.id).reminded_at is None
    assert maintenance.remind_due(T0 + 4 * H + M) == [m.id]


def test_delete_withdraws_a_window_in_progress(org, capture_changes):
    api = new_service(org, "api")
    m = schedule(org, [api.id])
    with at(T0 + 2 * H):
        maintenance.start_maintenance(actor=org, maintenance_id=m.id)
        maintenance.delete_maintenance(actor=org, maintenance_id=m.id)
    assert load(Maintenance, m.id) is None
    assert updates(m.id) == []
    assert status_of(api.id) == OP
    assert [h.to_status for h in history(api.id)][-2:] == [MAINT, OP]
    assert capture_changes.kinds[-1].value == "maintenance.deleted"


def test_other_organization_cannot_touch_it(org, other_org):
    api = new_service(org, "api")
    m = schedule(org, [api.id])
    for op in (maintenance.start_maintenance, maintenance.cancel_maintenance, maintenance.delete_maintenance):
        with pytest.raises(NotFound):
            op(actor=other_org, maintenance_id=m.id)
    with pytest.raises(NotFound):
        maintenance.start_maintenance(actor=org, maintenance_id="abc")


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"start": T0 + 3 * H, "end": T0 + 2 * H}, "scheduled_until"),
        ({"start": T0 + 2 * H, "end": T0 + 2 * H}, "scheduled_until"),
        ({"start": T0 - H, "end": T0 + H}, "scheduled_for"),
        ({"start": "2026-06-01T14:00:00", "end": T0 + 3 * H}, "scheduled_for"),  # no offset
        ({"start": "tomorrow", "end": T0 + 3 * H}, "scheduled_for"),
        ({"title": ""}, "title"),
        ({"status": "completed"}, "status"),
        ({"status": "sideways"}, "status"),
        ({"remind_minutes_before": -5}, "remind_minutes_before"),
        ({"services": ["x"]}, "services"),
        ({"services": [999999]}, "services"),
    ],
)
def test_bad_input_saves_nothing(org, row_counts, kw, field):
    api = new_service(org, "api")
    counts = row_counts()
    kw = dict(kw)
    svc = kw.pop("services", [api.id])
    with pytest.raises(ValidationError) as exc:
        schedule(org, svc, kw.pop("start", T0 + 2 * H), kw.pop("end", T0 + 3 * H), **kw)
    assert field in exc.value.errors
    assert row_counts() == counts


def test_small_grace_for_a_start_just_past_and_iso_strings(org):
    m = schedule(org, [], start=(T0 - 2 * M).isoformat(), end="2026-06-01T13:00:00Z")
    got = load(Maintenance, m.id)
    assert (got.scheduled_for, got.scheduled_until) == (T0 - 2 * M, T0 + H)


def test_services_of_another_organization_are_refused(org, other_org, row_counts):
    theirs = new_service(other_org, "their-api")
    counts = row_counts()
    with pytest.raises(ValidationError) as exc:
        schedule(org, [theirs.id])
    assert "services" in exc.value.errors
    assert row_counts() == counts


def test_edit_refusals(org, row_counts):
    api = new_service(org, "api")
    m = schedule(org, [api.id])
    with at(T0 + 2 * H + M):
        maintenance.start_maintenance(actor=org, maintenance_id=m.id)
        counts = row_counts()
        for kw, field in [
            ({"scheduled_for": T0 + 4 * H}, "scheduled_for"),  # started: the start is history
            ({"scheduled_until": T0 + H}, "scheduled_until"),  # the end in the past
            ({"title": " "}, "title"),
        ]:
            with pytest.raises(ValidationError) as exc:
                maintenance.edit_maintenance(actor=org, maintenance_id=m.id, **kw)
            assert field in exc.value.errors
        assert row_counts() == counts


# --------------------------------------------------------------------------- the clock


def test_clock_starts_and_completes_exactly_once(org, capture_changes):
    api = new_service(org, "api")
    m = schedule(org, [api.id])
    assert maintenance.start_due(T0 + 2 * H - M) == []
    with at(T0 + 2 * H):
        assert maintenance.tick().started == [m.id]
        assert maintenance.tick().started == []  # a rerun (or a second runner) finds nothing
    assert status_of(api.id) == MAINT
    change = history(api.id)[-1]
    assert change.cause == ChangeCause.maintenance.value
    started = [c for c in capture_changes.changes if c.kind.value == "maintenance.started"]
    assert len(started) == 1 and started[0].payload.by_clock is True
    assert maintenance.complete_due(T0 + 3 * H - M) == []
    with at(T0 + 3 * H + M):
        assert maintenance.tick().completed == [m.id]
        assert maintenance.tick().completed == []
    assert status_of(api.id) == OP
    assert len([c for c in capture_changes.changes if c.kind.value == "maintenance.completed"]) == 1
    assert [u.source for u in updates(m.id)] == ["manual", "maintenance", "maintenance"]


def test_clock_respects_manual_windows(org):
    api = new_service(org, "api")
    m = schedule(org, [api.id], auto_start=False, auto_complete=False)
    assert maintenance.start_due(T0 + 2 * H) == []
    with at(T0 + 2 * H):
        maintenance.start_maintenance(actor=org, maintenance_id=m.id)
    assert maintenance.complete_due(T0 + 4 * H) == []
    assert status_of(api.id) == MAINT


def test_window_missed_entirely_is_recorded_without_notices(org, capture_changes):
    api = new_service(org, "api")
    m = schedule(org, [api.id])
    with at(T0 + 5 * H):
        maintenance.tick()
    assert load(Maintenance, m.id).status == "completed"
    assert status_of(api.id) == OP
    timeline = [c for c in capture_changes.changes if c.kind.value.startswith("maintenance.")]
    assert all(not c.payload.deliver_notifications for c in timeline if hasattr(c.payload, "deliver_notifications"))


def test_reminder_once_at_its_moment(org, capture_changes):
    api = new_service(org, "api")
    m = schedule(org, [api.id], start=T0 + 3 * H, end=T0 + 4 * H, remind_minutes_before=30)
    soon = schedule(org, [api.id], start=T0 + 10 * M, end=T0 + H, title="Soon")  # inside its reminder window
    assert maintenance.remind_due(T0 + 2 * H + 29 * M) == []
    assert maintenance.remind_due(T0 + 2 * H + 30 * M) == [m.id]
    assert maintenance.remind_due(T0 + 2 * H + 31 * M) == []
    reminders = [c for c in capture_changes.changes if c.kind.value == "maintenance.reminder"]
    assert [(r.payload.maintenance_id, r.payload.minutes_before) for r in reminders] == [(m.id, 30)]
    assert load(Maintenance, soon.id).reminded_at is None


# --------------------------------------------------------------------------- series


def make_series(org, svc_ids, *, now, rule="FREQ=WEEKLY;BYDAY=SU", start="2026-03-01T02:00", zone="Europe/Berlin",
                minutes=60, **kw):
    with at(now):
        return maintenance.create_series(actor=org, title="Weekly patching", rrule=rule, dtstart_local=start,
                                         time_zone=zone, duration_minutes=minutes, services=svc_ids, **kw)


def test_series_across_dst_keeps_local_time(org):
    api = new_service(org, "api")
    now = dt.datetime(2026, 3, 10, tzinfo=UTC)
    series = make_series(org, [api.id], now=now)
    occ = occurrences(series.id)
    berlin = ZoneInfo("Europe/Berlin")
    locals_ = [o.scheduled_for.astimezone(berlin) for o in occ]
    assert all((t.hour, t.minute, t.weekday()) == (2, 0, 6) for t in locals_ if t.date() != dt.date(2026, 3, 29))
    # 2026-03-15 is winter time (UTC+1), 2026-04-05 summer time (UTC+2): same local 02:00.
    by_day = {t.date(): o for t, o in zip(locals_, occ)}
    assert by_day[dt.date(2026, 3, 15)].scheduled_for == dt.datetime(2026, 3, 15, 1, 0, tzinfo=UTC)
    assert by_day[dt.date(2026, 4, 5)].scheduled_for == dt.datetime(2026, 4, 5, 0, 0, tzinfo=UTC)
    # 02:00 does not exist on 2026-03-29: it moves forward by the gap, to 03:00 summer time.
    assert by_day[dt.date(2026, 3, 29)].scheduled_for == dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert by_day[dt.date(2026, 3, 29)].scheduled_for.astimezone(berlin).hour == 3
    assert all(o.scheduled_until - o.scheduled_for == H for o in occ)
    assert all(o.status == "scheduled" and o.occurrence_start == o.scheduled_for for o in occ)


def test_series_bounded_ahead_and_refilled_lazily(org):
    now = dt.datetime(2026, 3, 10, tzinfo=UTC)
    series = make_series(org, [], now=now, rule="FREQ=DAILY")
    occ = occurrences(series.id)
    assert len(occ) == maintenance.MAX_AHEAD  # daily: ten ahead, not sixty days' worth
    assert maintenance.materialise_occurrences(now) == []  # idempotent
    first = occ[0]
    with at(first.scheduled_for):
        result = maintenance.tick()
    assert result.started == [first.id]
    assert len(result.generated) == 1  # a slot freed: one more
    assert len(occurrences(series.id)) == maintenance.MAX_AHEAD + 1
    with at(first.scheduled_for):
        assert maintenance.tick().generated == []


def test_series_horizon_and_rule_end(org):
    now = dt.datetime(2026, 3, 10, tzinfo=UTC)
    series = make_series(org, [], now=now, rule="FREQ=MONTHLY;BYMONTHDAY=1;COUNT=6", start="2026-04-01T03:00",
                         zone="UTC")
    assert [o.scheduled_for.date() for o in occurrences(series.id)] == [dt.date(2026, 4, 1), dt.date(2026, 5, 1)]
    # June 1st enters the 60-day horizon on April 2nd, not before.
    assert maintenance.materialise_occurrences(dt.datetime(2026, 4, 1, 23, 0, tzinfo=UTC)) == []
    assert len(maintenance.materialise_occurrences(dt.datetime(2026, 4, 2, 3, 0, tzinfo=UTC))) == 1
    for day in range(30):
        maintenance.materialise_occurrences(dt.datetime(2026, 5, 2, tzinfo=UTC) + dt.timedelta(days=10 * day))
    assert len(occurrences(series.id)) == 6  # COUNT=6, never more
    assert load(MaintenanceSeries, series.id).next_fill_at is None


def test_series_validation(org, row_counts):
    api = new_service(org, "api")
    counts = row_counts()
    now = dt.datetime(2026, 3, 10, tzinfo=UTC)
    for kw, field in [
        ({"rule": "FREQ=SOMETIMES"}, "rrule"),
        ({"rule": "FREQ=HOURLY"}, "rrule"),
        ({"rule": "FREQ=WEEKLY;BYDAY=XX"}, "rrule"),
        ({"rule": "FREQ=WEEKLY;BYHOUR=3"}, "rrule"),
        ({"rule": ""}, "rrule"),
        ({"rule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"}, "rrule"),  # never happens
        ({"rule": "FREQ=DAILY", "minutes": 25 * 60}, "rrule"),  # windows overlap each other
        ({"zone": "Mars/Olympus"}, "time_zone"),
        ({"start": "next sunday"}, "dtstart_local"),
        ({"start": "2026-03-01T02:00+01:00"}, "dtstart_local"),
        ({"minutes": 0}, "duration_minutes"),
    ]:
        with pytest.raises(ValidationError) as exc:
            make_series(org, [api.id], now=now, **{"rule": "FREQ=WEEKLY;BYDAY=SU", **kw})
        assert field in exc.value.errors, (kw, exc.value.errors)
    with pytest.raises(ValidationError) as exc:
        make_series(org, [12345], now=now)
    assert "services" in exc.value.errors
    assert row_counts() == counts


def test_until_in_utc_is_honoured(org):
    now = dt.datetime(2026, 3, 10, tzinfo=UTC)
    series = make_series(org, [], now=now, rule="FREQ=WEEKLY;BYDAY=SU;UNTIL=20260322T010000Z")
    assert [o.scheduled_for for o in occurrences(series.id)] == [
        dt.datetime(2026, 3, 15, 1, 0, tzinfo=UTC), dt.datetime(2026, 3, 22, 1, 0, tzinfo=UTC)]


def test_edit_one_occurrence_detaches_it_and_refuses_overlaps(org, row_counts):
    api = new_service(org, "api")
    now = dt.datetime(2026, 3, 10, tzinfo=UTC)
    series = make_series(org, [api.id], now=now)
    first, second = occurrences(series.id)[:2]
    counts = row_counts()
    with at(now), pytest.raises(ValidationError) as exc:
        maintenance.edit_maintenance(actor=org, maintenance_id=first.id, scheduled_until=second.scheduled_for + M)
    assert "scheduled_for" in exc.value.errors
    assert row_counts() == counts
    with at(now):
        maintenance.edit_maintenance(actor=org, maintenance_id=first.id, scheduled_until=first.scheduled_until + H,
                                     title="Longer patching")
    got = load(Maintenance, first.id)
    assert (got.detached, got.title, got.scheduled_until - got.scheduled_for) == (True, "Longer patching", 2 * H)

    # A series edit leaves the detached occurrence alone and rewrites the others in place.
    with at(now):
        maintenance.edit_series(actor=org, series_id=series.id, title="Sunday patching")
    assert load(Maintenance, first.id).title == "Longer patching"
    others = [o for o in occurrences(series.id) if o.id != first.id]
    assert {o.title for o in others} == {"Sunday patching"}
    assert second.id in {o.id for o in others}


def test_series_schedule_edit_regenerates_only_future_undetached(org):
    api = new_service(org, "api")
    web = new_service(org, "web")
    now = dt.datetime(2026, 3, 10, tzinfo=UTC)
    series = make_series(org, [api.id], now=now)
    occ = occurrences(series.id)
    with at(occ[0].scheduled_for):
        maintenance.tick()  # the first one is in progress
    with at(now):
        maintenance.edit_maintenance(actor=org, maintenance_id=occ[1].id, title="Special")
    with at(occ[0].scheduled_for + 10 * M):
        maintenance.edit_series(actor=org, series_id=series.id, rrule="FREQ=WEEKLY;BYDAY=SA", services=[web.id])
    after = occurrences(series.id)
    kept = {o.id for o in after}
    assert occ[0].id in kept and occ[1].id in kept  # in progress, detached
    new = [o for o in after if o.id not in (occ[0].id, occ[1].id)]
    # The other Sunday ones were removed, Saturday ones generated (SQLite may reuse their ids).
    assert new and all(o.scheduled_for.astimezone(ZoneInfo("Europe/Berlin")).weekday() == 5 for o in new)
    assert not ({o.occurrence_start for o in occ[2:]} & {o.occurrence_start for o in new})
    with fresh() as s:
        for o in new:
            assert list(s.exec(select(MaintenanceService.service_id)
                               .where(MaintenanceService.maintenance_id == o.id))) == [web.id]
    assert status_of(api.id) == MAINT  # the occurrence in progress kept its services


def test_cancel_series(org, capture_changes):
    api = new_service(org, "api")
    now = dt.datetime(2026, 3, 10, tzinfo=UTC)
    series = make_series(org, [api.id], now=now)
    with at(now):
        maintenance.cancel_series(actor=org, series_id=series.id)
    assert {o.status for o in occurrences(series.id)} == {"cancelled"}
    assert maintenance.materialise_occurrences(now + dt.timedelta(days=100)) == []
    assert capture_changes.kinds[-1].value == "maintenance_series.cancelled"
    with at(now), pytest.raises(ValidationError):
        maintenance.edit_series(actor=org, series_id=series.id, title="Again")


def test_deleted_occurrence_is_not_generated_again(org):
    now = dt.datetime(2026, 3, 10, tzinfo=UTC)
    series = make_series(org, [], now=now)
    victim = occurrences(series.id)[0]
    with at(now):
        maintenance.delete_maintenance(actor=org, maintenance_id=victim.id)
    for days in range(0, 80, 5):
        maintenance.materialise_occurrences(now + dt.timedelta(days=days))
    assert victim.occurrence_start not in {o.occurrence_start for o in occurrences(series.id)}


def test_status_history_records_the_maintenance(org):
    api = new_service(org, "api")
    m = schedule(org, [api.id])
    with at(T0 + 2 * H):
        maintenance.tick()
    with fresh() as s:
        row = s.exec(select(ServiceStatusChange).where(ServiceStatusChange.service_id == api.id)
                     .order_by(ServiceStatusChange.id.desc())).first()
    assert (row.maintenance_id, row.changed_at, row.to_status) == (m.id, T0 + 2 * H, MAINT)


def test_two_clocks_at_once_start_complete_and_remind_once(org, capture_changes):
    """Two runners (leadership changing hands) ticking at the same moment: each move once."""
    from tests.domain.test_concurrency import _race
    from tests.domain.helpers import assert_history_chain

    api = new_service(org, "api")
    rounds = 10
    made = [schedule(org, [api.id], start=T0 + (2 + 2 * i) * H, end=T0 + (3 + 2 * i) * H, title=f"W{i}")
            for i in range(rounds)]
    for i, m in enumerate(made):
        for moment in (m.scheduled_for - H, m.scheduled_for, m.scheduled_until):
            _race(lambda: maintenance.tick(moment), lambda: maintenance.tick(moment))
    kinds = [c.kind.value for c in capture_changes.changes]
    assert (kinds.count("maintenance.reminder"), kinds.count("maintenance.started"),
            kinds.count("maintenance.completed")) == (rounds, rounds, rounds)
    assert status_of(api.id) == OP
    assert_history_chain(api.id)


def test_a_series_that_no_longer_expands_does_not_stop_the_clock(org):
    api = new_service(org, "api")
    now = dt.datetime(2026, 3, 10, tzinfo=UTC)
    broken = make_series(org, [api.id], now=now)
    fine = make_series(org, [api.id], now=now, rule="FREQ=WEEKLY;BYDAY=SA")
    with fresh() as s:  # its zone left the tz database (an OS upgrade): simulated
        row = s.get(MaintenanceSeries, broken.id)
        row.time_zone, row.next_fill_at = "Atlantis/Capital", now
        s.add(row)
        s.commit()
    later = now + dt.timedelta(days=20)
    made = maintenance.materialise_occurrences(later)
    assert made and all(load(Maintenance, mid).series_id == fine.id for mid in made)
    assert load(MaintenanceSeries, broken.id).next_fill_at is None
    assert maintenance.materialise_occurrences(later) == []


def test_series_duration_edit_keeps_a_detached_occurrence_at_the_same_start(org):
    now = dt.datetime(2026, 3, 10, tzinfo=UTC)
    series = make_series(org, [], now=now)
    occ = occurrences(series.id)
    with at(now):
        maintenance.edit_maintenance(actor=org, maintenance_id=occ[1].id, title="Special")
        maintenance.edit_series(actor=org, series_id=series.id, duration_minutes=45)
    after = occurrences(series.id)
    assert [o.occurrence_start for o in after] == [o.occurrence_start for o in occ]  # one each, none twice
    special = [o for o in after if o.id == occ[1].id]
    assert special and special[0].title == "Special" and special[0].scheduled_until - special[0].scheduled_for == H
    assert {o.scheduled_until - o.scheduled_for for o in after if o.id != occ[1].id} == {45 * M}
