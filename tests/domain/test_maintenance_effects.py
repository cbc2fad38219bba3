"""What a maintenance in progress changes elsewhere (SQLite and PostgreSQL, controlled clock):
monitor failures inside the window neither open an incident nor count as an outage, outside
it they do; time inside the window is not downtime in the uptime figures."""

from __future__ import annotations

import datetime as dt

from statusapp import clock
from statusapp.domain import maintenance, services
from statusapp.models import Service
from statusapp.queries.uptime import service_uptime_percent
from tests.domain.helpers import MAINT, MAJOR, OP, assert_history_chain, load, new_service, status_of
from tests.domain.test_monitoring import active_incidents, monitor, results

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)


def window(org, svc_ids, start, end):
    with clock.at(T0):
        return maintenance.create_maintenance(actor=org, title="Upgrade", scheduled_for=start, scheduled_until=end,
                                              services=svc_ids)


def test_monitor_failures_inside_the_window_are_not_an_outage(org):
    with clock.at(T0):
        svc = new_service(org, "api", name="API")
        mon = monitor(org, svc)  # two failures confirm
    window(org, [svc.id], T0 + H, T0 + 2 * H)
    maintenance.tick(T0 + H)
    with clock.at(T0 + H + M):
        results(mon, "d", "d", "d", start=T0 + H + M)
    assert status_of(svc.id) == MAINT
    assert load(Service, svc.id).monitor_status == OP
    assert active_incidents() == []

    # The window ends while the target still fails: the next failure confirms the outage.
    maintenance.tick(T0 + 2 * H)
    assert status_of(svc.id) == OP
    with clock.at(T0 + 2 * H + M):
        results(mon, "d", start=T0 + 2 * H + M)
    assert status_of(svc.id) == MAJOR
    [incident] = active_incidents()
    assert incident.title == "API is not responding"
    assert_history_chain(svc.id)


def test_monitor_failures_outside_the_window_still_count(org):
    with clock.at(T0):
        api = new_service(org, "api", name="API")
        web = new_service(org, "web", name="Web")
        mon_api = monitor(org, api)
        mon_web = monitor(org, web)
    window(org, [api.id], T0 + H, T0 + 2 * H)
    # Before the window: confirmed as usual.
    with clock.at(T0 + 30 * M):
        results(mon_web, "d", "d", start=T0 + 30 * M)
    assert status_of(web.id) == MAJOR
    # During the window, a service it does not cover is not spared either.
    maintenance.tick(T0 + H)
    with clock.at(T0 + H + M):
        results(mon_api, "d", "d", start=T0 + H + M)
        results(mon_web, "u", start=T0 + H + M)
    assert (status_of(api.id), status_of(web.id)) == (MAINT, OP)
    with clock.at(T0 + H + 2 * M):
        results(mon_web, "d", "d", start=T0 + H + 2 * M)
    assert status_of(web.id) == MAJOR
    assert [i.title for i in active_incidents()] == ["Web is not responding"]


def test_an_outage_confirmed_before_the_window_stays_and_may_recover_inside(org):
    with clock.at(T0):
        svc = new_service(org, "api", name="API")
        mon = monitor(org, svc)
    window(org, [svc.id], T0 + H, T0 + 2 * H)
    with clock.at(T0 + 30 * M):
        results(mon, "d", "d", start=T0 + 30 * M)
    maintenance.tick(T0 + H)
    assert status_of(svc.id) == MAJOR  # a real outage is never hidden by the window
    with clock.at(T0 + H + M):
        results(mon, "u", start=T0 + H + M)
    assert status_of(svc.id) == MAINT
    assert active_incidents() == []  # its own incident resolved with the recovery


def test_time_inside_the_window_is_not_downtime(org):
    with clock.at(T0):
        inside = new_service(org, "inside")
        outside = new_service(org, "outside")
    window(org, [inside.id], T0 + H, T0 + 2 * H)
    maintenance.tick(T0 + H)
    # A person reports a major outage of both for 15 minutes inside the window.
    for svc in (inside, outside):
        with clock.at(T0 + H + 30 * M):
            services.set_manual_status(actor=org, service_id=svc.id, status=MAJOR)
        with clock.at(T0 + H + 45 * M):
            services.set_manual_status(actor=org, service_id=svc.id, status=OP)
    maintenance.tick(T0 + 2 * H)
    now = T0 + 4 * H
    assert service_uptime_percent(inside.id, "UTC", now) == 100.0
    down = service_uptime_percent(outside.id, "UTC", now)
    assert down is not None and abs(down - 100.0 * (1 - 15 / 240)) < 1e-6


def test_a_window_still_running_is_excluded_up_to_now(org):
    with clock.at(T0):
        svc = new_service(org, "api")
    window(org, [svc.id], T0 + H, T0 + 5 * H)
    maintenance.tick(T0 + H)
    with clock.at(T0 + 2 * H):
        services.set_manual_status(actor=org, service_id=svc.id, status=MAJOR)
    assert service_uptime_percent(svc.id, "UTC", T0 + 3 * H) == 100.0
    # Cancelled before it started: no window at all.
    with clock.at(T0):
        other = new_service(org, "other")
        m = maintenance.create_maintenance(actor=org, title="Off", scheduled_for=T0 + H, scheduled_until=T0 + 2 * H,
                                           services=[other.id])
        maintenance.cancel_maintenance(actor=org, maintenance_id=m.id)
    with clock.at(T0 + H + 30 * M):
        services.set_manual_status(actor=org, service_id=other.id, status=MAJOR)
    assert service_uptime_percent(other.id, "UTC", T0 + 2 * H) < 100.0
