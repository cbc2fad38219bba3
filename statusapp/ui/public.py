"""Public status pages: the live page, its incident history and one incident's page."""

from __future__ import annotations

import asyncio

import reflex as rx

from statusapp.db import session_scope
from statusapp.live import hub, page_room
from statusapp.queries import IncidentView, MonthView, PageView, find_page, history_view, incident_view
from statusapp.ui import routes
from statusapp.ui.components import card, status_badge


class PublicPageState(rx.State):
    """A visitor's view of one status page, kept live by statusapp.live.

    `view` is computed from the process-wide cache on every delta, never stored per visitor,
    so a reconnect or a late event can never send an old copy back over a pushed one.
    """

    phase: str = "loading"  # loading | ready | missing
    _page_id: int | None = None
    _room: str = ""

    @rx.var(cache=False)
    def view(self) -> PageView:
        return hub.cached_view(self._page_id) or PageView(found=False)

    @rx.event
    async def load(self):
        slug = routes.path_segment(self.router.url.path, 1) or None
        host = self.router.headers.host if not slug else None
        page_id = await hub.load_page(slug=slug, host=host)
        sid = self.router.session.session_id
        room = page_room(page_id) if page_id is not None else ""
        if self._room and self._room != room:
            await hub.leave(sid, self._room)
        if room:
            await hub.join(sid, room)
        self._room = room
        self._page_id = page_id
        self.phase = "ready" if page_id is not None else "missing"


def color_mode_toggle() -> rx.Component:
    return rx.color_mode.button(size="2", variant="ghost", aria_label="Toggle dark mode")


def not_found() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.heading("404: status page not found", size="7"),
            rx.text("There is no public status page at this address."),
            align="center",
            spacing="3",
        ),
        min_height="60vh",
        id="not-found",
    )


def page_header(view) -> rx.Component:
    return rx.hstack(
        rx.hstack(
            rx.cond(view.logo_url != "", rx.image(src=view.logo_url, height="2.5em", alt="")),
            rx.heading(view.name, size="7", color=view.brand_color),
            align="center",
            spacing="3",
        ),
        color_mode_toggle(),
        justify="between",
        align="center",
        width="100%",
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


def update_entry(update) -> rx.Component:
    return rx.box(
        rx.text(
            rx.text.strong(update.status_label),
            " — ",
            rx.text.span(update.message, white_space="pre-wrap"),
            size="2",
        ),
        rx.el.time(update.at, date_time=update.at_iso, style={"font-size": "0.8em", "opacity": "0.75"}),
        padding_y="0.4em",
        border_left="3px solid var(--gray-6)",
        padding_left="0.75em",
        class_name="incident-update",
    )


def incident_card(inc, slug, *, show_updates: bool = True) -> rx.Component:
    return card(
        rx.vstack(
            rx.hstack(
                rx.link(rx.heading(inc.title, size="4"), href="/status/" + slug + "/incidents/" + inc.id.to_string()),
                rx.badge(inc.impact_label + " impact", color_scheme="gray", variant="soft"),
                rx.badge(inc.status_label, variant="outline"),
                wrap="wrap",
                align="center",
                spacing="2",
            ),
            rx.cond(inc.affected != "", rx.text("Affected: ", inc.affected, size="1", color_scheme="gray")),
            rx.cond(
                show_updates,
                rx.vstack(rx.foreach(inc.updates, update_entry), spacing="1", width="100%"),
                rx.text(inc.started, " – ", inc.resolved, size="1", color_scheme="gray"),
            ),
            spacing="2",
            width="100%",
        ),
        border_left="4px solid " + inc.impact_color,
        class_name="incident",
    )


def service_row(svc) -> rx.Component:
    return rx.hstack(
        rx.vstack(
            rx.text(svc.name, weight="medium"),
            rx.cond(svc.description != "", rx.text(svc.description, size="1", color_scheme="gray")),
            spacing="0",
        ),
        status_badge(svc.status_label, svc.status_color, svc.status_text_color),
        justify="between",
        align="center",
        width="100%",
        padding_y="0.5em",
        class_name="service",
        data_status=svc.status,
    )


def group_block(group) -> rx.Component:
    return card(
        rx.cond(
            group.name != "",
            rx.vstack(
                rx.hstack(
                    rx.heading(group.name, size="3"),
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


def page_body(view) -> rx.Component:
    return rx.vstack(
        # React hoists these into <head>: the tab shows the page's name, status and icon.
        rx.el.title(view.name + " · " + view.status_text),
        rx.cond(view.favicon_url != "", rx.el.link(rel="icon", href=view.favicon_url)),
        page_header(view),
        rx.cond(view.description != "", rx.text(view.description, color_scheme="gray")),
        banner(view),
        rx.cond(
            view.incidents.length() > 0,
            rx.vstack(
                rx.heading("Active incidents", size="5"),
                rx.foreach(view.incidents, lambda inc: incident_card(inc, view.slug)),
                width="100%",
                id="active-incidents",
            ),
        ),
        rx.vstack(rx.foreach(view.groups, group_block), width="100%", spacing="3", id="services"),
        rx.cond(
            view.recent.length() > 0,
            rx.vstack(
                rx.heading("Resolved in the last 7 days", size="5"),
                rx.foreach(view.recent, lambda inc: incident_card(inc, view.slug)),
                width="100%",
                id="recent-incidents",
            ),
        ),
        rx.hstack(
            rx.link("Incident history", href="/status/" + view.slug + "/history"),
            rx.text("Times in ", view.time_zone, size="1", color_scheme="gray"),
            justify="between",
            width="100%",
            padding_y="1em",
        ),
        spacing="4",
        width="100%",
    )


def shell(*children, background=None) -> rx.Component:
    return rx.box(
        rx.container(*children, size="3", padding_x="1em", padding_y="1.5em"),
        min_height="100vh",
        background_color=background if background is not None else "",
    )


def status_page() -> rx.Component:
    view = PublicPageState.view
    return shell(
        rx.match(
            PublicPageState.phase,
            ("missing", not_found()),
            # A page made private or deleted while open is pushed as not found.
            ("ready", rx.cond(view.found, page_body(view), not_found())),
            rx.center(rx.spinner(size="3"), min_height="40vh"),
        ),
        background=rx.cond(view.background_color != "", view.background_color, ""),
    )


class HistoryState(rx.State):
    """Incident history of a page, three months per page (`?page=N` goes back)."""

    months: list[MonthView] = []
    page_name: str = ""
    slug: str = ""
    offset: int = 0
    found: bool = True

    @rx.event
    async def load(self):
        slug = routes.path_segment(self.router.url.path, 1)
        try:
            offset = max(0, int(self.router.url.query_parameters.get("page", "0")))
        except ValueError:
            offset = 0

        def read():
            with session_scope() as session:
                page = find_page(session, slug=slug)
                if page is None:
                    return None
                return page.name, history_view(session, page, offset=offset)

        found = await asyncio.to_thread(read)
        self.slug, self.offset, self.found = slug, offset, found is not None
        if found:
            self.page_name, self.months = found
        else:
            self.page_name, self.months = "", []


def month_block(month) -> rx.Component:
    return rx.vstack(
        rx.heading(month.label, size="4"),
        rx.cond(
            month.incidents.length() > 0,
            rx.foreach(month.incidents, lambda inc: incident_card(inc, HistoryState.slug, show_updates=False)),
            rx.text("No incidents reported.", color_scheme="gray", size="2"),
        ),
        width="100%",
        spacing="2",
    )


def history_page() -> rx.Component:
    return shell(
        rx.cond(
            HistoryState.found,
            rx.vstack(
                rx.hstack(
                    rx.link(rx.heading(HistoryState.page_name, size="6"), href="/status/" + HistoryState.slug),
                    color_mode_toggle(),
                    justify="between",
                    width="100%",
                ),
                rx.heading("Incident history", size="5"),
                rx.foreach(HistoryState.months, month_block),
                rx.hstack(
                    rx.link("← Older", href="/status/" + HistoryState.slug + "/history?page=" + (HistoryState.offset + 1).to_string()),
                    rx.cond(
                        HistoryState.offset > 0,
                        rx.link("Newer →", href="/status/" + HistoryState.slug + "/history?page=" + (HistoryState.offset - 1).to_string()),
                    ),
                    justify="between",
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
            not_found(),
        )
    )


class IncidentPageState(rx.State):
    incident: IncidentView = IncidentView()
    page_name: str = ""
    slug: str = ""
    found: bool = True

    @rx.event
    async def load(self):
        slug = routes.path_segment(self.router.url.path, 1)
        raw_id = routes.path_segment(self.router.url.path, 3)

        def read():
            if not raw_id.isdigit():
                return None
            with session_scope() as session:
                page = find_page(session, slug=slug)
                if page is None:
                    return None
                inc = incident_view(session, page, int(raw_id))
                return (page.name, inc) if inc else None

        found = await asyncio.to_thread(read)
        self.slug, self.found = slug, found is not None
        if found:
            self.page_name, self.incident = found


def incident_page() -> rx.Component:
    inc = IncidentPageState.incident
    return shell(
        rx.cond(
            IncidentPageState.found,
            rx.vstack(
                rx.hstack(
                    rx.link(rx.heading(IncidentPageState.page_name, size="6"), href="/status/" + IncidentPageState.slug),
                    color_mode_toggle(),
                    justify="between",
                    width="100%",
                ),
                incident_card(inc, IncidentPageState.slug),
                rx.cond(
                    inc.postmortem != "",
                    card(rx.heading("Postmortem", size="4"), rx.text(inc.postmortem, white_space="pre-wrap")),
                ),
                rx.link("Incident history", href="/status/" + IncidentPageState.slug + "/history"),
                spacing="4",
                width="100%",
            ),
            not_found(),
        )
    )


def add_public_pages(app: rx.App) -> None:
    for route, component, state, title in [
        (routes.PUBLIC_INDEX, status_page, PublicPageState, "Status"),
        (routes.PUBLIC_PAGE, status_page, PublicPageState, "Status"),
        (routes.PUBLIC_HISTORY, history_page, HistoryState, "Incident history"),
        (routes.PUBLIC_INCIDENT, incident_page, IncidentPageState, "Incident"),
    ]:
        app.add_page(component, route=route, on_load=state.load, title=title)


def public_view_key() -> tuple[str, str]:
    """Where the live push puts a page view: (state full name, field name) in a Reflex delta."""
    from reflex_base.constants.state import FIELD_MARKER

    return PublicPageState.get_full_name(), "view" + FIELD_MARKER


