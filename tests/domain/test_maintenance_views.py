"""Maintenance as pages and the console read it: the page view (upcoming, in progress), the
history, the public detail, the console list and calendar, and the console form's adapters.
Every test runs on SQLite and PostgreSQL, on a controlled clock."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import func, select

from statusapp import clock
from statusapp.domain import ValidationError, maintenance, pages
from statusapp.models import Maintenance, MaintenanceSeries
from statusapp.queries import public as queries
from statusapp.queries.admin import load_admin_data
from statusapp.ui.admin.maintenance import calendar_weeks
from statusapp.ui.admin.maintenance_form import create_from_form, edit_from_form, rule_for, to_local_input
from tests.domain.helpers import MAINT, OP, fresh, new_service, view_of

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # a Monday
H = dt.timedelta(hours=1)


def _setup(org):
    api = new_service(org, "api", name="API")
    web = new_service(org, "web", name="Website")
    other = new_service(org, "other", name="Other")
    pages.create_page(actor=org, name="Acme", slug="acme", service_ids=[api.id, web.id])
    return api, web, other


def _schedule(org, ids, start=T0 + 2 * H, end=T0 + 3 * H, title="Database upgrade", **kw):
    with clock.at(kw.pop("now", T0)):
        return maintenance.create_maintenance(actor=org, title=title, scheduled_for=start, scheduled_until=end,
                                              services=ids, **kw)


def test_page_view_lists_upcoming_then_in_progress_then_nothing(org):
    api, web, other = _setup(org)
    m = _schedule(org, [api.id], description="Writes **paused**.")
    later = _schedule(org, [], start=T0 + 26 * H, end=T0 + 27 * H, title="Org-wide")
    _schedule(org, [other.id], title="Elsewhere")  # not on this page
    with clock.at(T0):
        view = view_of("acme")
    assert [u.title for u in view.maintenance_upcoming] == ["Database upgrade", "Org-wide"]
    assert view.maintenance_active == []
    up = view.maintenance_upcoming[0]
    assert (up.id, up.status, up.status_label, up.affected) == (m.id, "scheduled", "Scheduled", "API")
    assert up.scheduled_for == (T0 + 2 * H).isoformat() and up.scheduled_until == (T0 + 3 * H).isoformat()
    assert "<strong>paused</strong>" in up.description_html
    assert [u.status for u in up.updates] == ["scheduled"]  # the latest update only

    with clock.at(T0 + 2 * H):
        maintenance.start_maintenance(actor=org, maintenance_id=m.id)
        maintenance.post_maintenance_update(actor=org, maintenance_id=m.id, message="Halfway <b>there</b>.")
        view = view_of("acme")
    assert [a.title for a in view.maintenance_active] == ["Database upgrade"]
    assert [u.id for u in view.maintenance_upcoming] == [later.id]
    active = view.maintenance_active[0]
    assert active.status_label == "In progress" and active.started_at == (T0 + 2 * H).isoformat()
    assert len(active.updates) == 1 and "&lt;b&gt;" in active.updates[0].message_html
    statuses = {s.name: s.status for g in view.groups for s in g.services}
    assert statuses == {"API": MAINT, "Website": OP}
    assert view.indicator == "maintenance"

    with clock.at(T0 + 2 * H + 30 * dt.timedelta(minutes=1)):
        maintenance.complete_maintenance(actor=org, maintenance_id=m.id)
        maintenance.cancel_maintenance(actor=org, maintenance_id=later.id)
        view = view_of("acme")
    assert view.maintenance_active == [] and view.maintenance_upcoming == []
    assert {s.status for g in view.groups for s in g.services} == {OP}


def test_page_says_under_maintenance_while_an_org_wide_window_runs(org):
    """A window with no services marks no service, so the page's overall status must say it."""
    _setup(org)
    m = _schedule(org, [], title="Org-wide")
    with clock.at(T0):
        assert view_of("acme").indicator == "none"
    with clock.at(T0 + 2 * H):
        maintenance.start_maintenance(actor=org, maintenance_id=m.id)
        view = view_of("acme")
    assert (view.indicator, view.status_text) == ("maintenance", "Service Under Maintenance")
    with clock.at(T0 + 2 * H + dt.timedelta(minutes=30)):
        maintenance.complete_maintenance(actor=org, maintenance_id=m.id)
        assert view_of("acme").indicator == "none"


def test_history_lists_maintenance_that_took_place_in_its_month(org):
    api, _, _ = _setup(org)
    done = _schedule(org, [api.id], title="Done")
    cancelled = _schedule(org, [api.id], start=T0 + 5 * H, end=T0 + 6 * H, title="Called off")
    _schedule(org, [api.id], start=T0 + 50 * 24 * H, end=T0 + 50 * 24 * H + H, title="Future")
    with clock.at(T0 + 2 * H):
        maintenance.start_maintenance(actor=org, maintenance_id=done.id)
        maintenance.complete_maintenance(actor=org, maintenance_id=done.id)
        maintenance.cancel_maintenance(actor=org, maintenance_id=cancelled.id)
    with clock.at(T0 + 40 * 24 * H), fresh() as s:  # July: June is the second month shown
        page = queries.find_page(s, "acme")
        months = queries.history_view(s, page)
        assert queries.history_page_count(s, page) == 1
    assert [mo.label for mo in months] == ["July 2026", "June 2026", "May 2026"]
    assert [m.title for m in months[1].maintenances] == ["Done"]
    assert months[1].maintenances[0].status_label == "Completed" and months[1].maintenances[0].ended_at
    assert months[0].maintenances == [] and months[1].maintenances[0].updates == []


def test_history_counts_pages_back_to_the_oldest_maintenance(org):
    api, _, _ = _setup(org)
    m = _schedule(org, [api.id])
    with clock.at(T0 + 2 * H):
        maintenance.start_maintenance(actor=org, maintenance_id=m.id)
    with clock.at(T0 + 200 * 24 * H), fresh() as s:  # December: June is seven months back
        assert queries.history_page_count(s, queries.find_page(s, "acme")) == 3


def test_public_detail_only_for_maintenance_on_the_page(org, other_org):
    api, _, other = _setup(org)
    m = _schedule(org, [api.id])
    elsewhere = _schedule(org, [other.id], title="Elsewhere")
    shown = queries.load_maintenance("acme", str(m.id))
    assert shown is not None and shown.page_name == "Acme" and shown.maintenance.title == "Database upgrade"
    assert [u.status_label for u in shown.maintenance.updates] == ["Scheduled"]
    assert queries.load_maintenance("acme", elsewhere.id) is None
    assert queries.load_maintenance("acme", "x") is None
    assert queries.load_maintenance("nope", m.id) is None


def test_console_lists_open_windows_soonest_first_then_closed(org):
    api, web, _ = _setup(org)
    b = _schedule(org, [web.id, api.id], start=T0 + 5 * H, end=T0 + 6 * H, title="B", remind_minutes_before=None)
    a = _schedule(org, [api.id], title="A")
    c = _schedule(org, [], start=T0 + 7 * H, end=T0 + 8 * H, title="C")
    with clock.at(T0 + H):
        maintenance.cancel_maintenance(actor=org, maintenance_id=c.id)
        maintenance.start_maintenance(actor=org, maintenance_id=a.id)
        data = load_admin_data(org.organization_id)
    rows = {m.title: m for m in data.maintenances}
    assert [m.title for m in data.maintenances] == ["A", "B", "C"]
    assert (rows["A"].active, rows["A"].upcoming, rows["A"].closed) == (True, False, False)
    assert (rows["B"].upcoming, rows["C"].closed) == (True, True)
    assert rows["B"].service_ids == sorted([str(api.id), str(web.id)], key=int)
    assert rows["B"].remind_minutes_before == 0 and rows["A"].remind_minutes_before == 60
    assert [u.status for u in rows["A"].updates] == ["in_progress", "scheduled"]
    assert rows["B"].id == b.id and rows["B"].series_id == 0


def _form(**kw):
    values = dict(title="Window", description="", services=[], start_local="2026-06-02T02:00",
                  end_local="2026-06-02T03:00", time_zone="Europe/Berlin", remind="60", notify_on_create=True,
                  recurrence="none", custom_rrule="")
    values.update(kw)
    return values


def _count(model) -> int:
    with fresh() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def test_form_converts_local_times_in_the_named_zone(org):
    api, _, _ = _setup(org)
    with clock.at(T0):
        kind, ident = create_from_form(actor=org, **_form(services=[str(api.id)]))
    assert kind == "maintenance"
    with fresh() as s:
        m = s.get(Maintenance, ident)
    # 02:00 in Berlin in June (CEST, UTC+2) is 00:00 UTC.
    assert m.scheduled_for.replace(tzinfo=UTC) == dt.datetime(2026, 6, 2, 0, 0, tzinfo=UTC)
    assert to_local_input(m.scheduled_for.replace(tzinfo=UTC).isoformat(), "Europe/Berlin") == "2026-06-02T02:00"


@pytest.mark.parametrize("changes, field", [
    (dict(end_local="2026-06-02T01:00"), "scheduled_until"),
    (dict(start_local=""), "scheduled_for"),
    (dict(time_zone="Mars/Olympus"), "time_zone"),
    (dict(recurrence="custom", custom_rrule=""), "rrule"),
    (dict(recurrence="custom", custom_rrule="FREQ=SECONDLY"), "rrule"),
    (dict(recurrence="weekly", end_local="2026-06-02T01:00"), "scheduled_until"),
    (dict(title=""), "title"),
])
def test_form_refuses_bad_input_by_field_and_saves_nothing(org, changes, field):
    with clock.at(T0), pytest.raises(ValidationError) as caught:
        create_from_form(actor=org, **_form(**changes))
    assert field in caught.value.errors
    assert _count(Maintenance) == 0 and _count(MaintenanceSeries) == 0


def test_end_before_start_says_so(org):
    with clock.at(T0), pytest.raises(ValidationError) as caught:
        create_from_form(actor=org, **_form(end_local="2026-06-02T01:00"))
    assert caught.value.errors["scheduled_until"] == "The end must be after the start."


def test_form_weekly_preset_makes_a_series_on_the_start_weekday(org):
    assert rule_for("weekly", "", dt.datetime(2026, 6, 7, 2, 0)) == "FREQ=WEEKLY;BYDAY=SU"
    assert rule_for("none", "", None) is None and rule_for("daily", "", None) == "FREQ=DAILY"
    with clock.at(T0):
        kind, ident = create_from_form(actor=org, **_form(recurrence="weekly", start_local="2026-06-07T02:00",
                                                           end_local="2026-06-07T03:00"))
    assert kind == "series"
    with fresh() as s:
        series = s.get(MaintenanceSeries, ident)
        first = s.exec(select(Maintenance).where(Maintenance.series_id == ident)
                       .order_by(Maintenance.scheduled_for)).first()
    assert (series.rrule, series.time_zone, series.duration_minutes) == ("FREQ=WEEKLY;BYDAY=SU", "Europe/Berlin", 60)
    assert first.scheduled_for.replace(tzinfo=UTC) == dt.datetime(2026, 6, 7, 0, 0, tzinfo=UTC)


def test_edit_sends_the_start_only_when_changed(org):
    api, _, _ = _setup(org)
    m = _schedule(org, [api.id], start=T0 + 2 * H + dt.timedelta(seconds=30))
    with clock.at(T0 + 3 * H):
        maintenance.start_maintenance(actor=org, maintenance_id=m.id)
        shown = to_local_input((T0 + 2 * H).isoformat(), "UTC")
        edit_from_form(actor=org, maintenance_id=m.id, title="Renamed", description="", services=[str(api.id)],
                       start_local=shown, end_local="2026-06-01T18:00", start_before=shown,
                       end_before="2026-06-01T15:00", time_zone="UTC", remind=None)
    with fresh() as s:
        row = s.get(Maintenance, m.id)
    assert row.title == "Renamed" and row.scheduled_until.replace(tzinfo=UTC) == T0 + 6 * H


def test_calendar_places_windows_on_their_local_days(org):
    api, _, _ = _setup(org)
    _schedule(org, [api.id], start=dt.datetime(2026, 6, 2, 23, 0, tzinfo=UTC),
              end=dt.datetime(2026, 6, 3, 0, 30, tzinfo=UTC), title="Late")
    gone = _schedule(org, [api.id], title="Gone")
    with clock.at(T0):
        maintenance.cancel_maintenance(actor=org, maintenance_id=gone.id)
        rows = load_admin_data(org.organization_id).maintenances
        weeks = calendar_weeks(rows, "Europe/Berlin", clock.now())
    assert len(weeks) == 4 and all(len(w.days) == 7 for w in weeks)
    days = {d.date: d for w in weeks for d in w.days}
    assert weeks[0].days[0].date == "2026-06-01" and days["2026-06-01"].today
    # 23:00-00:30 UTC is 01:00-02:30 the next day in Berlin.
    assert [(i.title, i.time) for i in days["2026-06-03"].windows] == [("Late", "01:00–02:30")]
    assert days["2026-06-02"].windows == [] and days["2026-06-01"].windows == []  # the cancelled one is left out


def test_maintenance_paths_are_built_and_read_in_one_place():
    from statusapp import routes

    assert routes.maintenance_path("acme", 5) == "/status/acme/maintenance/5"
    assert routes.admin_maintenance_path(7) == "/admin/maintenance/7"
    parsed = routes.parse_public_path("/status/acme/maintenance/5")
    assert (parsed.slug, parsed.view, parsed.maintenance_id, parsed.incident_id) == ("acme", "maintenance", "5", "")
    assert parsed.is_reflex_page and routes.guarded_page_slug("/status/acme/maintenance/5") == "acme"
    assert routes.parse_public_path("/status/acme/maintenance.ics").view == "file"
    assert routes.admin_maintenance_id("/admin/maintenance/7") == "7"
    assert routes.admin_maintenance_id("/admin/maintenance") == ""
