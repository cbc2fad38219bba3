"""Console pieces shared by several console pages: the incident table, the service chooser."""

from __future__ import annotations

import reflex as rx

from statusapp import routes
from statusapp.enums import ServiceStatus
from statusapp.ui.admin.state import AdminState
from statusapp.ui.components import markdown_html
from statusapp.ui.format import time_text

NOT_AFFECTED = "not_affected"
SERVICE_CHOICES = [NOT_AFFECTED] + [s.value for s in ServiceStatus]


def incident_row(inc) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(inc.title, href=routes.admin_incident_path(inc.id))),
        rx.table.cell(inc.status_label),
        rx.table.cell(rx.badge(inc.impact_label, high_contrast=True)),
        rx.table.cell(inc.affected),
        rx.table.cell(time_text(inc.started_at, "UTC")),
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


def service_chooser(state, choices_var) -> rx.Component:
    """One select per service: the status an incident imposes on it, or not affected."""
    return rx.vstack(
        rx.foreach(
            AdminState.services,
            lambda svc: rx.hstack(
                rx.text(svc.name, min_width="12em"),
                select_of(
                    SERVICE_CHOICES,
                    choices_var.get(svc.id.to_string(), NOT_AFFECTED),
                    lambda v: state.choose(svc.id.to_string(), v),
                    label="Status for " + svc.name,
                    size="1",
                ),
                align="center",
                class_name="service-choice",
            ),
        ),
        spacing="1",
    )


def choose_service_status(choices: dict[str, str], services, service_id, value) -> dict[str, str]:
    """`choices` with one service's pick; only the organization's services and known statuses
    count (anything else a client sends leaves the choices as they were)."""
    key = str(service_id) if isinstance(service_id, (str, int)) else ""
    if value not in SERVICE_CHOICES or key not in {str(s.id) for s in services}:
        return choices
    return {**choices, key: value}


def service_status_map(choices: dict[str, str]) -> dict[str, str]:
    """The chooser's {service id: status}, without the services marked not affected."""
    return {k: v for k, v in choices.items() if v and v != NOT_AFFECTED}


def select_of(options: list[str], value, on_change, *, label, id: str | None = None, size: str = "2") -> rx.Component:
    """A select whose button is named for screen readers (`label`): Radix's high-level select
    does not pass an aria-label to its trigger."""
    trigger_props = {"aria_label": label}
    if id:
        trigger_props["id"] = id
    return rx.select.root(
        rx.select.trigger(**trigger_props),
        rx.select.content(*[rx.select.item(o, value=o) for o in options]),
        value=value,
        on_change=on_change,
        size=size,
    )


def markdown_preview(html, **props) -> rx.Component:
    """What a Markdown message will look like on the page, under its text area."""
    return rx.cond(
        html != "",
        rx.box(
            rx.text("Preview", size="1", weight="medium", color_scheme="gray"),
            markdown_html(html),
            padding="0.5em 0.75em",
            border="1px dashed var(--gray-7)",
            border_radius="var(--radius-2)",
            width="100%",
            class_name="markdown-preview",
            **props,
        ),
    )


def empty_state(message: str, hint: str = "", action: rx.Component | None = None, **props) -> rx.Component:
    """What an empty list says instead of nothing: what it is and what to do next."""
    return rx.vstack(
        rx.text(message, weight="medium"),
        rx.cond(hint != "", rx.text(hint, size="2", color_scheme="gray")) if hint else rx.fragment(),
        action if action is not None else rx.fragment(),
        spacing="2",
        padding_y="0.75em",
        class_name="empty-state",
        **props,
    )


def link_button(label: str, href, **props) -> rx.Component:
    return rx.link(rx.button(label, **props), href=href)
