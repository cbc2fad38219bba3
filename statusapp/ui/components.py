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


# Radix's red-9 under white text is 3.9:1; this red is 6.5:1 (WCAG AA) in both themes.
DANGER_BUTTON = {"background_color": "#b91c1c", "color": "white"}


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


# Rendered Markdown (statusapp/markdown.py) flows inline after the status word.
MARKDOWN_STYLE = {
    "& p": {"margin": "0.3em 0"},
    "& p:first-child": {"display": "inline"},
    "& ul, & ol": {"margin": "0.3em 0", "padding_left": "1.5em"},
    "& code": {"font_size": "0.9em", "background": "var(--gray-a3)", "padding": "0 0.25em",
               "border_radius": "3px"},
    "& a": {"color": "var(--accent-11)", "text_decoration": "underline"},
}


def markdown_html(html, **props) -> rx.Component:
    """HTML rendered safely on the server from a message's Markdown (never user HTML)."""
    return rx.html(html, style=MARKDOWN_STYLE, class_name="markdown", **props)
