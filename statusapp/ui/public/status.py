"""The live status page (`/status/<slug>`, and `/` by Host): banner, services, incidents."""

from __future__ import annotations

import asyncio

import reflex as rx
from pydantic import TypeAdapter

from statusapp import routes
from statusapp.db import DatabaseUnavailable
from statusapp.live import ViewTarget, hub
from statusapp.queries.public import PageView
from statusapp.queries.uptime import PageHistory
from statusapp.ui.components import card, status_badge
from statusapp.ui.format import BROWSER_ZONE, time_text
from statusapp.ui.public.common import (
    VISUALLY_HIDDEN,
    incident_card,
    maintenance_card,
    main_content,
    not_found,
    page_title_bar,
    paused_note,
    shell,
)
from statusapp.ui.public.subscribe import subscribe_box
from statusapp.ui.public.uptime import (
    bars_assets,
    chart_toggle,
    ensure_bars,
    history_of,
    history_projection,
    response_chart,
    uptime_strip,
)


_PAGE_VIEW = TypeAdapter(PageView)
_typed_views: dict[int, tuple[dict, PageView]] = {}


def typed_view(page_id: int | None) -> PageView:
    """The cached view as the PageView Reflex expects, rebuilt once per pushed view (not per
    visitor): the cache holds plain data, Reflex checks a computed var's type."""
    data = hub.cached_view(page_id)
    if data is None:
        return PageView(found=False)
    hit = _typed_views.get(page_id)
    if hit is None or hit[0] is not data:
        hit = _typed_views[page_id] = (data, _PAGE_VIEW.validate_python(data))
    return hit[1]


RETRY_MAX_SECONDS = 30
RETRY_GIVE_UP_SECONDS = 15 * 60


class PublicPageState(rx.State):
    """A visitor's view of one status page, kept live by statusapp.live.

    `view` is computed from the process-wide cache on every delta, never stored per visitor,
    so a reconnect or a late event can never send an old copy back over a pushed one. While the
    database cannot be read, the page shows the last known view and says so (`live_paused`,
    pushed by the hub); a visitor who arrives with nothing cached retries with back-off.
    """

    phase: str = "loading"  # loading | ready | missing | unavailable
    _page_id: int | None = None
    _room: str = ""

    @rx.var(cache=False)
    def view(self) -> PageView:
        return typed_view(self._page_id)

    @rx.var(cache=False)
    def live_paused(self) -> bool:
        return hub.paused

    @rx.var(cache=False)
    def history(self) -> PageHistory:
        """The 89 finished days of each service's bars: sent on load, and pushed (HISTORY_TARGET)
        only when they change; shared by every visitor of the page in this process."""
        return history_of(self._page_id)

    def _where(self) -> tuple[str | None, str | None]:
        slug = routes.public_slug(self.router.url.path)
        return slug, (self.router.headers.host if slug is None else None)

    async def _show(self, page_id: int | None) -> None:
        sid = self.router.session.session_id
        room = PAGE_TARGET.room(page_id) if page_id is not None else ""
        if self._room and self._room != room:
            await hub.leave(sid, self._room)
        if page_id is not None:
            await hub.join_view(sid, PAGE_TARGET, page_id)
            await ensure_bars(page_id)
        self._room = room
        self._page_id = page_id
        self.phase = "ready" if page_id is not None else "missing"

    @rx.event
    async def load(self):
        slug, host = self._where()
        try:
            page_id = await hub.load_page(slug=slug, host=host)
        except DatabaseUnavailable:
            self.phase = "unavailable"
            return PublicPageState.retry_load
        await self._show(page_id)

    @rx.event(background=True)
    async def retry_load(self):
        """The database was down when this visitor arrived: try again with back-off, then show
        the page and join its room like a normal load."""
        delay, waited = 1.0, 0.0
        while waited < RETRY_GIVE_UP_SECONDS:
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, RETRY_MAX_SECONDS)
            async with self:
                if self.phase != "unavailable":
                    return  # a reconnect's own load got there first
                slug, host = self._where()
            try:
                page_id = await hub.load_page(slug=slug, host=host)
            except DatabaseUnavailable:
                continue
            async with self:
                await self._show(page_id)
            return


# Where the live push puts a page's view: this state's `view`, for the sockets in `page-<id>`.
PAGE_TARGET = ViewTarget(state_name=PublicPageState.get_full_name(), var_name="view", paused_var="live_paused")
# The finished days go with a rebuild only when they changed (history_projection).
HISTORY_TARGET = ViewTarget(state_name=PublicPageState.get_full_name(), var_name="history", project=history_projection)


def page_header(view) -> rx.Component:
    return page_title_bar(
        rx.hstack(
            rx.cond(view.logo_url != "", rx.image(src=view.logo_url, height="2.5em", alt="")),
            rx.heading(view.name, size="7", color=view.brand_color, as_="h1"),
            align="center",
            spacing="3",
        )
    )


def banner(view) -> rx.Component:
    return rx.box(
        rx.text(view.status_text, size="5", weight="bold", color="white", id="overall-status"),
        background_color=view.status_color,
        padding="1em 1.25em",
        border_radius="var(--radius-3)",
        width="100%",
        role="status",
        aria_live="polite",
    )


def service_row(svc) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.vstack(
                rx.text(svc.name, weight="medium"),
                rx.cond(svc.description != "", rx.text(svc.description, size="1", color_scheme="gray")),
                spacing="0",
            ),
            rx.hstack(
                rx.cond(svc.chart, chart_toggle(svc)),
                status_badge(svc.status_label, svc.status_color, svc.status_text_color),
                align="center",
                spacing="3",
            ),
            justify="between",
            align="center",
            width="100%",
        ),
        uptime_strip(svc, PublicPageState.history),
        rx.cond(svc.chart, response_chart(svc)),
        width="100%",
        padding_y="0.5em",
        spacing="2",
        class_name="service",
        data_status=svc.status,
    )


def group_block(group) -> rx.Component:
    return card(
        rx.cond(
            group.name != "",
            rx.vstack(
                rx.hstack(
                    rx.heading(group.name, size="3", as_="h3"),
                    status_badge(group.status_label, group.status_color, group.status_text_color),
                    justify="between",
                    width="100%",
                ),
                rx.divider(),
                rx.foreach(group.services, service_row),
                width="100%",
                spacing="1",
            ),
            rx.foreach(group.services, service_row),
        ),
        class_name="service-group",
    )


def incident_list(title: str, incidents, view, section_id: str) -> rx.Component:
    return rx.cond(
        incidents.length() > 0,
        rx.vstack(
            rx.heading(title, size="5", as_="h2"),
            rx.foreach(incidents, lambda inc: incident_card(inc, view.slug, view.time_zone)),
            width="100%",
            id=section_id,
        ),
    )


def maintenance_banner(view) -> rx.Component:
    """One line per window in progress: "Maintenance in progress: <title>" (words, not only colour)."""
    return rx.cond(
        view.maintenance_active.length() > 0,
        rx.vstack(
            rx.foreach(view.maintenance_active, lambda m: rx.box(
                rx.text(
                    rx.cond(m.status == "verifying", "Maintenance being verified: ", "Maintenance in progress: "),
                    rx.link(m.title, href=routes.maintenance_path(view.slug, m.id), color="inherit",
                            underline="always"),
                    size="3", weight="bold",
                ),
                rx.text("Until ", rx.el.time(time_text(m.scheduled_until, view.time_zone), date_time=m.scheduled_until),
                        rx.cond(m.affected != "", rx.fragment(" · Affected: ", m.affected)), size="2"),
                padding="0.75em 1.25em",
                border_radius="var(--radius-3)",
                border="2px solid #1d4ed8",
                background_color="var(--blue-3)",
                color="var(--gray-12)",
                width="100%",
                class_name="maintenance-banner",
            )),
            width="100%",
            spacing="2",
            id="maintenance-in-progress",
            role="status",
            aria_live="polite",
        ),
    )


def upcoming_maintenance(view) -> rx.Component:
    return rx.cond(
        view.maintenance_upcoming.length() > 0,
        rx.el.section(
            rx.vstack(
                rx.heading("Upcoming maintenance", size="5", as_="h2"),
                rx.foreach(view.maintenance_upcoming, lambda m: maintenance_card(m, view.slug, view.time_zone)),
                width="100%",
            ),
            id="upcoming-maintenance",
            aria_label="Upcoming maintenance",
            style={"width": "100%"},
        ),
    )


def page_body(view) -> rx.Component:
    return rx.fragment(
        # React hoists these into <head>: the tab shows the page's name, status and icon.
        rx.el.title(view.name + " · " + view.status_text),
        rx.cond(view.favicon_url != "", rx.el.link(rel="icon", href=view.favicon_url)),
        bars_assets(),
        page_header(view),
        main_content(
            rx.cond(view.description != "", rx.text(view.description, color_scheme="gray")),
            rx.cond(PublicPageState.live_paused, paused_note(view.as_of, view.time_zone)),
            banner(view),
            maintenance_banner(view),
            incident_list("Active incidents", view.incidents, view, "active-incidents"),
            rx.el.section(
                rx.heading("Services", size="5", as_="h2", class_name="visually-hidden", style=VISUALLY_HIDDEN),
                rx.vstack(rx.foreach(view.groups, group_block), width="100%", spacing="3"),
                id="services",
                aria_label="Services",
                style={"width": "100%"},
            ),
            upcoming_maintenance(view),
            incident_list("Resolved in the last 7 days", view.recent, view, "recent-incidents"),
            subscribe_box(view),
        ),
        rx.el.footer(
            rx.hstack(
                rx.link("Incident history", href=routes.history_path(view.slug)),
                rx.text("Times in your time zone (", BROWSER_ZONE, ")", size="1", color_scheme="gray"),
                justify="between",
                width="100%",
                padding_y="1em",
            ),
            style={"width": "100%"},
        ),
    )


def unavailable() -> rx.Component:
    return main_content(rx.center(
        rx.vstack(
            rx.heading("Status temporarily unavailable", size="6"),
            rx.text("We cannot read the current status right now. This page retries by itself."),
            rx.spinner(size="2"),
            align="center",
            spacing="3",
        ),
        min_height="50vh",
        id="status-unavailable",
        role="status",
    ))


def status_page() -> rx.Component:
    view = PublicPageState.view
    return shell(
        rx.match(
            PublicPageState.phase,
            ("missing", not_found()),
            ("unavailable", unavailable()),
            # A page made private or deleted while open is pushed as not found.
            ("ready", rx.cond(view.found, page_body(view), not_found())),
            main_content(rx.center(rx.spinner(size="3"), rx.text("Loading status…", class_name="visually-hidden",
                                                               style=VISUALLY_HIDDEN),
                                   min_height="40vh")),
        ),
        background=rx.cond(view.background_color != "", view.background_color, ""),
    )
