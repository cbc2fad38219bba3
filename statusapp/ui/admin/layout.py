"""The console frame: navigation, sign-out, and the message area."""

from __future__ import annotations

import reflex as rx

from statusapp import routes
from statusapp.ui.admin.state import AdminState

SIGN_OUT_FORM = "sign-out-form"


def nav_link(label: str, href: str) -> rx.Component:
    return rx.link(label, href=href, weight="medium")


def toast() -> rx.Component:
    """The last change's confirmation, or why it failed, for a few seconds in the corner
    (assets/console.css fades it out; a new toast re-mounts it through its key)."""
    return rx.cond(
        AdminState.toast_text != "",
        rx.box(
            rx.text(AdminState.toast_text, size="2", weight="medium"),
            key=AdminState.toast_seq.to_string(),
            class_name="console-toast",
            data_kind=AdminState.toast_kind,
            role=rx.cond(AdminState.toast_kind == "error", "alert", "status"),
            position="fixed",
            bottom="1.25em",
            right="1.25em",
            z_index="900",
            max_width="min(28em, calc(100vw - 2.5em))",
            padding="0.7em 1em",
            border_radius="var(--radius-3)",
            border=rx.cond(AdminState.toast_kind == "error", "1px solid var(--red-8)", "1px solid var(--green-8)"),
            background_color=rx.cond(AdminState.toast_kind == "error", "var(--red-2)", "var(--green-2)"),
            color="var(--gray-12)",
            box_shadow="0 4px 14px rgba(0,0,0,0.15)",
        ),
    )


def console(title: str, *children: rx.Component) -> rx.Component:
    return rx.cond(
        AdminState.signed_in,
        rx.box(
            rx.el.header(rx.hstack(
                rx.el.nav(rx.hstack(
                    rx.text("statusapp", size="5", weight="bold"),
                    nav_link("Dashboard", routes.ADMIN),
                    nav_link("Incidents", routes.ADMIN_INCIDENTS),
                    nav_link("Maintenance", routes.ADMIN_MAINTENANCE_LIST),
                    nav_link("Services", routes.ADMIN_SERVICES),
                    nav_link("Monitors", routes.ADMIN_MONITORS),
                    nav_link("Status pages", routes.ADMIN_PAGES),
                    nav_link("Subscribers", routes.ADMIN_SUBSCRIBERS),
                    nav_link("Notifications", routes.ADMIN_NOTIFICATIONS),
                    nav_link("Channels", routes.ADMIN_CHANNELS),
                    nav_link("Mailbox", routes.ADMIN_MAILBOX),
                    nav_link("API keys", routes.ADMIN_API_KEYS),
                    nav_link("Account", routes.ADMIN_ACCOUNT),
                    spacing="4",
                    align="center",
                    wrap="wrap",
                ), aria_label="Console"),
                rx.hstack(
                    rx.text(AdminState.user_email, size="2", color_scheme="gray"),
                    rx.color_mode.button(size="2", variant="ghost", aria_label="Toggle dark mode"),
                    # Reflex's forms never submit natively: a static <form>, and a button joined to it.
                    rx.html(f'<form id="{SIGN_OUT_FORM}" action="{routes.AUTH_LOGOUT}" method="post"></form>'),
                    rx.button("Sign out", type="submit", variant="outline", size="1", high_contrast=True,
                              custom_attrs={"form": SIGN_OUT_FORM}, id="sign-out"),
                    align="center",
                ),
                justify="between",
                align="center",
                padding="0.75em 1.25em",
                border_bottom="1px solid var(--gray-5)",
                wrap="wrap",
            )),
            rx.el.main(rx.container(
                rx.vstack(
                    rx.heading(title, size="6", as_="h1"),
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
            ), id="main"),
            toast(),
        ),
        rx.center(rx.spinner(size="3"), min_height="50vh"),
    )


def field(label: str, control: rx.Component, error_key: str, hint: str = "") -> rx.Component:
    """A labelled input with its error message right below it. The control sits inside its
    <label>, so screen readers name it and a click on the label focuses it."""
    return rx.vstack(
        rx.el.label(
            rx.text(label, size="2", weight="medium"),
            control,
            style={"display": "flex", "flex_direction": "column", "gap": "0.25em", "width": "100%"},
        ),
        rx.cond(hint != "", rx.text(hint, size="1", color_scheme="gray")),
        rx.cond(
            AdminState.errors.contains(error_key),
            rx.text(AdminState.errors[error_key], color="var(--red-11)", size="1", role="alert",
                    class_name="field-error", data_field=error_key),
        ),
        spacing="1",
        width="100%",
    )
