"""One incident's public page: its timeline and, once published, its postmortem."""

from __future__ import annotations

import asyncio

import reflex as rx

from statusapp import routes
from statusapp.domain.validation import parse_id
from statusapp.queries.public import IncidentView, load_incident
from statusapp.ui.components import card, markdown_html
from statusapp.ui.public.common import back_to_page, incident_card, main_content, not_found, shell


class IncidentPageState(rx.State):
    incident: IncidentView = IncidentView()
    page_name: str = ""
    slug: str = ""
    time_zone: str = "UTC"
    found: bool = True

    @rx.event
    async def load(self):
        parsed = routes.parse_public_path(self.router.url.path)
        slug = parsed.slug if parsed else ""
        incident_id = parse_id(parsed.incident_id) if parsed else None
        shown = await asyncio.to_thread(load_incident, slug, incident_id) if incident_id and slug else None
        self.slug, self.found = slug or "", shown is not None
        if shown is not None:
            self.page_name, self.time_zone, self.incident = shown.page_name, shown.time_zone, shown.incident


def incident_page() -> rx.Component:
    s = IncidentPageState
    inc = s.incident
    return shell(
        rx.cond(
            s.found,
            rx.fragment(
                back_to_page(s.page_name, s.slug),
                main_content(
                    incident_card(inc, s.slug, s.time_zone, level="h1"),
                    rx.cond(
                        inc.postmortem != "",
                        card(rx.heading("Postmortem", size="4", as_="h2"), markdown_html(inc.postmortem_html),
                             id="postmortem"),
                    ),
                ),
                rx.el.footer(rx.link("Incident history", href=routes.history_path(s.slug)),
                             style={"width": "100%", "padding_top": "1em"}),
            ),
            not_found(),
        )
    )
