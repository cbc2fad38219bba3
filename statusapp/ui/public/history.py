"""A page's incident history, three months per page (`?page=N` goes back)."""

from __future__ import annotations

import asyncio

import reflex as rx

from statusapp import routes
from statusapp.queries.public import MonthView, load_history
from statusapp.ui.public.common import back_to_page, incident_card, main_content, maintenance_card, not_found, shell


class HistoryState(rx.State):
    months: list[MonthView] = []
    page_name: str = ""
    slug: str = ""
    time_zone: str = "UTC"
    offset: int = 0
    found: bool = True
    in_range: bool = True
    has_older: bool = False

    @rx.event
    async def load(self):
        slug = routes.public_slug(self.router.url.path) or ""
        offset = routes.history_page_number(self.router.url.query_parameters.get("page"))
        history = await asyncio.to_thread(load_history, slug, offset)
        self.slug, self.offset, self.found = slug, offset or 0, history is not None
        if history is not None:
            self.page_name, self.time_zone, self.months = history.page_name, history.time_zone, history.months
            self.in_range, self.has_older = history.in_range, history.has_older
        else:
            self.page_name, self.months, self.in_range, self.has_older = "", [], True, False


def month_block(month) -> rx.Component:
    return rx.vstack(
        rx.heading(month.label, size="4", as_="h2"),
        rx.cond(
            month.incidents.length() > 0,
            rx.foreach(
                month.incidents,
                lambda inc: incident_card(inc, HistoryState.slug, HistoryState.time_zone, show_updates=False),
            ),
            rx.text("No incidents reported.", color_scheme="gray", size="2"),
        ),
        rx.foreach(
            month.maintenances,
            lambda m: maintenance_card(m, HistoryState.slug, HistoryState.time_zone, show_updates=False),
        ),
        width="100%",
        spacing="2",
    )


def history_page() -> rx.Component:
    s = HistoryState
    return shell(
        rx.cond(
            s.found,
            rx.fragment(
                back_to_page(s.page_name, s.slug),
                main_content(
                    rx.heading("Incident history", size="5", as_="h1"),
                    rx.cond(
                        s.in_range,
                        rx.fragment(
                            rx.foreach(s.months, month_block),
                            rx.el.nav(
                                rx.hstack(
                                    rx.cond(s.has_older,
                                            rx.link("← Older", href=routes.history_path(s.slug, s.offset + 1))),
                                    rx.cond(s.offset > 0,
                                            rx.link("Newer →", href=routes.history_path(s.slug, s.offset - 1))),
                                    justify="between",
                                    width="100%",
                                ),
                                aria_label="History pages",
                                style={"width": "100%"},
                            ),
                        ),
                        rx.vstack(
                            rx.text("No such page of history.", id="no-such-history-page"),
                            rx.link("Latest incidents", href=routes.history_path(s.slug)),
                        ),
                    ),
                ),
            ),
            not_found(),
        )
    )
