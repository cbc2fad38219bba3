"""What every page shows while its websocket is reconnecting, instead of Reflex's red
"Cannot connect to server" toast: a calm note in words. Visitors keep the last status they
were shown and are told when it dates from; admins are told changes wait for the connection.
"""

from __future__ import annotations

import reflex as rx
from reflex_components_core.core.banner import has_connection_errors

from statusapp.ui.format import time_text
from statusapp.ui.public.status import PublicPageState

# Evaluated in the browser: the console and sign-in paths get the console's wording.
_ON_CONSOLE = rx.Var("(typeof window !== 'undefined' && /^\\/+(admin|auth)(\\/|$)/.test(window.location.pathname))").to(bool)


def _note(*children) -> rx.Component:
    return rx.box(
        rx.text(*children, size="2"),
        role="status",
        aria_live="polite",
        id="connection-note",
        position="fixed",
        bottom="1em",
        left="50%",
        transform="translateX(-50%)",
        z_index="1000",
        max_width="min(36em, calc(100vw - 2em))",
        padding="0.6em 1em",
        border="1px solid var(--gray-7)",
        border_radius="var(--radius-3)",
        background_color="var(--gray-2)",
        color="var(--gray-12)",
        box_shadow="0 2px 10px rgba(0,0,0,0.15)",
    )



def connection_overlay() -> rx.Component:
    view = PublicPageState.view
    return rx.cond(
        has_connection_errors,
        rx.cond(
            _ON_CONSOLE,
            _note("Connection to the server lost. Reconnecting… Changes cannot be saved until it is back."),
            rx.cond(
                view.found,
                _note("Live updates paused, showing status as of ", time_text(view.as_of, view.time_zone),
                      ". Reconnecting…"),
                _note("Live updates paused. Reconnecting…"),
            ),
        ),
    )


def install(app: rx.App) -> None:
    """Put the note in place of Reflex's default connection overlay (pulser + toast)."""
    app.app_wraps[(5, "Overlay")] = lambda stateful: connection_overlay() if stateful else None
