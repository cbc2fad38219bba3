"""Maintenance notifications through the outbox, on a controlled clock (no sleeping): scheduled
(when chosen), the reminder N minutes before, started and completed, each exactly once at its
moment, filtered per service like incidents; the maintenance clock as a job of the runner."""

from __future__ import annotations

import asyncio
import datetime as dt

from statusapp import clock
from statusapp.domain import maintenance
from statusapp.jobs import all_jobs
from statusapp.jobs import maintenance as maintenance_job
from statusapp.notify.message import Notice
from sqlmodel import select

from statusapp.models import Notification
from tests.notifications.helpers import deliveries, fresh, import_confirmed, mailbox_sender, mails, make_page, run_sender

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
MIN = dt.timedelta(minutes=1)
H = dt.timedelta(hours=1)


def send_at(moment):
    with clock.at(moment):
        run_sender(mailbox_sender())


def tick_at(moment):
    with clock.at(moment):
        return maintenance.tick()


def subjects(to=None):
    return [m.subject for m in mails(to)]


def notices() -> list[Notice]:
    with fresh() as s:
        return [Notice.from_dict(n.payload) for n in s.exec(select(Notification).order_by(Notification.id))]


def test_the_clock_is_a_job():
    assert "maintenance-clock" in [j.name for j in all_jobs()]


def test_every_notice_once_at_its_moment_and_per_service(org):
    page, svc = make_page(org)
    import_confirmed(org, page.id, ["all@example.com", "api@example.com,acme-api", "web@example.com,acme-web"])
    with clock.at(T0):
        m = maintenance.create_maintenance(actor=org, title="Database upgrade", scheduled_for=T0 + 3 * H,
                                           scheduled_until=T0 + 4 * H, services=[svc["api"].id],
                                           remind_minutes_before=60)
    send_at(T0)
    assert subjects("all@example.com") == ["[Acme Status] Scheduled maintenance: Database upgrade"]
    assert subjects("api@example.com") == ["[Acme Status] Scheduled maintenance: Database upgrade"]
    assert subjects("web@example.com") == []  # chose only a service the window does not touch

    # Nothing until the reminder moment; then the reminder once, however often the clock ticks.
    for moment in (T0 + H, T0 + 2 * H - MIN):
        assert not tick_at(moment).anything
    assert tick_at(T0 + 2 * H).reminded == [m.id]
    assert tick_at(T0 + 2 * H + MIN).reminded == []
    send_at(T0 + 2 * H + MIN)
    assert subjects("all@example.com")[-1] == "[Acme Status] Maintenance reminder: Database upgrade"

    assert tick_at(T0 + 3 * H).started == [m.id]
    assert tick_at(T0 + 3 * H + MIN).started == []
    send_at(T0 + 3 * H + MIN)
    assert subjects("api@example.com")[-1] == "[Acme Status] Maintenance started: Database upgrade"

    assert tick_at(T0 + 4 * H).completed == [m.id]
    assert tick_at(T0 + 4 * H + MIN).completed == []
    send_at(T0 + 4 * H + MIN)
    send_at(T0 + 4 * H + 2 * MIN)  # another sender run: nothing new
    assert subjects("all@example.com") == [
        "[Acme Status] Scheduled maintenance: Database upgrade",
        "[Acme Status] Maintenance reminder: Database upgrade",
        "[Acme Status] Maintenance started: Database upgrade",
        "[Acme Status] Maintenance completed: Database upgrade",
    ]
    assert subjects("api@example.com") == subjects("all@example.com")
    assert subjects("web@example.com") == []
    assert {d.status for d in deliveries()} == {"sent"}

    kinds = [n.kind.value for n in notices()]
    assert kinds == ["maintenance.scheduled", "maintenance.reminder", "maintenance.started", "maintenance.completed"]
    started = notices()[2]
    assert started.incident.is_maintenance and started.incident.scheduled_for == T0 + 3 * H
    assert [(s.name, s.old_status.value, s.new_status.value) for s in started.services] == [
        ("API", "operational", "under_maintenance")]


def test_flags_off_send_nothing(org):
    page, svc = make_page(org)
    import_confirmed(org, page.id, ["all@example.com"])
    with clock.at(T0):
        maintenance.create_maintenance(actor=org, title="Quiet work", scheduled_for=T0 + 3 * H,
                                       scheduled_until=T0 + 4 * H, services=[svc["api"].id],
                                       notify_on_create=False, remind_minutes_before=None,
                                       notify_on_start=False, notify_on_complete=False)
    for moment in (T0, T0 + 2 * H, T0 + 3 * H, T0 + 4 * H):
        tick_at(moment)
        send_at(moment)
    assert mails() == [] and deliveries() == []


def test_a_window_without_services_tells_the_whole_page(org):
    page, svc = make_page(org)
    import_confirmed(org, page.id, ["all@example.com", "web@example.com,acme-web"])
    with clock.at(T0):
        maintenance.create_maintenance(actor=org, title="Everything", scheduled_for=T0 + H,
                                       scheduled_until=T0 + 2 * H)
    send_at(T0)
    assert sorted(m.to_address for m in mails()) == ["all@example.com", "web@example.com"]


def test_recurring_occurrences_notify_start_and_completion_but_not_creation(org):
    page, svc = make_page(org)
    import_confirmed(org, page.id, ["all@example.com"])
    now = dt.datetime(2026, 3, 23, tzinfo=UTC)  # a Monday: the next window is on the DST Sunday
    with clock.at(now):
        series = maintenance.create_series(actor=org, title="Sunday patching", rrule="FREQ=WEEKLY;BYDAY=SU",
                                           dtstart_local="2026-03-01T02:00", time_zone="Europe/Berlin",
                                           duration_minutes=60, services=[svc["api"].id],
                                           remind_minutes_before=None)
    send_at(now)
    assert mails() == []
    # Across the DST change of 2026-03-29: 02:00 local does not exist, the window starts at
    # 03:00 summer time (01:00 UTC); the next Sunday at 02:00 summer time (00:00 UTC).
    dst_day = dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert tick_at(dst_day - MIN).started == []
    assert len(tick_at(dst_day).started) == 1
    assert len(tick_at(dst_day + H).completed) == 1
    next_sunday = dt.datetime(2026, 4, 5, 0, 0, tzinfo=UTC)
    assert tick_at(next_sunday - MIN).started == []
    assert len(tick_at(next_sunday).started) == 1
    send_at(next_sunday + MIN)
    assert sorted(subjects()) == ["[Acme Status] Maintenance completed: Sunday patching",
                                  "[Acme Status] Maintenance started: Sunday patching",
                                  "[Acme Status] Maintenance started: Sunday patching"]
    assert series.id


def test_run_clock_job(org):
    page, svc = make_page(org)
    with clock.at(T0):
        m = maintenance.create_maintenance(actor=org, title="Job", scheduled_for=T0 + MIN,
                                           scheduled_until=T0 + H, services=[svc["api"].id])

    async def scenario():
        with clock.at(T0 + MIN):
            return await maintenance_job.run_clock()

    assert asyncio.run(scenario()).started == [m.id]
