"""Dashboard: every service and its status at a glance, open incidents, declare button."""

from __future__ import annotations

import reflex as rx

from statusapp.domain import services as service_ops
from statusapp.domain.validation import bounded_text, parse_id
from statusapp.enums import ServiceStatus
from statusapp import routes
from statusapp.ui.admin.layout import console
from statusapp.ui.admin.state import AdminState
from statusapp.ui.admin.widgets import incident_table, select_of
from statusapp.ui.components import DANGER_BUTTON, card, status_badge

STATUSES = [s.value for s in ServiceStatus]


class DashboardAdmin(AdminState):
    @rx.event
    async def set_manual_status(self, service_id: int, status: str):
        out = await self._call(service_ops.set_manual_status, service_id=parse_id(service_id),
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
        card(
            rx.heading("Open incidents", size="4"),
            incident_table(AdminState.open_incidents),
        ),
        card(
            rx.heading("Services", size="4"),
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
    )
