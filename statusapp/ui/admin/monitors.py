"""Monitors in the console: every service with its monitor's verdict, last check and any
unconfirmed failure (never shown on the public page), and the checker's own health."""

from __future__ import annotations

import reflex as rx

from statusapp import routes
from statusapp.domain import Actor
from statusapp.queries.monitoring import CheckerHealth, MonitorRow, load_checker_health, load_monitor_rows
from statusapp.ui.admin.layout import console
from statusapp.ui.admin.state import AdminState
from statusapp.ui.components import card, status_badge
from statusapp.ui.format import time_text

REFRESH_MS = 10_000  # checks change the page without any event: it refreshes itself meanwhile

VISUALLY_HIDDEN = {"position": "absolute", "width": "1px", "height": "1px", "overflow": "hidden",
                   "clip": "rect(0 0 0 0)", "white_space": "nowrap"}


def monitor_overview(*, actor: Actor) -> tuple[list[MonitorRow], CheckerHealth]:
    return load_monitor_rows(actor.organization_id), load_checker_health()


class ReadingAdmin(AdminState):
    """A console page that re-reads its data every REFRESH_MS: through `_call` like every
    handler (the session is checked each time), keeping the form errors on screen."""

    async def _read(self, fn, **kwargs):
        errors, notice = self.errors, self.notice
        out = await self._call(fn, **kwargs)
        if out.ok:
            self.errors, self.notice = errors, notice
        return out


class MonitorsAdmin(ReadingAdmin):
    rows: list[MonitorRow] = []
    health: CheckerHealth = CheckerHealth()

    @rx.event
    async def open_monitors(self):
        await self.open_console()
        return await self.reload_monitors()

    @rx.event
    async def reload_monitors(self):
        out = await self._read(monitor_overview)
        if out.ok:
            self.rows, self.health = out.value
        return out.event


def recent_marks(recent, words) -> rx.Component:
    """The last observations, oldest first: a mark per check, and the same in words."""
    return rx.hstack(
        rx.foreach(
            recent.split(""),
            lambda o: rx.text(
                rx.match(o, ("u", "✓"), ("s", "~"), ("d", "✗"), "?"),
                color=rx.match(o, ("u", "var(--green-11)"), ("s", "var(--amber-11)"), ("d", "var(--red-11)"), "inherit"),
                weight="bold",
                aria_hidden="true",
            ),
        ),
        rx.el.span("Last checks, oldest first: " + words, style=VISUALLY_HIDDEN),
        spacing="1",
        class_name="recent-checks",
    )


def checker_health_card(health) -> rx.Component:
    return card(
        rx.heading("Checker", size="4"),
        rx.cond(
            health.beat_at == "",
            rx.text("The checker has not reported yet: it starts with the app (or `statusapp worker`).",
                    color_scheme="gray", id="checker-health"),
            rx.vstack(
                rx.hstack(
                    rx.badge(rx.cond(health.alive, "Running", "Not reporting"),
                             color_scheme=rx.cond(health.alive, "green", "red")),
                    rx.text("Leader: ", rx.text.strong(health.leader)),
                    rx.text("since ", time_text(health.leader_since, "UTC"), size="1", color_scheme="gray"),
                    wrap="wrap",
                    align="center",
                ),
                rx.text(
                    "Last heartbeat ", time_text(health.beat_at, "UTC"), " · ",
                    health.monitors.to_string(), " monitors · ",
                    health.checks_per_minute.to_string(), " checks in the last minute · lag p95 ",
                    rx.cond(health.lag_p95_ms != None, health.lag_p95_ms.to(int).to_string() + " ms", "–"),  # noqa: E711
                    ", max ",
                    rx.cond(health.lag_max_ms != None, health.lag_max_ms.to(int).to_string() + " ms", "–"),  # noqa: E711
                    " · ", health.pending_writes.to_string(), " results waiting to be written",
                    size="2",
                ),
                rx.cond(health.last_error != "", rx.callout(health.last_error, color_scheme="orange", size="1")),
                spacing="2",
                id="checker-health",
            ),
        ),
    )


def monitor_line(row) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row.service_name, href=routes.admin_monitor_path(row.service_id), weight="medium")),
        rx.table.cell(
            rx.cond(
                row.has_monitor,
                rx.vstack(
                    rx.text(row.target, size="1", style={"word_break": "break-all"}),
                    rx.text("every ", row.interval_seconds.to_string(), " s",
                            rx.cond(row.enabled, "", " · paused"), size="1", color_scheme="gray"),
                    spacing="0",
                ),
                rx.text("No monitor", size="1", color_scheme="gray"),
            )
        ),
        rx.table.cell(rx.cond(row.has_monitor, status_badge(row.verdict_label, row.verdict_color, row.verdict_text_color))),
        rx.table.cell(
            rx.cond(
                row.last_checked_at != "",
                rx.vstack(
                    rx.text(rx.cond(row.last_ok, "OK: ", "Failed: "), row.last_reason, size="1",
                            color=rx.cond(row.last_ok, "inherit", "var(--red-11)")),
                    rx.text(time_text(row.last_checked_at, "UTC"),
                            rx.cond(row.last_latency_ms != None, " · " + row.last_latency_ms.to_string() + " ms", ""),  # noqa: E711
                            size="1", color_scheme="gray"),
                    recent_marks(row.recent, row.recent_words),
                    rx.cond(row.pending != "", rx.badge("Unconfirmed: " + row.pending, color_scheme="orange",
                                                        class_name="unconfirmed")),
                    spacing="1",
                ),
            )
        ),
        rx.table.cell(rx.link(rx.button(rx.cond(row.has_monitor, "Edit", "Set up"), size="1", variant="soft"),
                              href=routes.admin_monitor_path(row.service_id))),
        class_name="monitor-row",
    )


def monitors_page() -> rx.Component:
    s = MonitorsAdmin
    return console(
        "Monitors",
        rx.moment(interval=REFRESH_MS, on_change=lambda _v: s.reload_monitors(), display="none"),
        checker_health_card(s.health),
        card(
            rx.hstack(
                rx.text("A service's status changes only after the monitor's failures (or successes) are "
                        "confirmed; unconfirmed ones show here, never on the public page.", size="1",
                        color_scheme="gray"),
                rx.button("Refresh", size="1", variant="soft", on_click=s.reload_monitors),
                justify="between",
                align="center",
                width="100%",
            ),
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Service", "Checks", "Verdict", "Last check", "")])),
                rx.table.body(rx.foreach(s.rows, monitor_line)),
                width="100%",
            ),
        ),
    )
