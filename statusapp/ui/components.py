"""Shared presentation pieces: status badges (colour AND text), cards, confirmations."""

from __future__ import annotations

import reflex as rx


def status_dot(color) -> rx.Component:
    return rx.box(
        width="0.75em", height="0.75em", border_radius="50%", background_color=color, flex_shrink="0",
        aria_hidden="true",
    )


def status_badge(label, color, text_color) -> rx.Component:
    """A coloured dot with the status in words: never colour alone."""
    return rx.hstack(
        status_dot(color),
        rx.text(label, size="2", weight="medium", color=text_color),
        align="center",
        spacing="2",
    )


def card(*children, **props) -> rx.Component:
    return rx.card(*children, width="100%", **props)


def confirm_button(label: str, title, description: str, on_confirm, **trigger_props) -> rx.Component:
    """A destructive action behind a confirmation dialog."""
    return rx.alert_dialog.root(
        rx.alert_dialog.trigger(rx.button(label, color_scheme="red", **trigger_props)),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            rx.hstack(
                rx.alert_dialog.cancel(rx.button("Cancel", variant="soft")),
                rx.alert_dialog.action(rx.button(label, color_scheme="red", on_click=on_confirm)),
                justify="end",
            ),
        ),
    )


def move_buttons(on_up, on_down) -> rx.Fragment:
    return rx.fragment(
        rx.icon_button("arrow-up", size="1", variant="soft", on_click=on_up, aria_label="Move up"),
        rx.icon_button("arrow-down", size="1", variant="soft", on_click=on_down, aria_label="Move down"),
    )
