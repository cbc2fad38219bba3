"""Dashboard: every service and its status at a glance, open incidents, declare button."""

from __future__ import annotations

import reflex as rx

from statusapp import routes
from statusapp.domain import services as service_ops
from statusapp.domain.validation import bounded_text, parse_id
from statusapp.enums import ServiceStatus
from statusapp.ui.admin.layout import console
from statusapp.ui.admin.state import AdminState
from statusapp.ui.admin.widgets import empty_state, incident_table, link_button, select_of
from statusapp.ui.components import DANGER_BUTTON, card, status_badge

STATUSES = [s.value for s in ServiceStatus]


class DashboardAdmin(AdminState):
    @rx.event
    async def set_manual_status(self, service_id: int, status: str):
        out = await self._call(service_ops.set_manual_status, done="Manual status saved.", service_id=parse_id(service_id),
                               status=bounded_text(status, 40))
        # On success `result` is the Service row, which is not an event: return nothing then.
        return out.event


def service_line(svc) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(svc.name, weight="medium"), rx.text(svc.group_name, size="1", color_scheme="gray")),
        rx.table.cell(status_badge(svc.status_label, svc.status_color, svc.status_text_color)),
        rx.table.cell(
            select_of(
                STATUSES,
                svc.manual_status,
                lambda v: DashboardAdmin.set_manual_status(svc.id, v),
                label="Manual status of " + svc.name,
                size="1",
            )
        ),
    )


def first_run() -> rx.Component:
    """A fresh install without the demo: the three steps to a first status page."""
    return card(
        rx.heading("Get started", size="4", as_="h2"),
        rx.el.ol(
            rx.el.li(rx.link("Add your services", href=routes.ADMIN_SERVICES),
                     " — the parts of your product customers depend on."),
            rx.el.li(rx.link("Create a status page", href=routes.ADMIN_PAGES),
                     " and choose which services it shows."),
            rx.el.li("Open your page, share its address, and declare an incident when something breaks."),
            style={"padding_left": "1.25em", "line_height": "1.8"},
        ),
        id="first-run",
    )


def dashboard_page() -> rx.Component:
    return console(
        "Dashboard",
        rx.hstack(
            rx.link(rx.button("Declare an incident", id="declare-button", style=DANGER_BUTTON), href=routes.ADMIN_INCIDENTS),
            rx.foreach(AdminState.pages, lambda p: rx.link("View " + routes.page_path(p.slug),
                                                           href=routes.page_path(p.slug), is_external=True)),
            spacing="4",
            align="center",
            wrap="wrap",
        ),
        rx.cond((AdminState.services.length() == 0) & (AdminState.pages.length() == 0), first_run()),
        card(
            rx.heading("Open incidents", size="4", as_="h2"),
            rx.cond(
                AdminState.open_incidents.length() > 0,
                incident_table(AdminState.open_incidents),
                empty_state("No open incidents.", "When something breaks, declare an incident: every page showing "
                            "its services says so at once.",
                            link_button("Declare an incident", routes.ADMIN_INCIDENTS, variant="soft"),
                            id="no-open-incidents"),
            ),
        ),
        card(
            rx.heading("Services", size="4", as_="h2"),
            rx.cond(
                AdminState.services.length() > 0,
                rx.fragment(
                    rx.text("Shown status is the worst of the manual status and every open incident.", size="1",
                            color_scheme="gray"),
                    rx.table.root(
                        rx.table.header(rx.table.row(
                            rx.table.column_header_cell("Service"),
                            rx.table.column_header_cell("Shown status"),
                            rx.table.column_header_cell("Manual status"),
                        )),
                        rx.table.body(rx.foreach(AdminState.services, service_line)),
                        width="100%",
                    ),
                ),
                empty_state("No services yet.", "Services are the parts of your product customers depend on "
                            "(website, API, regions…).", link_button("Add services", routes.ADMIN_SERVICES,
                                                                   variant="soft")),
            ),
        ),
    )
