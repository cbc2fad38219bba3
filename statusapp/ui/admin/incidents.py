"""The incidents page: declare an incident (services, impact, first message) and list them all."""

from __future__ import annotations

import reflex as rx

from statusapp import routes
from statusapp.domain import incidents as ops
from statusapp.domain.validation import MESSAGE_MAX, TITLE_MAX, bounded_text
from statusapp.enums import IncidentImpact, IncidentStatus
from statusapp.markdown import render_markdown
from statusapp.ui.admin.layout import console, field
from statusapp.ui.admin.state import AdminState
from statusapp.ui.admin.widgets import (
    choose_service_status,
    empty_state,
    incident_table,
    markdown_preview,
    select_of,
    service_chooser,
    service_status_map,
)
from statusapp.ui.components import DANGER_BUTTON, card

IMPACTS = [i.value for i in IncidentImpact]
# An incident is declared in one of the active statuses.
DECLARE_STATUSES = IncidentStatus.active_values()
TEMPLATES = {s.value: s.default_message for s in IncidentStatus if s.default_message}
FIRST_STATUS = IncidentStatus.investigating


def keeps_template(message: str) -> bool:
    """True when the admin has not written their own text (empty or an untouched template)."""
    return message.strip() in ("", *TEMPLATES.values())


class IncidentsAdmin(AdminState):
    title: str = ""
    impact: str = IncidentImpact.minor.value
    status: str = FIRST_STATUS.value
    message: str = FIRST_STATUS.default_message
    notify: bool = True
    # service id (str) -> status this incident imposes, or "not_affected"
    choices: dict[str, str] = {}

    @rx.var
    def message_preview(self) -> str:
        return render_markdown(self.message)

    @rx.event
    def set_title(self, value: str):
        self.title = bounded_text(value, TITLE_MAX)

    @rx.event
    def set_impact(self, value: str):
        if value in IMPACTS:
            self.impact = value

    @rx.event
    def set_message(self, value: str):
        self.message = bounded_text(value, MESSAGE_MAX)

    @rx.event
    def set_notify(self, value: bool):
        self.notify = bool(value)

    @rx.event
    def pick_status(self, value: str):
        if value not in DECLARE_STATUSES:
            return
        if keeps_template(self.message):
            self.message = TEMPLATES.get(value, "")
        self.status = value

    @rx.event
    def choose(self, service_id: str, value: str):
        self.choices = choose_service_status(self.choices, self.services, service_id, value)

    @rx.event
    async def declare(self):
        out = await self._call(
            ops.create_incident, done="Incident declared.",
            title=self.title,
            impact=self.impact,
            status=self.status,
            message=self.message,
            services=service_status_map(self.choices),
            deliver_notifications=self.notify,
        )
        if out.ok:
            self.title, self.choices = "", {}
            self.status, self.message = FIRST_STATUS.value, FIRST_STATUS.default_message
            return rx.redirect(routes.admin_incident_path(out.value.id))
        return out.event


def declare_form() -> rx.Component:
    s = IncidentsAdmin
    return card(
        rx.vstack(
            rx.heading("Declare an incident", size="4"),
            field("Title", rx.input(value=s.title, on_change=s.set_title, id="incident-title", width="100%",
                                    max_length=TITLE_MAX), "title"),
            rx.hstack(
                field("Impact", select_of(IMPACTS, s.impact, s.set_impact, label="Impact", id="incident-impact"),
                      "impact"),
                field("Status", select_of(DECLARE_STATUSES, s.status, s.pick_status, label="Status"), "status"),
                width="100%",
            ),
            field("Affected services", service_chooser(s, s.choices), "services"),
            field("First message", rx.text_area(value=s.message, on_change=s.set_message, id="incident-message",
                                                width="100%", rows="4", max_length=MESSAGE_MAX), "message",
                  hint="Markdown: **bold**, _emphasis_, lists, `code`, [links](https://example.com)."),
            markdown_preview(s.message_preview),
            rx.checkbox("Notify subscribers", checked=s.notify, on_change=s.set_notify),
            rx.button("Declare incident", on_click=s.declare, id="declare-incident", style=DANGER_BUTTON),
            spacing="3",
            width="100%",
        )
    )


def incidents_page() -> rx.Component:
    return console(
        "Incidents",
        declare_form(),
        rx.heading("All incidents", size="4", as_="h2"),
        rx.cond(
            AdminState.incidents.length() > 0,
            incident_table(AdminState.incidents),
            empty_state("No incidents yet.", "When something breaks, declare one above: pages update at once."),
        ),
    )
