"""One incident in the console: post updates (one click with a template per status), resolve,
edit details, write the postmortem, delete with confirmation."""

from __future__ import annotations

import reflex as rx

from statusapp import routes
from statusapp.domain import incidents as ops
from statusapp.domain.validation import MESSAGE_MAX, POSTMORTEM_MAX, TITLE_MAX, bounded_text, parse_id
from statusapp.enums import IncidentStatus
from statusapp.markdown import render_markdown
from statusapp.queries.admin import AdminIncident
from statusapp.ui.admin.incidents import IMPACTS, TEMPLATES, keeps_template
from statusapp.ui.admin.layout import console, field
from statusapp.ui.admin.state import AdminState
from statusapp.ui.admin.widgets import (
    NOT_AFFECTED,
    choose_service_status,
    markdown_preview,
    select_of,
    service_chooser,
    service_status_map,
)
from statusapp.ui.components import card, confirm_button, markdown_html
from statusapp.ui.format import time_text

# An update can move the incident to any status but postmortem (published separately).
UPDATE_STATUSES = [s for s in IncidentStatus if s != IncidentStatus.postmortem]
UPDATE_STATUS_VALUES = [s.value for s in UPDATE_STATUSES]


class IncidentDetailAdmin(AdminState):
    update_status: str = IncidentStatus.identified.value
    update_message: str = IncidentStatus.identified.default_message
    update_notify: bool = True
    update_choices: dict[str, str] = {}
    edit_title: str = ""
    edit_impact: str = ""
    postmortem: str = ""
    confirm_delete: bool = False

    @rx.var
    def update_preview(self) -> str:
        return render_markdown(self.update_message)

    @rx.var
    def postmortem_preview(self) -> str:
        return render_markdown(self.postmortem)

    @rx.var
    def incident_id(self) -> int:
        return parse_id(routes.admin_incident_id(self.router.url.path)) or 0

    @rx.var
    def incident(self) -> AdminIncident:
        for inc in self.incidents:
            if inc.id == self.incident_id:
                return inc
        return AdminIncident()

    @rx.event
    async def open_incident(self):
        await self.open_console()
        inc = self.incident
        self.edit_title, self.edit_impact, self.postmortem = inc.title, inc.impact, inc.postmortem
        self.update_choices = {s["service_id"]: s["status"] for s in inc.services}
        nxt = IncidentStatus(inc.status).usual_next if inc.status else IncidentStatus.resolved
        self.update_status, self.update_message = nxt.value, nxt.default_message
        self.confirm_delete = False

    @rx.event
    def pick_update_status(self, value: str):
        if value not in UPDATE_STATUS_VALUES:
            return
        if keeps_template(self.update_message):
            self.update_message = TEMPLATES.get(value, "")
        self.update_status = value

    @rx.event
    def set_update_message(self, value: str):
        self.update_message = bounded_text(value, MESSAGE_MAX)

    @rx.event
    def set_update_notify(self, value: bool):
        self.update_notify = bool(value)

    @rx.event
    def choose(self, service_id: str, value: str):
        self.update_choices = choose_service_status(self.update_choices, self.services, service_id, value)

    @rx.event
    def set_edit_title(self, value: str):
        self.edit_title = bounded_text(value, TITLE_MAX)

    @rx.event
    def set_edit_impact(self, value: str):
        if value in IMPACTS:
            self.edit_impact = value

    @rx.event
    def set_postmortem(self, value: str):
        self.postmortem = bounded_text(value, POSTMORTEM_MAX)

    @rx.event
    def ask_delete(self, value: bool):
        self.confirm_delete = bool(value)

    @rx.event
    async def post(self):
        before = {s["service_id"]: s["status"] for s in self.incident.services}
        changed = {k: v for k, v in self.update_choices.items() if before.get(k, NOT_AFFECTED) != v}
        out = await self._call(
            ops.post_update, done="Update posted.",
            incident_id=self.incident_id,
            status=self.update_status,
            message=self.update_message,
            services=service_status_map(changed) or None,
            deliver_notifications=self.update_notify,
        )
        if out.ok:
            await self.open_incident()
            self.notice = "Update posted."
        return out.event

    @rx.event
    async def resolve(self):
        out = await self._call(
            ops.resolve_incident, done="Incident resolved.", incident_id=self.incident_id, message=IncidentStatus.resolved.default_message
        )
        if out.ok:
            await self.open_incident()
            self.notice = "Incident resolved."
        return out.event

    @rx.event
    async def save_details(self):
        out = await self._call(
            ops.edit_incident, done="Incident saved.", incident_id=self.incident_id, title=self.edit_title, impact=self.edit_impact
        )
        if out.ok:
            self.notice = "Incident saved."
        return out.event

    @rx.event
    async def publish_postmortem(self):
        out = await self._call(ops.write_postmortem, done="Postmortem published.", incident_id=self.incident_id, text=self.postmortem)
        if out.ok:
            self.notice = "Postmortem published."
        return out.event

    @rx.event
    async def delete(self):
        out = await self._call(ops.delete_incident, done="Incident deleted.", incident_id=self.incident_id)
        if out.ok:
            return rx.redirect(routes.ADMIN_INCIDENTS)
        return out.event


def summary_card(inc) -> rx.Component:
    return card(
        rx.vstack(
            rx.heading(inc.title, size="5", id="incident-heading"),
            rx.hstack(rx.badge(inc.status_label, high_contrast=True), rx.badge(inc.impact_label + " impact", high_contrast=True),
                      spacing="2"),
            rx.foreach(inc.services, lambda row: rx.text(row["name"], ": ", row["status"], size="2")),
            spacing="2",
        )
    )


def status_buttons() -> rx.Component:
    s = IncidentDetailAdmin
    return rx.hstack(
        *[
            rx.button(
                st.label,
                variant=rx.cond(s.update_status == st.value, "solid", "outline"),
                size="1",
                on_click=s.pick_update_status(st.value),
                class_name="status-choice",
            )
            for st in UPDATE_STATUSES
        ],
        wrap="wrap",
    )


def update_card(inc) -> rx.Component:
    s = IncidentDetailAdmin
    return card(
        rx.vstack(
            rx.heading("Post an update", size="4"),
            status_buttons(),
            field("Message", rx.text_area(value=s.update_message, on_change=s.set_update_message,
                                          width="100%", rows="4", id="update-message", max_length=MESSAGE_MAX),
                  "message", hint="Markdown: **bold**, _emphasis_, lists, `code`, [links](https://example.com)."),
            markdown_preview(s.update_preview),
            field("Service status", service_chooser(s, s.update_choices), "services"),
            rx.checkbox("Notify subscribers", checked=s.update_notify, on_change=s.set_update_notify),
            rx.hstack(
                rx.button("Post update", on_click=s.post, id="post-update"),
                rx.cond(inc.active, rx.button("Resolve now", on_click=s.resolve, color_scheme="green",
                                              variant="soft", id="resolve")),
            ),
            spacing="3",
            width="100%",
        )
    )


def timeline_card(inc) -> rx.Component:
    return card(
        rx.vstack(
            rx.heading("Timeline", size="4"),
            rx.foreach(
                inc.updates,
                lambda u: rx.box(
                    rx.box(rx.text.strong(u.status_label), " — ", markdown_html(u.message_html, display="inline")),
                    rx.text(time_text(u.at_iso, "UTC"), size="1", color_scheme="gray"),
                ),
            ),
            spacing="2",
        )
    )


def details_card() -> rx.Component:
    s = IncidentDetailAdmin
    return card(
        rx.vstack(
            rx.heading("Details", size="4"),
            field("Title", rx.input(value=s.edit_title, on_change=s.set_edit_title, width="100%",
                                    max_length=TITLE_MAX), "title"),
            field("Impact", select_of(IMPACTS, s.edit_impact, s.set_edit_impact, label="Impact"), "impact"),
            rx.button("Save details", on_click=s.save_details, variant="soft"),
            width="100%",
        )
    )


def postmortem_card() -> rx.Component:
    s = IncidentDetailAdmin
    return card(
        rx.vstack(
            rx.heading("Postmortem", size="4"),
            field("Postmortem", rx.text_area(value=s.postmortem, on_change=s.set_postmortem, rows="6",
                                             width="100%", max_length=POSTMORTEM_MAX), "postmortem",
                  hint="Markdown. Published on the incident's public page once the incident is resolved."),
            markdown_preview(s.postmortem_preview),
            rx.button("Publish postmortem", on_click=s.publish_postmortem, variant="soft"),
            width="100%",
        )
    )


def detail_page() -> rx.Component:
    inc = IncidentDetailAdmin.incident
    return console(
        "Incident",
        rx.cond(
            inc.id == 0,
            rx.text("No such incident."),
            rx.vstack(
                summary_card(inc),
                update_card(inc),
                timeline_card(inc),
                details_card(),
                postmortem_card(),
                confirm_button(
                    "Delete incident",
                    "Delete this incident?",
                    "It disappears from every status page and its impact is withdrawn. This cannot be undone.",
                    IncidentDetailAdmin.delete,
                    variant="outline",
                ),
                spacing="4",
                width="100%",
            ),
        ),
    )
