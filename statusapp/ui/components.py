"""Shared presentation pieces: status badges (colour AND text), cards, field errors."""

from __future__ import annotations

import reflex as rx


def status_dot(color) -> rx.Component:
    return rx.box(
        width="0.75em", height="0.75em", border_radius="50%", background_color=color, flex_shrink="0",
        aria_hidden="true",
    )


def status_badge(label, color) -> rx.Component:
    """A coloured dot with the status in words: never colour alone."""
    return rx.hstack(
        status_dot(color),
        rx.text(label, size="2", weight="medium", color=color, style={"filter": "brightness(0.85)"}),
        align="center",
        spacing="2",
    )


def field_error(message) -> rx.Component:
    return rx.cond(
        message != "",
        rx.text(message, color="var(--red-11)", size="1", role="alert"),
    )


def card(*children, **props) -> rx.Component:
    return rx.card(*children, width="100%", **props)
