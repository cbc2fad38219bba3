"""Parts every public page shares: the frame, the header, incident cards, the 404."""

from __future__ import annotations

import reflex as rx

from statusapp import routes
from statusapp.ui.components import card, markdown_html, status_badge
from statusapp.ui.format import recent_time, time_text


def color_mode_toggle() -> rx.Component:
    return rx.color_mode.button(size="2", variant="ghost", aria_label="Toggle dark mode")


def not_found() -> rx.Component:
    return main_content(rx.center(
        rx.vstack(
            rx.heading("404: status page not found", size="7"),
            rx.text("There is no public status page at this address."),
            align="center",
            spacing="3",
        ),
        min_height="60vh",
        id="not-found",
    ))


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


# Read by screen readers, not shown.
VISUALLY_HIDDEN = {
    "position": "absolute",
    "width": "1px",
    "height": "1px",
    "overflow": "hidden",
    "clip": "rect(0 0 0 0)",
    "white_space": "nowrap",
}

SKIP_LINK_STYLE = {
    "position": "absolute",
    "left": "-10000px",
    "top": "0.5em",
    "padding": "0.5em 1em",
    "background": "var(--color-panel-solid)",
    "color": "var(--gray-12)",
    "border": "2px solid var(--accent-9)",
    "border_radius": "var(--radius-2)",
    "z_index": "2000",
    "&:focus": {"left": "0.5em"},
}


def shell(*children, background=None) -> rx.Component:
    """The frame of every public page: a skip link to the main content, then the page. Each
    page puts its title bar in a <header> (`page_title_bar`) and the rest in `main_content`."""
    return rx.box(
        rx.el.a("Skip to main content", href="#main", class_name="skip-link", style=SKIP_LINK_STYLE),
        rx.container(*children, size="3", padding_x="1em", padding_y="1.5em"),
        min_height="100vh",
        background_color=background if background is not None else "",
    )


def main_content(*children) -> rx.Component:
    """The page's <main> landmark (the skip link's target)."""
    return rx.el.main(
        rx.vstack(*children, spacing="4", width="100%"),
        id="main",
        tab_index=-1,
        style={"width": "100%", "outline": "none"},
    )


def page_title_bar(title: rx.Component) -> rx.Component:
    """The top line of every public page, its banner landmark: the page's name (or heading)
    and the theme toggle."""
    return rx.el.header(
        rx.hstack(title, color_mode_toggle(), justify="between", align="center", width="100%"),
        style={"width": "100%", "margin_bottom": "1em"},
    )


def back_to_page(name, slug) -> rx.Component:
    """The header of the history and incident pages: the page's name, linking back to it."""
    return page_title_bar(rx.link(rx.text(name, size="6", weight="bold"), href=routes.page_path(slug)))


def update_entry(update, tz) -> rx.Component:
    return rx.box(
        rx.box(
            rx.text.strong(update.status_label),
            " — ",
            markdown_html(update.message_html, display="inline"),
            font_size="var(--font-size-2)",
        ),
        recent_time(update.at_iso, tz, style={"font-size": "0.8em", "opacity": "0.75"}),
        padding_y="0.4em",
        border_left="3px solid var(--gray-6)",
        padding_left="0.75em",
        class_name="incident-update",
    )


def incident_card(inc, slug, tz, *, show_updates: bool = True, level: str = "h3") -> rx.Component:
    return card(
        rx.vstack(
            rx.hstack(
                rx.link(rx.heading(inc.title, size="4", as_=level), href=routes.incident_path(slug, inc.id)),
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


def maintenance_window(m, tz) -> rx.Component:
    """"Scheduled for Nov 30, 2026 02:00 CET – Nov 30, 2026 03:00 CET": in the visitor's zone, named."""
    return rx.text(
        "Scheduled for ",
        rx.el.time(time_text(m.scheduled_for, tz), date_time=m.scheduled_for),
        " – ",
        rx.el.time(time_text(m.scheduled_until, tz), date_time=m.scheduled_until),
        size="2",
        class_name="maintenance-window",
    )


def maintenance_card(m, slug, tz, *, show_updates: bool = True, level: str = "h3") -> rx.Component:
    return card(
        rx.vstack(
            rx.hstack(
                rx.link(rx.heading(m.title, size="4", as_=level), href=routes.maintenance_path(slug, m.id)),
                rx.badge("Maintenance", color_scheme="blue", variant="soft"),
                rx.badge(m.status_label, variant="outline", class_name="maintenance-status"),
                wrap="wrap",
                align="center",
                spacing="2",
            ),
            maintenance_window(m, tz),
            rx.cond(m.affected != "", rx.text("Affected: ", m.affected, size="1", color_scheme="gray")),
            rx.cond(
                show_updates,
                rx.vstack(rx.foreach(m.updates, lambda u: update_entry(u, tz)), spacing="1", width="100%"),
            ),
            spacing="2",
            width="100%",
        ),
        border_left="4px solid #1d4ed8",
        class_name="maintenance",
        data_status=m.status,
    )
