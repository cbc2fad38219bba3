"""Reflex configuration. Environment: see README.md (REDIS_URL enables several workers)."""

import os

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

config = rx.Config(
    app_name="statusapp",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    redis_url=os.environ.get("REDIS_URL") or os.environ.get("STATUSAPP_REDIS_URL") or None,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(appearance="inherit", accent_color="blue", radius="medium"))],
    disable_plugins=[SitemapPlugin],
)
