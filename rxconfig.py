"""Reflex configuration. Environment: see README.md (REDIS_URL enables several workers)."""

import os

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from statusapp.settings import get_settings

REDIS_URL = os.environ.get("REDIS_URL") or os.environ.get("STATUSAPP_REDIS_URL") or None

config = rx.Config(
    app_name="statusapp",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    redis_url=REDIS_URL,
    # Visitors' state in memory with one worker (the disk default writes and rescans a file
    # per visitor); in Redis when several workers share them.
    state_manager_mode="redis" if REDIS_URL else "memory",
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(appearance="inherit", accent_color="blue", radius="medium"))],
    disable_plugins=[SitemapPlugin],
    # Reflex's default ("*") answers every site's requests with credentials allowed. Only our
    # public URL may read our answers cross-origin (public JSON opens up in statusapp.web);
    # the live socket's own origin check is statusapp.web.restrict_socket_origins.
    cors_allowed_origins=[get_settings().public_origin],
)
