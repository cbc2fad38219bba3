"""The delivery log: every event that notified someone, and per event each delivery's state
(sent, waiting, retrying, failed and why)."""

from __future__ import annotations

import reflex as rx

from statusapp.domain import Actor
from statusapp.domain.validation import parse_id
from statusapp.enums import DeliveryStatus
from statusapp.queries import notifications as reads
from statusapp.ui.admin.layout import console
from statusapp.ui.admin.state import AdminState
from statusapp.ui.components import card
from statusapp.ui.format import time_text

ANY = "any"
STATUS_FILTERS = [ANY] + [s.value for s in DeliveryStatus]


def _log(*, actor: Actor) -> list[reads.EventLogRow]:
    return reads.delivery_log(actor.organization_id)


def _rows(*, actor: Actor, event_id: int, status: str) -> list[reads.DeliveryRow]:
    return reads.event_deliveries(actor.organization_id, event_id, status=status)


class NotificationsAdmin(AdminState):
    events: list[reads.EventLogRow] = []
    event_id: int = 0
    status_filter: str = ANY
    deliveries: list[reads.DeliveryRow] = []

    @rx.event
    async def load(self):
        out = await self._call(_log)
        if out.ok:
            self.events = out.value
            if self.event_id:
                return await self._load_rows()
        return out.event

    async def _load_rows(self):
        status = "" if self.status_filter == ANY else self.status_filter
        out = await self._call(_rows, event_id=self.event_id, status=status)
        if out.ok:
            self.deliveries = out.value
        return out.event

    @rx.event
    async def show(self, event_id: int):
        self.event_id = parse_id(event_id) or 0
        return await self._load_rows()

    @rx.event
    async def set_status_filter(self, value: str):
        self.status_filter = value if value in STATUS_FILTERS else ANY
        return await self._load_rows()


def event_row(ev) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(ev.title, on_click=NotificationsAdmin.show(ev.event_id), href="#deliveries",
                              class_name="event-link")),
        rx.table.cell(time_text(ev.created_at, "UTC")),
        rx.table.cell(ev.total),
        rx.table.cell(rx.text(ev.sent, " sent", class_name="count-sent")),
        rx.table.cell(ev.waiting, " waiting"),
        rx.table.cell(rx.text(ev.retrying, " retrying", color=rx.cond(ev.retrying > 0, "var(--amber-11)", ""))),
        rx.table.cell(rx.text(ev.failed, " failed", color=rx.cond(ev.failed > 0, "var(--red-11)", ""))),
        rx.table.cell(ev.skipped, " skipped"),
        class_name="event-row",
    )


def delivery_row(d) -> rx.Component:
    return rx.table.row(
        rx.table.cell(d.address),
        rx.table.cell(d.kind),
        rx.table.cell(rx.text(d.status_label, weight="medium", class_name="delivery-status")),
        rx.table.cell(d.attempts),
        rx.table.cell(rx.cond(d.next_attempt_at != "", rx.text("next try ", time_text(d.next_attempt_at, "UTC")),
                              time_text(d.sent_at, "UTC"))),
        rx.table.cell(rx.text(d.last_error, size="1")),
    )


def notifications_page() -> rx.Component:
    s = NotificationsAdmin
    return console(
        "Notifications",
        rx.hstack(
            rx.text("Events that reached subscribers, newest first.", size="2", color_scheme="gray"),
            rx.button("Refresh", variant="soft", high_contrast=True, size="1", on_click=s.load, id="refresh-log"),
            justify="between",
            width="100%",
        ),
        card(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Event", "When", "Deliveries", "Sent", "Waiting", "Retrying",
                                                "Failed", "Skipped")])),
                rx.table.body(rx.foreach(s.events, event_row)),
                width="100%",
                id="event-log",
            )
        ),
        rx.cond(
            s.event_id != 0,
            card(
                rx.vstack(
                    rx.hstack(
                        rx.heading("Deliveries", size="4"),
                        rx.select(STATUS_FILTERS, value=s.status_filter, on_change=s.set_status_filter, size="1",
                                  aria_label="Show deliveries with status"),
                        align="center",
                    ),
                    rx.text("Failed and retrying first; at most 200 shown.", size="1", color_scheme="gray"),
                    rx.table.root(
                        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                       ("To", "Channel", "Status", "Attempts", "When", "Why")])),
                        rx.table.body(rx.foreach(s.deliveries, delivery_row)),
                        width="100%",
                    ),
                    width="100%",
                ),
                id="deliveries",
            ),
        ),
    )
