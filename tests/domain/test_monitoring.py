"""Monitors through the domain: confirmation, the monitor's verdict as a third input, the
auto-incident, push heartbeats, pausing, rollups and retention (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import func, select

from statusapp.domain import NotFound, incidents
from statusapp.domain import monitoring as mon_ops
from statusapp.domain.monitoring import CheckOutcome
from statusapp.enums import ChangeCause
from statusapp.models import DomainEvent, Incident, Monitor, MonitorCheck, MonitorDaily, utcnow
from statusapp.queries.monitoring import load_monitor_detail, load_monitor_rows
from tests.domain.helpers import (
    DEG,
    MAJOR,
    OP,
    PART,
    assert_history_chain,
    declare,
    expect_invalid,
    fresh,
    history,
    load,
    new_service,
    status_of,
    updates_of,
)

URL = "https://api.example.com/health"


def monitor(actor, service, **fields) -> Monitor:
    data = {"kind": "http", "url": URL, **fields}
    return mon_ops.set_monitor(actor=actor, service_id=service.id, data=data).monitor


def results(mon: Monitor, *observations: str, start: dt.datetime | None = None, reason: str = ""):
    """Feed observations ("u" up, "s" slow, "d" down), one batch each, a second apart."""
    start = start or utcnow()
    for i, o in enumerate(observations):
        at = start + dt.timedelta(seconds=i)
        mon_ops.record_check_results([
            CheckOutcome(mon.id, at, o != "d", reason or ("connection refused" if o == "d" else "HTTP 200"),
                         latency_ms=None if o == "d" else 12.0, status_code=None if o == "d" else 200,
                         degraded=o == "s")
        ])


def active_incidents() -> list[Incident]:
    with fresh() as s:
        return list(s.exec(select(Incident).where(Incident.status.in_(["investigating", "identified", "monitoring"]))))


def test_a_failure_changes_nothing_until_confirmed(org, capture_changes):
    svc = new_service(org, "api", name="API")
    mon = monitor(org, svc)  # 2 failures to confirm by default
    capture_changes.clear()
    results(mon, "d")
    assert status_of(svc.id) == OP
    assert capture_changes.kinds == []  # no outbox row, no push for an unconfirmed failure
    (row,) = load_monitor_rows(org.organization_id)
    assert row.pending == "1 of 2 failures before it counts as down"  # the console shows it
    assert row.last_reason == "connection refused"

    results(mon, "d")
    assert status_of(svc.id) == MAJOR
    last = history(svc.id)[-1]
    assert (last.from_status, last.to_status, last.cause) == (OP, MAJOR, ChangeCause.monitor.value)
    assert "monitor.verdict_changed" in capture_changes.kinds
    assert_history_chain(svc.id)


def test_confirmed_outage_opens_an_incident_and_recovery_resolves_it(org):
    svc = new_service(org, "api", name="API")
    mon = monitor(org, svc)
    results(mon, "d", "d", reason="connection refused by 10.0.0.5:443")
    (inc,) = active_incidents()
    assert inc.title == "API is not responding"
    assert inc.opened_by_monitor_id == mon.id and inc.impact == "critical"
    assert "connection refused by 10.0.0.5:443" in updates_of(inc.id)[0].message

    results(mon, "u")  # 1 success to recover by default
    assert status_of(svc.id) == OP
    resolved = load(Incident, inc.id)
    assert resolved.status == "resolved"
    last_update = updates_of(inc.id)[-1]
    assert last_update.status == "resolved" and last_update.source == ChangeCause.monitor.value
    assert "responding again" in last_update.message
    assert history(svc.id)[-1].cause == ChangeCause.monitor.value
    assert_history_chain(svc.id)


def test_a_human_incident_survives_the_monitor_recovering(org):
    svc = new_service(org, "api", name="API")
    mon = monitor(org, svc)
    human = declare(org, {svc.id: PART}, impact="major", title="Database failover")
    results(mon, "d", "d")
    assert status_of(svc.id) == MAJOR
    assert [i.id for i in active_incidents()] == [human.id]  # no second incident on top of theirs
    results(mon, "u")
    assert load(Incident, human.id).status == "investigating"
    assert status_of(svc.id) == PART  # the human's incident still imposes its status
    assert_history_chain(svc.id)


def test_the_monitor_never_resolves_its_incident_once_a_person_posted_on_it(org):
    svc = new_service(org, "api", name="API")
    mon = monitor(org, svc)
    results(mon, "d", "d")
    (inc,) = active_incidents()
    incidents.post_update(actor=org, incident_id=inc.id, status="identified", message="We know why.")
    results(mon, "u")
    assert load(Incident, inc.id).status == "identified"
    assert status_of(svc.id) == MAJOR  # the incident, now theirs, still says major outage
    incidents.resolve_incident(actor=org, incident_id=inc.id)
    assert status_of(svc.id) == OP


def test_flapping_never_reaches_the_page(org, capture_changes):
    svc = new_service(org, "api")
    mon = monitor(org, svc, failures_to_confirm=2, successes_to_recover=2)
    capture_changes.clear()
    results(mon, "d", "u", "d", "u", "d", "u")
    assert status_of(svc.id) == OP
    assert capture_changes.kinds == []
    results(mon, "d", "d")
    assert status_of(svc.id) == MAJOR
    results(mon, "u", "d", "u")  # one success is not enough to come back
    assert status_of(svc.id) == MAJOR
    results(mon, "u")
    assert status_of(svc.id) == OP


def test_slowness_degrades_without_an_incident(org):
    svc = new_service(org, "api")
    mon = monitor(org, svc, degraded_above_ms=500)
    results(mon, "s", "s")
    assert status_of(svc.id) == DEG
    assert active_incidents() == []
    results(mon, "u")
    assert status_of(svc.id) == OP


def test_failure_status_and_auto_incident_are_per_monitor(org):
    svc = new_service(org, "api")
    mon = monitor(org, svc, failure_status="partial_outage", auto_incident="false", failures_to_confirm=1)
    results(mon, "d")
    assert status_of(svc.id) == PART
    assert active_incidents() == []


def test_the_verdict_is_one_input_among_the_others(org):
    svc = new_service(org, "api")
    mon = monitor(org, svc, auto_incident=False, failures_to_confirm=1)
    from statusapp.domain import services

    services.set_manual_status(actor=org, service_id=svc.id, status=DEG)
    results(mon, "d")
    assert status_of(svc.id) == MAJOR
    results(mon, "u")
    assert status_of(svc.id) == DEG  # the manual status is still there


def test_results_of_deleted_or_paused_monitors_are_dropped(org, row_counts):
    svc = new_service(org, "api")
    other = new_service(org, "web")
    mon = monitor(org, svc)
    paused = monitor(org, other, enabled="false")
    gone = monitor(org, new_service(org, "old"))
    mon_ops.delete_monitor(actor=org, service_id=gone.service_id)
    summary = mon_ops.record_check_results([
        CheckOutcome(mon.id, utcnow(), True, "HTTP 200", 5.0),
        CheckOutcome(paused.id, utcnow(), False, "refused"),
        CheckOutcome(gone.id, utcnow(), False, "refused"),
    ])
    assert summary.recorded == 1
    assert row_counts()["monitor_check"] == 1


def test_pausing_withdraws_the_verdict_and_closes_the_monitors_incident(org):
    svc = new_service(org, "api", name="API")
    mon = monitor(org, svc)
    results(mon, "d", "d")
    (inc,) = active_incidents()
    mon_ops.set_monitor(actor=org, service_id=svc.id, data={"kind": "http", "url": URL, "enabled": False})
    assert status_of(svc.id) == OP
    assert load(Incident, inc.id).status == "resolved"
    results(mon, "d", "d")  # a paused monitor's late results change nothing
    assert status_of(svc.id) == OP
    assert_history_chain(svc.id)


def test_deleting_the_monitor_withdraws_its_verdict(org):
    svc = new_service(org, "api")
    mon = monitor(org, svc, auto_incident=False)
    results(mon, "d", "d")
    mon_ops.delete_monitor(actor=org, service_id=svc.id)
    assert status_of(svc.id) == OP
    assert load(Monitor, mon.id) is None
    with pytest.raises(NotFound):
        mon_ops.delete_monitor(actor=org, service_id=svc.id)


def test_reconfiguring_forgets_the_old_targets_observations(org):
    svc = new_service(org, "api")
    mon = monitor(org, svc)
    results(mon, "d")
    monitor(org, svc, url="https://api.example.com/other")
    assert load(Monitor, mon.id).recent == ""
    results(mon, "d")
    assert status_of(svc.id) == OP  # one failure of the new target only


def test_checks_are_not_outbox_events(org):
    svc = new_service(org, "api")
    mon = monitor(org, svc)
    with fresh() as s:
        before = s.exec(select(func.count()).select_from(DomainEvent)).one()
    mon_ops.record_check_results([CheckOutcome(mon.id, utcnow() + dt.timedelta(seconds=i), True, "HTTP 200", 3.0)
                                  for i in range(200)])
    with fresh() as s:
        assert s.exec(select(func.count()).select_from(DomainEvent)).one() == before
        assert s.exec(select(func.count()).select_from(MonitorCheck)).one() == 200


def test_one_organization_cannot_touch_anothers_monitor(org, other_org):
    svc = new_service(org, "api")
    monitor(org, svc)
    with pytest.raises(NotFound):
        mon_ops.set_monitor(actor=other_org, service_id=svc.id, data={"kind": "http", "url": URL})
    with pytest.raises(NotFound):
        mon_ops.delete_monitor(actor=other_org, service_id=svc.id)
    assert load_monitor_detail(other_org.organization_id, svc.id) is None


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("url", {"kind": "http", "url": "ftp://example.com/"}),
        ("url", {"kind": "http", "url": "javascript:alert(1)"}),
        ("port", {"kind": "tcp", "host": "db.internal", "port": "70000"}),
        ("interval_seconds", {"kind": "http", "url": URL, "interval_seconds": "5"}),
        ("interval_seconds", {"kind": "http", "url": URL, "interval_seconds": "7200"}),
        ("headers", {"kind": "http", "url": URL, "headers": {"X-Evil": "a\r\nInjected: 1"}}),
        ("expected_statuses", {"kind": "http", "url": URL, "expected_statuses": "200-2xx"}),
        ("auto_incident", {"kind": "http", "url": URL, "auto_incident": "maybe"}),
    ],
)
def test_bad_input_is_refused_by_field_and_saves_nothing(org, row_counts, field, data):
    svc = new_service(org, "api")
    expect_invalid(row_counts, field, mon_ops.set_monitor, actor=org, service_id=svc.id, data=data)


# ---- push monitors ----------------------------------------------------------------------------


def test_push_monitor_token_is_shown_once_and_stored_hashed(org):
    svc = new_service(org, "cron")
    saved = mon_ops.set_monitor(actor=org, service_id=svc.id, data={"kind": "push", "interval_seconds": "60"})
    assert saved.push_token and len(saved.push_token) >= 32
    stored = load(Monitor, saved.monitor.id)
    assert stored.push_token_hash == mon_ops.hash_token(saved.push_token)
    assert saved.push_token not in str(stored.check)
    # Saving again keeps the URL; regenerating replaces it.
    again = mon_ops.set_monitor(actor=org, service_id=svc.id, data={"kind": "push", "interval_seconds": "120"})
    assert again.push_token is None
    new = mon_ops.regenerate_push_token(actor=org, service_id=svc.id)
    with pytest.raises(NotFound):
        mon_ops.record_push(saved.push_token)
    mon_ops.record_push(new)
    assert load(Monitor, saved.monitor.id).last_ok is True


def test_a_missed_beat_is_a_failed_check(org):
    svc = new_service(org, "cron", name="Nightly export")
    saved = mon_ops.set_monitor(actor=org, service_id=svc.id, data={
        "kind": "push", "interval_seconds": "60", "grace_seconds": "30", "failures_to_confirm": "2"})
    mon_ops.record_push(saved.push_token)
    beat = load(Monitor, saved.monitor.id).last_push_at
    assert mon_ops.record_missed_beats(beat + dt.timedelta(seconds=85)) == 0  # within interval + grace
    assert mon_ops.record_missed_beats(beat + dt.timedelta(seconds=95)) == 1
    row = load(Monitor, saved.monitor.id)
    assert row.last_ok is False and "no heartbeat for 95 s (expected every 60 s + 30 s grace)" == row.last_reason
    assert status_of(svc.id) == OP  # one miss is not confirmed
    assert mon_ops.record_missed_beats(beat + dt.timedelta(seconds=100)) == 0  # at most one per interval
    assert mon_ops.record_missed_beats(beat + dt.timedelta(seconds=156)) == 1
    assert status_of(svc.id) == MAJOR
    (inc,) = active_incidents()
    assert inc.title == "Nightly export is not responding"
    mon_ops.record_push(saved.push_token, now=beat + dt.timedelta(seconds=160))  # the job runs again
    assert status_of(svc.id) == OP
    assert load(Incident, inc.id).status == "resolved"


def test_a_push_monitor_never_called_fails_after_its_interval_and_grace(org):
    svc = new_service(org, "cron")
    saved = mon_ops.set_monitor(actor=org, service_id=svc.id, data={
        "kind": "push", "interval_seconds": "60", "grace_seconds": "30", "failures_to_confirm": "1"})
    made = load(Monitor, saved.monitor.id).updated_at
    assert mon_ops.record_missed_beats(made + dt.timedelta(seconds=80)) == 0
    assert mon_ops.record_missed_beats(made + dt.timedelta(seconds=95)) == 1
    assert status_of(svc.id) == MAJOR


def test_push_reporting_down_and_pushing_too_often(org):
    svc = new_service(org, "cron")
    saved = mon_ops.set_monitor(actor=org, service_id=svc.id, data={"kind": "push", "failures_to_confirm": "1"})
    mon_ops.record_push(saved.push_token, ok=False, message="disk full")
    assert load(Monitor, saved.monitor.id).last_reason == "heartbeat reported down: disk full"
    assert status_of(svc.id) == MAJOR
    with pytest.raises(mon_ops.TooManyPushes):
        mon_ops.record_push(saved.push_token)


# ---- rollups and retention ----------------------------------------------------------------------


def test_daily_rollups_and_retention(org):
    svc = new_service(org, "api")
    mon = monitor(org, svc)
    now = dt.datetime(2026, 3, 10, 12, tzinfo=dt.timezone.utc)
    day = dt.datetime(2026, 3, 8, tzinfo=dt.timezone.utc)
    outcomes = [CheckOutcome(mon.id, day + dt.timedelta(minutes=i), i % 10 != 0, "x", float(i)) for i in range(100)]
    old = [CheckOutcome(mon.id, now - dt.timedelta(days=40, minutes=i), True, "x", 1.0) for i in range(5)]
    mon_ops.record_check_results(outcomes + old)
    assert mon_ops.roll_up_checks(retention_days=30, now=now) == 1  # the one day with checks
    with fresh() as s:
        (roll,) = s.exec(select(MonitorDaily).where(MonitorDaily.day == day.date())).all()
    ok_latencies = [float(i) for i in range(100) if i % 10 != 0]  # 90 successful checks
    assert (roll.checks, roll.failures) == (100, 10)
    assert roll.avg_latency_ms == pytest.approx(sum(ok_latencies) / 90, abs=0.01)
    assert roll.p95_latency_ms == 95.0  # nearest rank: the 86th of the 90
    assert mon_ops.roll_up_checks(retention_days=30, now=now) == 0  # done: nothing new
    assert mon_ops.prune_checks(retention_days=30, now=now) == 5
    with fresh() as s:
        assert s.exec(select(func.count()).select_from(MonitorCheck)).one() == 100
    detail = load_monitor_detail(org.organization_id, svc.id)
    assert detail.daily[0].day == "2026-03-08" and detail.daily[0].failures == 10
