"""Parts every public page shares: the frame, the header, incident cards, the 404."""

from __future__ import annotations

import reflex as rx

from statusapp import routes
from statusapp.ui.components import card, status_badge
from statusapp.ui.format import local_time, time_text


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


def paused_note(as_of, tz) -> rx.Component:
    """Said calmly while live updates are paused (database or connection trouble): the page
    still shows the last status it knew, and when that was."""
    return rx.box(
        rx.text(
            "Live updates paused, showing status as of ",
            rx.el.time(time_text(as_of, tz), date_time=as_of),
            ". This page catches up by itself.",
            size="2",
        ),
        role="status",
        aria_live="polite",
        class_name="live-paused",
        padding="0.5em 0.9em",
        border="1px solid var(--gray-7)",
        border_radius="var(--radius-3)",
        background_color="var(--gray-3)",
        width="100%",
    )


def shell(*children, background=None) -> rx.Component:
    return rx.box(
        rx.container(*children, size="3", padding_x="1em", padding_y="1.5em"),
        min_height="100vh",
        background_color=background if background is not None else "",
    )


def page_title_bar(title: rx.Component) -> rx.Component:
    """The top line of every public page: the page's name (or heading) and the theme toggle."""
    return rx.hstack(title, color_mode_toggle(), justify="between", align="center", width="100%")


def back_to_page(name, slug) -> rx.Component:
    """The header of the history and incident pages: the page's name, linking back to it."""
    return page_title_bar(rx.link(rx.heading(name, size="6"), href=routes.page_path(slug)))


def update_entry(update, tz) -> rx.Component:
    return rx.box(
        rx.text(
            rx.text.strong(update.status_label),
            " — ",
            rx.text.span(update.message, white_space="pre-wrap"),
            size="2",
        ),
        local_time(update.at_iso, tz, style={"font-size": "0.8em", "opacity": "0.75"}),
        padding_y="0.4em",
        border_left="3px solid var(--gray-6)",
        padding_left="0.75em",
        class_name="incident-update",
    )


def incident_card(inc, slug, tz, *, show_updates: bool = True) -> rx.Component:
    return card(
        rx.vstack(
            rx.hstack(
                rx.link(rx.heading(inc.title, size="4"), href=routes.incident_path(slug, inc.id)),
                rx.badge(inc.impact_label + " impact", color_scheme="gray", variant="soft"),
                rx.badge(inc.status_label, variant="outline"),
                wrap="wrap",
                align="center",
                spacing="2",
            ),
            rx.cond(inc.affected != "", rx.text("Affected: ", inc.affected, size="1", color_scheme="gray")),
            rx.cond(
                show_updates,
                rx.vstack(rx.foreach(inc.updates, lambda u: update_entry(u, tz)), spacing="1", width="100%"),
                rx.text(time_text(inc.started_at, tz), " – ", time_text(inc.resolved_at, tz), size="1",
                        color_scheme="gray"),
            ),
            spacing="2",
            width="100%",
        ),
        border_left="4px solid " + inc.impact_color,
        class_name="incident",
    )
