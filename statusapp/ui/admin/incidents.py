"""Declare incidents, post updates (one click with a template per status), resolve, edit,
postmortem, delete with confirmation."""

from __future__ import annotations

import reflex as rx

from statusapp.domain import incidents as ops
from statusapp.enums import IncidentImpact, IncidentStatus, ServiceStatus
from statusapp.queries import AdminIncident
from statusapp.ui import routes
from statusapp.ui.admin.layout import console, field
from statusapp.ui.admin.state import AdminState
from statusapp.ui.components import card, confirm_button

TEMPLATES = {
    "investigating": "We are investigating reports of problems. More details to follow.",
    "identified": "The cause has been identified and a fix is being implemented.",
    "monitoring": "A fix has been implemented and we are monitoring the results.",
    "resolved": "This incident has been resolved. Thank you for your patience.",
}
NOT_AFFECTED = "not_affected"
SERVICE_CHOICES = [NOT_AFFECTED] + [s.value for s in ServiceStatus]
INCIDENT_STATUSES = [s.value for s in IncidentStatus if s != IncidentStatus.postmortem]
IMPACTS = [i.value for i in IncidentImpact]


def _service_map(choices: dict[str, str]) -> dict[int, str]:
    return {int(k): v for k, v in choices.items() if v and v != NOT_AFFECTED}


class IncidentsAdmin(AdminState):
    title: str = ""
    impact: str = "minor"
    status: str = "investigating"
    message: str = TEMPLATES["investigating"]
    notify: bool = True
    # service id (str) -> status this incident imposes, or "not_affected"
    choices: dict[str, str] = {}

    @rx.event
    def set_title(self, value: str):
        self.title = value

    @rx.event
    def set_impact(self, value: str):
        self.impact = value

    @rx.event
    def set_message(self, value: str):
        self.message = value

    @rx.event
    def set_notify(self, value: bool):
        self.notify = bool(value)

    @rx.event
    def pick_status(self, value: str):
        if self.message.strip() in ("", *TEMPLATES.values()):
            self.message = TEMPLATES.get(value, "")
        self.status = value

    @rx.event
    def choose(self, service_id: str, value: str):
        self.choices = {**self.choices, str(service_id): value}

    @rx.event
    async def declare(self):
        out = await self._call(
            ops.create_incident,
            title=self.title,
            impact=self.impact,
            status=self.status,
            message=self.message,
            services=_service_map(self.choices),
            deliver_notifications=self.notify,
        )
        if out.ok:
            self.title, self.choices = "", {}
            self.status, self.message = "investigating", TEMPLATES["investigating"]
            return rx.redirect(f"/admin/incidents/{out.value.id}")
        return out.event


class IncidentDetailAdmin(AdminState):
    update_status: str = "identified"
    update_message: str = TEMPLATES["identified"]
    update_notify: bool = True
    update_choices: dict[str, str] = {}
    edit_title: str = ""
    edit_impact: str = ""
    postmortem: str = ""
    confirm_delete: bool = False

    @rx.var
    def incident_id(self) -> int:
        raw = routes.path_segment(self.router.url.path, 2)
        return int(raw) if str(raw).isdigit() else 0

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
        nxt = {"investigating": "identified", "identified": "monitoring", "monitoring": "resolved"}.get(inc.status, "resolved")
        self.update_status, self.update_message = nxt, TEMPLATES[nxt]
        self.confirm_delete = False

    @rx.event
    def pick_update_status(self, value: str):
        if self.update_message.strip() in ("", *TEMPLATES.values()):
            self.update_message = TEMPLATES.get(value, "")
        self.update_status = value

    @rx.event
    def set_update_message(self, value: str):
        self.update_message = value

    @rx.event
    def set_update_notify(self, value: bool):
        self.update_notify = bool(value)

    @rx.event
    def choose(self, service_id: str, value: str):
        self.update_choices = {**self.update_choices, str(service_id): value}

    @rx.event
    def set_edit_title(self, value: str):
        self.edit_title = value

    @rx.event
    def set_edit_impact(self, value: str):
        self.edit_impact = value

    @rx.event
    def set_postmortem(self, value: str):
        self.postmortem = value

    @rx.event
    def ask_delete(self, value: bool):
        self.confirm_delete = bool(value)

    @rx.event
    async def post(self):
        before = {s["service_id"]: s["status"] for s in self.incident.services}
        changed = {k: v for k, v in self.update_choices.items() if before.get(k, NOT_AFFECTED) != v and v != NOT_AFFECTED}
        out = await self._call(
            ops.post_update,
            incident_id=self.incident_id,
            status=self.update_status,
            message=self.update_message,
            services=_service_map(changed) or None,
            deliver_notifications=self.update_notify,
        )
        if out.ok:
            self.notice = "Update posted."
            await self.open_incident()
            self.notice = "Update posted."
        return out.event

    @rx.event
    async def resolve(self):
        out = await self._call(ops.resolve_incident, incident_id=self.incident_id, message=TEMPLATES["resolved"])
        if out.ok:
            await self.open_incident()
            self.notice = "Incident resolved."
        return out.event

    @rx.event
    async def save_details(self):
        out = await self._call(
            ops.edit_incident, incident_id=self.incident_id, title=self.edit_title, impact=self.edit_impact
        )
        if out.ok:
            self.notice = "Incident saved."
        return out.event

    @rx.event
    async def publish_postmortem(self):
        out = await self._call(ops.write_postmortem, incident_id=self.incident_id, text=self.postmortem)
        if out.ok:
            self.notice = "Postmortem published."
        return out.event

    @rx.event
    async def delete(self):
        out = await self._call(ops.delete_incident, incident_id=self.incident_id)
        if out.ok:
            return rx.redirect(routes.ADMIN_INCIDENTS)
        return out.event


def select_of(options: list[str], value, on_change, **props) -> rx.Component:
    return rx.select(options, value=value, on_change=on_change, **props)


def service_chooser(state, choices_var) -> rx.Component:
    return rx.vstack(
        rx.foreach(
            AdminState.services,
            lambda svc: rx.hstack(
                rx.text(svc.name, min_width="12em"),
                rx.select(
                    SERVICE_CHOICES,
                    value=choices_var.get(svc.id.to_string(), NOT_AFFECTED),
                    on_change=lambda v: state.choose(svc.id.to_string(), v),
                    size="1",
                    aria_label="Status for " + svc.name,
                ),
                align="center",
                class_name="service-choice",
            ),
        ),
        spacing="1",
    )


def incident_row(inc) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(inc.title, href="/admin/incidents/" + inc.id.to_string())),
        rx.table.cell(inc.status_label),
        rx.table.cell(rx.badge(inc.impact_label)),
        rx.table.cell(inc.affected),
        rx.table.cell(inc.started),
    )


def incident_table(rows) -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                *[rx.table.column_header_cell(h) for h in ("Title", "Status", "Impact", "Affected", "Started")]
            )
        ),
        rx.table.body(rx.foreach(rows, incident_row)),
        width="100%",
    )


def declare_form() -> rx.Component:
    s = IncidentsAdmin
    return card(
        rx.vstack(
            rx.heading("Declare an incident", size="4"),
            field("Title", rx.input(value=s.title, on_change=s.set_title, id="incident-title", width="100%"), "title"),
            rx.hstack(
                field("Impact", select_of(IMPACTS, s.impact, s.set_impact, id="incident-impact"), "impact"),
                field("Status", select_of(INCIDENT_STATUSES[:-1], s.status, s.pick_status), "status"),
                width="100%",
            ),
            field("Affected services", service_chooser(s, s.choices), "services"),
            field("First message", rx.text_area(value=s.message, on_change=s.set_message, id="incident-message",
                                                width="100%", rows="4"), "message"),
            rx.checkbox("Notify subscribers", checked=s.notify, on_change=s.set_notify),
            rx.button("Declare incident", on_click=s.declare, id="declare-incident", color_scheme="red"),
            spacing="3",
            width="100%",
        )
    )


def incidents_page() -> rx.Component:
    return console(
        "Incidents",
        declare_form(),
        rx.heading("All incidents", size="4"),
        incident_table(AdminState.incidents),
    )


def detail_page() -> rx.Component:
    s = IncidentDetailAdmin
    inc = s.incident
    return console(
        "Incident",
        rx.cond(
            inc.id == 0,
            rx.text("No such incident."),
            rx.vstack(
                card(
                    rx.vstack(
                        rx.heading(inc.title, size="5", id="incident-heading"),
                        rx.hstack(rx.badge(inc.status_label), rx.badge(inc.impact_label + " impact"), spacing="2"),
                        rx.foreach(
                            inc.services,
                            lambda row: rx.text(row["name"], ": ", row["status"], size="2"),
                        ),
                        spacing="2",
                    )
                ),
                card(
                    rx.vstack(
                        rx.heading("Post an update", size="4"),
                        rx.hstack(
                            *[
                                rx.button(
                                    v.capitalize(),
                                    variant=rx.cond(s.update_status == v, "solid", "outline"),
                                    size="1",
                                    on_click=s.pick_update_status(v),
                                    class_name="status-choice",
                                )
                                for v in INCIDENT_STATUSES
                            ],
                            wrap="wrap",
                        ),
                        field("Message", rx.text_area(value=s.update_message, on_change=s.set_update_message,
                                                      width="100%", rows="4", id="update-message"), "message"),
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
                ),
                card(
                    rx.vstack(
                        rx.heading("Timeline", size="4"),
                        rx.foreach(
                            inc.updates,
                            lambda u: rx.box(
                                rx.text(rx.text.strong(u.status_label), " — ", rx.text.span(u.message, white_space="pre-wrap")),
                                rx.text(u.at, size="1", color_scheme="gray"),
                            ),
                        ),
                        spacing="2",
                    )
                ),
                card(
                    rx.vstack(
                        rx.heading("Details", size="4"),
                        field("Title", rx.input(value=s.edit_title, on_change=s.set_edit_title, width="100%"), "title"),
                        field("Impact", select_of(IMPACTS, s.edit_impact, s.set_edit_impact), "impact"),
                        rx.button("Save details", on_click=s.save_details, variant="soft"),
                        width="100%",
                    )
                ),
                card(
                    rx.vstack(
                        rx.heading("Postmortem", size="4"),
                        field("Postmortem", rx.text_area(value=s.postmortem, on_change=s.set_postmortem, rows="6",
                                                         width="100%"), "postmortem",
                              hint="Published on the incident's public page once the incident is resolved."),
                        rx.button("Publish postmortem", on_click=s.publish_postmortem, variant="soft"),
                        width="100%",
                    )
                ),
                confirm_button(
                    "Delete incident",
                    "Delete this incident?",
                    "It disappears from every status page and its impact is withdrawn. This cannot be undone.",
                    s.delete,
                    variant="outline",
                ),
                spacing="4",
                width="100%",
            ),
        ),
    )


