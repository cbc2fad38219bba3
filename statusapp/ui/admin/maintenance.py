"""The maintenance page: schedule a window (one-off or recurring, from a template), a four-week
calendar, and the lists of windows in progress, upcoming and past."""

from __future__ import annotations

import dataclasses
import datetime as dt

import reflex as rx

from statusapp import clock, routes
from statusapp.domain.recurrence import RRULE_MAX
from statusapp.domain.validation import MESSAGE_MAX, TITLE_MAX, bounded_text
from statusapp.markdown import render_markdown
from statusapp.queries.admin import AdminMaintenance
from statusapp.ui.admin.layout import console, field
from statusapp.ui.admin.maintenance_form import (
    RECURRENCES,
    TEMPLATE_NAMES,
    WEEKDAY_NAMES,
    create_from_form,
    next_hour_local,
    plus_minutes,
    service_checkboxes,
    template_named,
    toggled,
    zone_datalist,
    zone_input,
    zone_or_utc,
)
from statusapp.ui.admin.state import AdminState
from statusapp.ui.admin.widgets import empty_state, markdown_preview, select_of
from statusapp.ui.components import card
from statusapp.ui.format import time_text

CALENDAR_WEEKS = 4
DEFAULT_REMIND = "60"


@dataclasses.dataclass
class CalendarItem:
    id: int = 0
    title: str = ""
    time: str = ""  # "02:00–03:00" in the calendar's zone
    status_label: str = ""


@dataclasses.dataclass
class CalendarDay:
    date: str = ""  # YYYY-MM-DD
    label: str = ""  # "Mon 30 Nov"
    today: bool = False
    windows: list[CalendarItem] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class CalendarWeek:
    days: list[CalendarDay] = dataclasses.field(default_factory=list)


def calendar_weeks(maintenances: list[AdminMaintenance], zone_name: str, now: dt.datetime,
                   weeks: int = CALENDAR_WEEKS) -> list[CalendarWeek]:
    """`weeks` weeks from this week's Monday in the zone, each day listing the windows (not
    cancelled) that touch it, with their local times."""
    zone = zone_or_utc(zone_name)
    today = now.astimezone(zone).date()
    first = today - dt.timedelta(days=today.weekday())
    days = [first + dt.timedelta(days=i) for i in range(7 * weeks)]
    items: dict[dt.date, list[CalendarItem]] = {d: [] for d in days}
    for m in sorted(maintenances, key=lambda m: m.scheduled_for):
        if m.status == "cancelled" or not m.scheduled_for or not m.scheduled_until:
            continue
        start = dt.datetime.fromisoformat(m.scheduled_for).astimezone(zone)
        end = dt.datetime.fromisoformat(m.scheduled_until).astimezone(zone)
        if end.date() < days[0] or start.date() > days[-1]:
            continue
        text = f"{start:%H:%M}–{end:%H:%M}" if start.date() == end.date() else f"{start:%d %b %H:%M}–{end:%d %b %H:%M}"
        day = max(start.date(), days[0])
        # A window ending at midnight does not touch the next day.
        last = min(max((end - dt.timedelta(seconds=1)).date(), start.date()), days[-1])
        while day <= last:
            items[day].append(CalendarItem(m.id, m.title, text, m.status_label))
            day += dt.timedelta(days=1)
    return [
        CalendarWeek([CalendarDay(d.isoformat(), f"{d:%a} {d.day} {d:%b}", d == today, items[d])
                      for d in days[w * 7:(w + 1) * 7]])
        for w in range(weeks)
    ]


class MaintenanceAdmin(AdminState):
    title: str = ""
    description: str = ""
    start_local: str = ""
    end_local: str = ""
    time_zone: str = ""
    remind: str = DEFAULT_REMIND
    notify_on_create: bool = True
    recurrence: str = "none"
    custom_rrule: str = ""
    template: str = ""
    chosen: list[str] = []

    @rx.var
    def description_preview(self) -> str:
        return render_markdown(self.description)

    @rx.var
    def recurrence_label(self) -> str:
        return RECURRENCES.get(self.recurrence, "")

    @rx.var
    def weekly_label(self) -> str:
        try:
            day = dt.datetime.fromisoformat(self.start_local).weekday()
        except ValueError:
            return "Every week on the start's weekday"
        return "Every week on " + WEEKDAY_NAMES[day]

    @rx.var(cache=False)
    def calendar(self) -> list[CalendarWeek]:
        return calendar_weeks(self.maintenances, self.time_zone or "UTC", clock.now())

    @rx.var
    def in_progress(self) -> list[AdminMaintenance]:
        return [m for m in self.maintenances if m.active]

    @rx.var
    def upcoming_list(self) -> list[AdminMaintenance]:
        return [m for m in self.maintenances if m.upcoming]

    @rx.var
    def past(self) -> list[AdminMaintenance]:
        return [m for m in self.maintenances if m.closed]

    @rx.event
    async def open_maintenance(self):
        await self.open_console()
        if not self.time_zone:
            self.time_zone = self.pages[0].time_zone if self.pages else "UTC"

    @rx.event
    def set_title(self, value: str):
        self.title = bounded_text(value, TITLE_MAX)

    @rx.event
    def set_description(self, value: str):
        self.description = bounded_text(value, MESSAGE_MAX)

    @rx.event
    def set_start_local(self, value: str):
        self.start_local = bounded_text(value, 32)

    @rx.event
    def set_end_local(self, value: str):
        self.end_local = bounded_text(value, 32)

    @rx.event
    def set_time_zone(self, value: str):
        self.time_zone = bounded_text(value, 64)

    @rx.event
    def set_remind(self, value: str):
        self.remind = bounded_text(value, 8)

    @rx.event
    def set_notify_on_create(self, value: bool):
        self.notify_on_create = value is True

    @rx.event
    def set_recurrence(self, value: str):
        if value in RECURRENCES:
            self.recurrence = value

    @rx.event
    def set_custom_rrule(self, value: str):
        self.custom_rrule = bounded_text(value, RRULE_MAX)

    @rx.event
    def toggle_service(self, service_id: str, on: bool):
        self.chosen = toggled(self.chosen, self.services, service_id, on)

    @rx.event
    def use_template(self, name: str):
        """Prefill title, description and the window's length from a built-in template."""
        tpl = template_named(name)
        if tpl is None:
            return
        self.template = name
        self.title, self.description = tpl.title, tpl.description
        if not self.start_local:
            self.start_local = next_hour_local(self.time_zone or "UTC")
        self.end_local = plus_minutes(self.start_local, tpl.minutes)

    def _reset_form(self) -> None:
        self.title = self.description = self.start_local = self.end_local = self.custom_rrule = self.template = ""
        self.remind, self.notify_on_create, self.recurrence, self.chosen = DEFAULT_REMIND, True, "none", []

    @rx.event
    async def create(self):
        out = await self._call(
            create_from_form, done="Maintenance scheduled.",
            title=self.title, description=self.description, services=list(self.chosen),
            start_local=self.start_local, end_local=self.end_local, time_zone=self.time_zone,
            remind=self.remind.strip() or None, notify_on_create=self.notify_on_create,
            recurrence=self.recurrence, custom_rrule=self.custom_rrule,
        )
        if not out.ok:
            return out.event
        kind, ident = out.value
        self._reset_form()
        if kind == "maintenance":
            return rx.redirect(routes.admin_maintenance_path(ident))
        self.notice = "Recurring maintenance scheduled: its next occurrences are listed below."
        return None


def create_form() -> rx.Component:
    s = MaintenanceAdmin
    zone_note = rx.text("Times are in ", rx.el.strong(s.time_zone), " (the zone below).", size="1",
                        color_scheme="gray")
    return card(
        rx.vstack(
            rx.heading("Schedule maintenance", size="4", as_="h2"),
            field("Start from a template", select_of(TEMPLATE_NAMES, s.template, s.use_template,
                                                     label="Start from a template", id="maintenance-template"),
                  "template", hint="Fills in the title, the description and the window's length."),
            field("Title", rx.input(value=s.title, on_change=s.set_title, id="maintenance-title", width="100%",
                                    max_length=TITLE_MAX), "title"),
            field("Description", rx.text_area(value=s.description, on_change=s.set_description, rows="4",
                                              width="100%", id="maintenance-description", max_length=MESSAGE_MAX),
                  "description", hint="Markdown: **bold**, _emphasis_, lists, `code`, [links](https://example.com)."),
            markdown_preview(s.description_preview),
            service_checkboxes("Affected services", s.chosen, s.toggle_service, "maintenance-service-", "services"),
            zone_note,
            rx.hstack(
                field("Start", rx.input(type="datetime-local", value=s.start_local, on_change=s.set_start_local,
                                        id="maintenance-start", width="100%"), "scheduled_for"),
                field("End", rx.input(type="datetime-local", value=s.end_local, on_change=s.set_end_local,
                                      id="maintenance-end", width="100%"), "scheduled_until"),
                width="100%",
            ),
            field("Time zone", zone_input(s.time_zone, s.set_time_zone, "maintenance-zone"), "time_zone",
                  hint="An IANA name, e.g. Europe/Berlin. Defaults to your first status page's zone."),
            zone_datalist(),
            field("Reminder (minutes before the start)",
                  rx.input(type="number", value=s.remind, on_change=s.set_remind, id="maintenance-remind",
                           min="1", width="10em"),
                  "remind_minutes_before", hint="Subscribers get a reminder this long before. Empty: no reminder."),
            field("Repeats",
                  rx.select.root(
                      rx.select.trigger(aria_label="Repeats", id="maintenance-recurrence"),
                      rx.select.content(
                          rx.select.item(RECURRENCES["none"], value="none"),
                          rx.select.item(RECURRENCES["daily"], value="daily"),
                          rx.select.item(s.weekly_label, value="weekly"),
                          rx.select.item(RECURRENCES["custom"], value="custom"),
                      ),
                      value=s.recurrence,
                      on_change=s.set_recurrence,
                  ),
                  "recurrence"),
            rx.cond(
                s.recurrence == "custom",
                field("Rule (RFC 5545 RRULE)", rx.input(value=s.custom_rrule, on_change=s.set_custom_rrule,
                                                        id="maintenance-rrule", width="100%", max_length=RRULE_MAX,
                                                        placeholder="FREQ=MONTHLY;BYDAY=1SU"),
                      "rrule", hint="Each occurrence starts at the start's time of day in the zone above and lasts "
                                    "as long as this window."),
                rx.cond(AdminState.errors.contains("rrule"),
                        rx.text(AdminState.errors["rrule"], color="var(--red-11)", size="1", role="alert",
                                class_name="field-error", data_field="rrule")),
            ),
            rx.cond(
                s.recurrence == "none",
                rx.checkbox("Notify subscribers now that it is scheduled", checked=s.notify_on_create,
                            on_change=s.set_notify_on_create, id="maintenance-notify"),
                rx.text("Occurrences of a series are announced by their reminders.", size="1", color_scheme="gray"),
            ),
            rx.button("Schedule maintenance", on_click=s.create, id="create-maintenance"),
            spacing="3",
            width="100%",
        )
    )


def calendar_view() -> rx.Component:
    s = MaintenanceAdmin
    cell_style = {"vertical_align": "top", "padding": "0.35em", "border": "1px solid var(--gray-5)",
                  "width": "14.28%", "min_width": "6em"}
    return card(
        rx.vstack(
            rx.heading("Next four weeks", size="4", as_="h2"),
            rx.box(
                rx.el.table(
                    rx.el.caption("Maintenance windows by day, times in ", s.time_zone,
                                  style={"text_align": "left", "font_size": "0.85em", "padding_bottom": "0.4em"}),
                    rx.el.thead(rx.el.tr(*[rx.el.th(d[:3], scope="col", abbr=d, style={"text_align": "left"})
                                           for d in WEEKDAY_NAMES])),
                    rx.el.tbody(rx.foreach(
                        s.calendar,
                        lambda week: rx.el.tr(rx.foreach(
                            week.days,
                            lambda day: rx.el.td(
                                rx.text(day.label, size="1", weight=rx.cond(day.today, "bold", "regular"),
                                        color_scheme="gray"),
                                rx.cond(day.today, rx.text("Today", size="1", weight="bold")),
                                rx.foreach(day.windows, lambda it: rx.box(
                                    rx.link(it.title, href=routes.admin_maintenance_path(it.id), size="1",
                                            weight="medium"),
                                    rx.text(it.time, " · ", it.status_label, size="1"),
                                    padding_top="0.25em",
                                    class_name="calendar-item",
                                )),
                                style=cell_style,
                                data_date=day.date,
                            ),
                        )),
                    )),
                    style={"border_collapse": "collapse", "width": "100%", "table_layout": "fixed"},
                    id="maintenance-calendar",
                ),
                overflow_x="auto",
                width="100%",
            ),
            width="100%",
        )
    )


def window_text(m) -> rx.Component:
    return rx.text(time_text(m.scheduled_for, "UTC"), " – ", time_text(m.scheduled_until, "UTC"), size="2")


def maintenance_table(rows) -> rx.Component:
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                       ("Title", "Status", "Window (your time zone)", "Services")])),
        rx.table.body(rx.foreach(rows, lambda m: rx.table.row(
            rx.table.cell(rx.link(m.title, href=routes.admin_maintenance_path(m.id)),
                          rx.cond(m.recurring, rx.text(" (recurring)", as_="span", size="1", color_scheme="gray"))),
            rx.table.cell(m.status_label),
            rx.table.cell(window_text(m)),
            rx.table.cell(rx.cond(m.affected != "", m.affected, "All pages")),
            class_name="maintenance-row",
            data_status=m.status,
        ))),
        width="100%",
    )


def section(title: str, rows, section_id: str, empty: str) -> rx.Component:
    return rx.el.section(
        rx.vstack(
            rx.heading(title, size="4", as_="h2"),
            rx.cond(rows.length() > 0, maintenance_table(rows), rx.text(empty, size="2", color_scheme="gray")),
            width="100%",
        ),
        id=section_id,
        style={"width": "100%"},
    )


def maintenance_page() -> rx.Component:
    s = MaintenanceAdmin
    return console(
        "Maintenance",
        create_form(),
        calendar_view(),
        rx.cond(
            AdminState.maintenances.length() > 0,
            rx.fragment(
                section("In progress", s.in_progress, "maintenance-in-progress", "Nothing in progress."),
                section("Upcoming", s.upcoming_list, "maintenance-upcoming", "Nothing scheduled."),
                section("Past", s.past, "maintenance-past", "No past maintenance yet."),
            ),
            empty_state("No maintenance yet.", "Schedule a window above: pages show it as upcoming at once."),
        ),
    )
