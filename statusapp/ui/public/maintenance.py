"""One maintenance window's public page: when, what it affects, its description and timeline."""

from __future__ import annotations

import asyncio

import reflex as rx

from statusapp import routes
from statusapp.queries.public import MaintenanceView, load_maintenance
from statusapp.ui.components import card, markdown_html
from statusapp.ui.public.common import back_to_page, main_content, maintenance_card, not_found, shell


class MaintenancePageState(rx.State):
    maintenance: MaintenanceView = MaintenanceView()
    page_name: str = ""
    slug: str = ""
    time_zone: str = "UTC"
    found: bool = True

    @rx.event
    async def load(self):
        parsed = routes.parse_public_path(self.router.url.path)
        slug = parsed.slug if parsed and parsed.view == "maintenance" else ""
        shown = await asyncio.to_thread(load_maintenance, slug, parsed.maintenance_id) if slug else None
        self.slug, self.found = slug or "", shown is not None
        if shown is not None:
            self.page_name, self.time_zone, self.maintenance = shown.page_name, shown.time_zone, shown.maintenance


def maintenance_page() -> rx.Component:
    s = MaintenancePageState
    m = s.maintenance
    return shell(
        rx.cond(
            s.found,
            rx.fragment(
                back_to_page(s.page_name, s.slug),
                main_content(
                    maintenance_card(m, s.slug, s.time_zone, level="h1"),
                    rx.cond(m.description_html != "",
                            card(rx.heading("About this maintenance", size="4", as_="h2"),
                                 markdown_html(m.description_html), id="maintenance-description")),
                ),
                rx.el.footer(rx.link("Incident and maintenance history", href=routes.history_path(s.slug)),
                             style={"width": "100%", "padding_top": "1em"}),
            ),
            not_found(),
        )
    )
