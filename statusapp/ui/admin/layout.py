"""The console frame: navigation, sign-out, and the message area."""

from __future__ import annotations

import reflex as rx

from statusapp import routes
from statusapp.ui.admin.state import AdminState


def nav_link(label: str, href: str) -> rx.Component:
    return rx.link(label, href=href, weight="medium")


def console(title: str, *children: rx.Component) -> rx.Component:
    return rx.cond(
        AdminState.signed_in,
        rx.box(
            rx.hstack(
                rx.hstack(
                    rx.heading("statusapp", size="5"),
                    nav_link("Dashboard", routes.ADMIN),
                    nav_link("Incidents", routes.ADMIN_INCIDENTS),
                    nav_link("Services", routes.ADMIN_SERVICES),
                    nav_link("Status pages", routes.ADMIN_PAGES),
                    nav_link("Subscribers", routes.ADMIN_SUBSCRIBERS),
                    nav_link("Notifications", routes.ADMIN_NOTIFICATIONS),
                    nav_link("Channels", routes.ADMIN_CHANNELS),
                    nav_link("Mailbox", routes.ADMIN_MAILBOX),
                    spacing="4",
                    align="center",
                    wrap="wrap",
                ),
                rx.hstack(
                    rx.text(AdminState.user_email, size="2", color_scheme="gray"),
                    rx.color_mode.button(size="2", variant="ghost"),
                    rx.el.form(
                        rx.button("Sign out", type="submit", variant="soft", size="1"),
                        action=routes.AUTH_LOGOUT,
                        method="post",
                    ),
                    align="center",
                ),
                justify="between",
                align="center",
                padding="0.75em 1.25em",
                border_bottom="1px solid var(--gray-5)",
                wrap="wrap",
            ),
            rx.container(
                rx.vstack(
                    rx.heading(title, size="6"),
                    rx.cond(
                        AdminState.errors.contains("_"),
                        rx.callout(AdminState.errors["_"], color_scheme="red", role="alert"),
                    ),
                    rx.cond(AdminState.notice != "", rx.callout(AdminState.notice, color_scheme="green")),
                    *children,
                    spacing="4",
                    width="100%",
                ),
                size="4",
                padding_y="1.5em",
            ),
        ),
        rx.center(rx.spinner(size="3"), min_height="50vh"),
    )


def field(label: str, control: rx.Component, error_key: str, hint: str = "") -> rx.Component:
    """A labelled input with its error message right below it."""
    return rx.vstack(
        rx.text(label, as_="label", size="2", weight="medium"),
        control,
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")),
        rx.cond(
            AdminState.errors.contains(error_key),
            rx.text(AdminState.errors[error_key], color="var(--red-11)", size="1", role="alert",
                    class_name="field-error", data_field=error_key),
        ),
        spacing="1",
        width="100%",
    )
