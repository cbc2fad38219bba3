"""The live status page (`/status/<slug>`, and `/` by Host): banner, services, incidents."""

from __future__ import annotations

import reflex as rx

from statusapp import routes
from statusapp.live import ViewTarget, hub
from statusapp.queries.public import PageView
from statusapp.ui.components import card, status_badge
from statusapp.ui.public.common import incident_card, not_found, page_title_bar, shell
from statusapp.ui.public.subscribe import subscribe_box


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
        slug = routes.public_slug(self.router.url.path)
        host = self.router.headers.host if slug is None else None
        page_id = await hub.load_page(slug=slug, host=host)
        sid = self.router.session.session_id
        room = PAGE_TARGET.room(page_id) if page_id is not None else ""
        if self._room and self._room != room:
            await hub.leave(sid, self._room)
        if page_id is not None:
            await hub.join_view(sid, PAGE_TARGET, page_id)
        self._room = room
        self._page_id = page_id
        self.phase = "ready" if page_id is not None else "missing"


# Where the live push puts a page's view: this state's `view`, for the sockets in `page-<id>`.
PAGE_TARGET = ViewTarget(state_name=PublicPageState.get_full_name(), var_name="view")


def page_header(view) -> rx.Component:
    return page_title_bar(
        rx.hstack(
            rx.cond(view.logo_url != "", rx.image(src=view.logo_url, height="2.5em", alt="")),
            rx.heading(view.name, size="7", color=view.brand_color),
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


def incident_list(title: str, incidents, view, section_id: str) -> rx.Component:
    return rx.cond(
        incidents.length() > 0,
        rx.vstack(
            rx.heading(title, size="5"),
            rx.foreach(incidents, lambda inc: incident_card(inc, view.slug, view.time_zone)),
            width="100%",
            id=section_id,
        ),
    )


def page_body(view) -> rx.Component:
    return rx.vstack(
        # React hoists these into <head>: the tab shows the page's name, status and icon.
        rx.el.title(view.name + " · " + view.status_text),
        rx.cond(view.favicon_url != "", rx.el.link(rel="icon", href=view.favicon_url)),
        page_header(view),
        rx.cond(view.description != "", rx.text(view.description, color_scheme="gray")),
        banner(view),
        incident_list("Active incidents", view.incidents, view, "active-incidents"),
        rx.vstack(rx.foreach(view.groups, group_block), width="100%", spacing="3", id="services"),
        incident_list("Resolved in the last 7 days", view.recent, view, "recent-incidents"),
        subscribe_box(view),
        rx.hstack(
            rx.link("Incident history", href=routes.history_path(view.slug)),
            rx.text("Times in ", view.time_zone, size="1", color_scheme="gray"),
            justify="between",
            width="100%",
            padding_y="1em",
        ),
        spacing="4",
        width="100%",
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
