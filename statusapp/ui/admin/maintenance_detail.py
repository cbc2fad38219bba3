"""One maintenance window in the console: its timeline, an update, the lifecycle buttons (start,
verifying, complete, extend, cancel with confirmation), and edits: of this window, or, for an
occurrence of a series, of the whole series."""

from __future__ import annotations

import reflex as rx

from statusapp import routes
from statusapp.domain import maintenance as ops
from statusapp.domain.recurrence import RRULE_MAX
from statusapp.domain.validation import MESSAGE_MAX, TITLE_MAX, bounded_text, parse_id
from statusapp.markdown import render_markdown
from statusapp.queries.admin import AdminMaintenance
from statusapp.ui.admin.layout import console, field
from statusapp.ui.admin.maintenance_form import (
    edit_from_form,
    edit_series_from_form,
    extend_from_form,
    service_checkboxes,
    to_local_input,
    toggled,
    zone_datalist,
    zone_input,
)
from statusapp.ui.admin.state import AdminState
from statusapp.ui.admin.widgets import markdown_preview
from statusapp.ui.components import card, confirm_button, markdown_html
from statusapp.ui.format import time_text


class MaintenanceDetailAdmin(AdminState):
    update_message: str = ""
    update_notify: bool = True
    time_zone: str = "UTC"
    edit_title: str = ""
    edit_description: str = ""
    edit_start: str = ""
    edit_end: str = ""
    edit_remind: str = ""
    edit_chosen: list[str] = []
    extend_end: str = ""
    edit_scope: str = "occurrence"  # occurrence | series (for an occurrence of a series)
    series_title: str = ""
    series_description: str = ""
    series_rrule: str = ""
    series_chosen: list[str] = []
    _start_before: str = ""
    _end_before: str = ""

    @rx.var
    def maintenance_id(self) -> int:
        return parse_id(routes.admin_maintenance_id(self.router.url.path)) or 0

    @rx.var
    def maintenance(self) -> AdminMaintenance:
        for m in self.maintenances:
            if m.id == self.maintenance_id:
                return m
        return AdminMaintenance()

    @rx.var
    def update_preview(self) -> str:
        return render_markdown(self.update_message)

    @rx.var
    def description_preview(self) -> str:
        return render_markdown(self.edit_description)

    def _fill(self) -> None:
        m = self.maintenance
        self.time_zone = m.series_time_zone or (self.pages[0].time_zone if self.pages else "UTC")
        self.edit_title, self.edit_description = m.title, m.description
        self.edit_start = self._start_before = to_local_input(m.scheduled_for, self.time_zone)
        self.edit_end = self._end_before = to_local_input(m.scheduled_until, self.time_zone)
        self.extend_end = self.edit_end
        self.edit_remind = str(m.remind_minutes_before) if m.remind_minutes_before else ""
        self.edit_chosen = list(m.service_ids)
        self.series_title, self.series_description, self.series_rrule = m.title, m.description, m.series_rrule
        self.series_chosen = list(m.service_ids)
        self.update_message, self.update_notify = "", True

    @rx.event
    async def open_maintenance(self):
        await self.open_console()
        self.edit_scope = "occurrence"
        self._fill()

    @rx.event
    def set_update_message(self, value: str):
        self.update_message = bounded_text(value, MESSAGE_MAX)

    @rx.event
    def set_update_notify(self, value: bool):
        self.update_notify = value is True

    @rx.event
    def set_edit_title(self, value: str):
        self.edit_title = bounded_text(value, TITLE_MAX)

    @rx.event
    def set_edit_description(self, value: str):
        self.edit_description = bounded_text(value, MESSAGE_MAX)

    @rx.event
    def set_edit_start(self, value: str):
        self.edit_start = bounded_text(value, 32)

    @rx.event
    def set_edit_end(self, value: str):
        self.edit_end = bounded_text(value, 32)

    @rx.event
    def set_edit_remind(self, value: str):
        self.edit_remind = bounded_text(value, 8)

    @rx.event
    def set_time_zone(self, value: str):
        self.time_zone = bounded_text(value, 64)

    @rx.event
    def set_extend_end(self, value: str):
        self.extend_end = bounded_text(value, 32)

    @rx.event
    def set_edit_scope(self, value: str):
        if value in ("occurrence", "series"):
            self.edit_scope = value

    @rx.event
    def toggle_service(self, service_id: str, on: bool):
        self.edit_chosen = toggled(self.edit_chosen, self.services, service_id, on)

    @rx.event
    def toggle_series_service(self, service_id: str, on: bool):
        self.series_chosen = toggled(self.series_chosen, self.services, service_id, on)

    @rx.event
    def set_series_title(self, value: str):
        self.series_title = bounded_text(value, TITLE_MAX)

    @rx.event
    def set_series_description(self, value: str):
        self.series_description = bounded_text(value, MESSAGE_MAX)

    @rx.event
    def set_series_rrule(self, value: str):
        self.series_rrule = bounded_text(value, RRULE_MAX)

    async def _then_refill(self, out):
        if out.ok:
            self._fill()
        return out.event

    @rx.event
    async def post(self):
        return await self._then_refill(await self._call(
            ops.post_maintenance_update, done="Update posted.", maintenance_id=self.maintenance_id,
            message=self.update_message, deliver_notifications=self.update_notify,
        ))

    @rx.event
    async def start(self):
        return await self._then_refill(await self._call(
            ops.start_maintenance, done="Maintenance started.", maintenance_id=self.maintenance_id))

    @rx.event
    async def verify(self):
        return await self._then_refill(await self._call(
            ops.verify_maintenance, done="Marked as verifying.", maintenance_id=self.maintenance_id))

    @rx.event
    async def complete(self):
        return await self._then_refill(await self._call(
            ops.complete_maintenance, done="Maintenance completed.", maintenance_id=self.maintenance_id))

    @rx.event
    async def cancel(self):
        return await self._then_refill(await self._call(
            ops.cancel_maintenance, done="Maintenance cancelled.", maintenance_id=self.maintenance_id))

    @rx.event
    async def extend(self):
        return await self._then_refill(await self._call(
            extend_from_form, done="New end saved.", maintenance_id=self.maintenance_id,
            end_local=self.extend_end, time_zone=self.time_zone))

    @rx.event
    async def save(self):
        return await self._then_refill(await self._call(
            edit_from_form, done="Maintenance saved.", maintenance_id=self.maintenance_id,
            title=self.edit_title, description=self.edit_description, services=list(self.edit_chosen),
            start_local=self.edit_start, end_local=self.edit_end, start_before=self._start_before,
            end_before=self._end_before, time_zone=self.time_zone, remind=self.edit_remind.strip() or None,
        ))

    @rx.event
    async def save_series(self):
        return await self._then_refill(await self._call(
            edit_series_from_form, done="Series saved: its future occurrences follow.",
            series_id=self.maintenance.series_id, title=self.series_title, description=self.series_description,
            services=list(self.series_chosen), rrule=self.series_rrule,
        ))

    @rx.event
    async def cancel_series(self):
        out = await self._call(ops.cancel_series, done="Series cancelled.", series_id=self.maintenance.series_id)
        return await self._then_refill(out)

    @rx.event
    async def delete(self):
        out = await self._call(ops.delete_maintenance, done="Maintenance deleted.", maintenance_id=self.maintenance_id)
        if out.ok:
            return rx.redirect(routes.ADMIN_MAINTENANCE_LIST)
        return out.event


def summary_card(m) -> rx.Component:
    s = MaintenanceDetailAdmin
    return card(
        rx.vstack(
            rx.heading(m.title, size="5", as_="h2", id="maintenance-heading"),
            rx.hstack(rx.text("Status:", size="2"), rx.badge(m.status_label, high_contrast=True, id="maintenance-status"),
                      rx.cond(m.recurring, rx.badge("Occurrence of a recurring series", variant="outline")),
                      rx.cond(m.detached, rx.badge("Edited on its own", variant="outline")),
                      spacing="2", align="center", wrap="wrap"),
            rx.text("Window (your time zone): ", time_text(m.scheduled_for, "UTC"), " – ",
                    time_text(m.scheduled_until, "UTC"), size="2"),
            rx.text("Affected: ", rx.cond(m.affected != "", m.affected, "no particular service (shown on every page)"),
                    size="2"),
            rx.cond(m.series_rrule != "", rx.text("Repeats: ", rx.code(m.series_rrule), " in ", m.series_time_zone,
                                                  size="2")),
            rx.cond(m.description_html != "", markdown_html(m.description_html)),
            rx.hstack(
                rx.cond(m.upcoming, rx.button("Start now", on_click=s.start, id="maintenance-start-now")),
                rx.cond(m.status == "in_progress",
                        rx.button("Mark verifying", on_click=s.verify, variant="soft", id="maintenance-verify")),
                rx.cond(m.active, rx.button("Complete now", on_click=s.complete, color_scheme="green",
                                            variant="soft", id="maintenance-complete")),
                rx.cond(m.upcoming, confirm_button(
                    "Cancel maintenance", "Cancel this maintenance?",
                    "It is withdrawn from the status pages' upcoming maintenance. Subscribers are not notified.",
                    s.cancel, variant="outline")),
                wrap="wrap",
                spacing="2",
            ),
            spacing="2",
            width="100%",
        )
    )


def update_card() -> rx.Component:
    s = MaintenanceDetailAdmin
    return card(
        rx.vstack(
            rx.heading("Post an update", size="4", as_="h2"),
            field("Message", rx.text_area(value=s.update_message, on_change=s.set_update_message, rows="3",
                                          width="100%", id="maintenance-update-message", max_length=MESSAGE_MAX),
                  "message", hint="Markdown. The status stays as it is: use the buttons above to move it on."),
            markdown_preview(s.update_preview),
            rx.checkbox("Notify subscribers", checked=s.update_notify, on_change=s.set_update_notify),
            rx.button("Post update", on_click=s.post, id="maintenance-post-update"),
            spacing="3",
            width="100%",
        )
    )


def timeline_card(m) -> rx.Component:
    return card(
        rx.vstack(
            rx.heading("Timeline", size="4", as_="h2"),
            rx.foreach(
                m.updates,
                lambda u: rx.box(
                    rx.box(rx.text.strong(u.status_label), " — ", markdown_html(u.message_html, display="inline")),
                    rx.text(time_text(u.at_iso, "UTC"), size="1", color_scheme="gray"),
                    class_name="maintenance-update",
                ),
            ),
            spacing="2",
            width="100%",
        )
    )


def extend_card() -> rx.Component:
    s = MaintenanceDetailAdmin
    return card(
        rx.vstack(
            rx.heading("Extend", size="4", as_="h2"),
            rx.text("In ", rx.el.strong(s.time_zone), " (the zone of the edit form below).", size="1",
                    color_scheme="gray"),
            field("New end",
                  rx.input(type="datetime-local", value=s.extend_end, on_change=s.set_extend_end,
                           id="maintenance-extend-end"), "extend_until"),
            rx.button("Save new end", on_click=s.extend, variant="soft", id="maintenance-extend"),
            spacing="2",
            width="100%",
        )
    )


def occurrence_form() -> rx.Component:
    s = MaintenanceDetailAdmin
    return rx.vstack(
        field("Title", rx.input(value=s.edit_title, on_change=s.set_edit_title, width="100%", max_length=TITLE_MAX,
                                id="maintenance-edit-title"), "title"),
        field("Description", rx.text_area(value=s.edit_description, on_change=s.set_edit_description, rows="4",
                                          width="100%", max_length=MESSAGE_MAX), "description", hint="Markdown."),
        markdown_preview(s.description_preview),
        service_checkboxes("Affected services", s.edit_chosen, s.toggle_service, "maintenance-edit-service-",
                           "services"),
        rx.text("Times are in ", rx.el.strong(s.time_zone), ".", size="1", color_scheme="gray"),
        rx.hstack(
            field("Start", rx.input(type="datetime-local", value=s.edit_start, on_change=s.set_edit_start,
                                    width="100%", id="maintenance-edit-start"), "scheduled_for"),
            field("End", rx.input(type="datetime-local", value=s.edit_end, on_change=s.set_edit_end, width="100%",
                                  id="maintenance-edit-end"), "scheduled_until"),
            width="100%",
        ),
        field("Time zone", zone_input(s.time_zone, s.set_time_zone, "maintenance-edit-zone"), "time_zone",
              hint="An IANA name, e.g. Europe/Berlin: the zone of the times above."),
        field("Reminder (minutes before the start)",
              rx.input(type="number", value=s.edit_remind, on_change=s.set_edit_remind, min="1", width="10em"),
              "remind_minutes_before", hint="Empty: no reminder."),
        rx.button(rx.cond(s.maintenance.recurring, "Save this occurrence", "Save"), on_click=s.save, variant="soft",
                  id="maintenance-save"),
        spacing="3",
        width="100%",
    )


def series_form() -> rx.Component:
    s = MaintenanceDetailAdmin
    return rx.vstack(
        rx.text("Changes apply to the series' future occurrences that have not been edited on their own.",
                size="2"),
        field("Title", rx.input(value=s.series_title, on_change=s.set_series_title, width="100%",
                                max_length=TITLE_MAX), "series_title"),
        field("Description", rx.text_area(value=s.series_description, on_change=s.set_series_description, rows="4",
                                          width="100%", max_length=MESSAGE_MAX), "series_description"),
        service_checkboxes("Affected services", s.series_chosen, s.toggle_series_service,
                           "maintenance-series-service-", "series_services"),
        field("Rule (RFC 5545 RRULE)", rx.input(value=s.series_rrule, on_change=s.set_series_rrule, width="100%",
                                                max_length=RRULE_MAX), "rrule",
              hint="In the series' time zone; changing it regenerates future occurrences."),
        rx.hstack(
            rx.button("Save the series", on_click=s.save_series, variant="soft", id="maintenance-save-series"),
            confirm_button("Cancel the series", "Cancel the whole series?",
                           "No more occurrences are generated and its scheduled ones are cancelled. One in progress "
                           "runs to its end.", s.cancel_series, variant="outline"),
            spacing="2",
        ),
        spacing="3",
        width="100%",
    )


def edit_card(m) -> rx.Component:
    s = MaintenanceDetailAdmin
    return card(
        rx.vstack(
            rx.heading("Edit", size="4", as_="h2"),
            rx.cond(
                m.recurring & ~m.series_cancelled,
                rx.radio_group.root(
                    rx.hstack(
                        rx.el.label(rx.radio_group.item(value="occurrence"), rx.text("Edit this occurrence", size="2"),
                                    style={"display": "flex", "gap": "0.4em", "align_items": "center"}),
                        rx.el.label(rx.radio_group.item(value="series"), rx.text("Edit the series", size="2"),
                                    style={"display": "flex", "gap": "0.4em", "align_items": "center"}),
                        spacing="4",
                    ),
                    value=s.edit_scope,
                    on_change=s.set_edit_scope,
                    aria_label="What to edit",
                ),
            ),
            rx.cond(m.recurring & ~m.series_cancelled & (s.edit_scope == "series"), series_form(), occurrence_form()),
            spacing="3",
            width="100%",
        )
    )


def maintenance_detail_page() -> rx.Component:
    m = MaintenanceDetailAdmin.maintenance
    return console(
        "Maintenance",
        rx.link("← All maintenance", href=routes.ADMIN_MAINTENANCE_LIST),
        rx.cond(
            m.id == 0,
            rx.text("No such maintenance."),
            rx.vstack(
                summary_card(m),
                rx.cond(~m.closed, update_card()),
                timeline_card(m),
                rx.cond(m.active, extend_card()),
                rx.cond(~m.closed, edit_card(m)),
                zone_datalist(),
                confirm_button(
                    "Delete maintenance", "Delete this maintenance?",
                    "It disappears from every status page; a window in progress stops affecting its services. "
                    "This cannot be undone.",
                    MaintenanceDetailAdmin.delete, variant="outline",
                ),
                spacing="4",
                width="100%",
            ),
        ),
    )
