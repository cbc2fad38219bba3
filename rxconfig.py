"""Reflex configuration. Environment: see README.md (REDIS_URL enables several workers)."""

import os

import reflex as rx

config = rx.Config(
    app_name="statusapp",
    telemetry_enabled=False,
    show_built_with_reflex=False,
    redis_url=os.environ.get("REDIS_URL") or os.environ.get("STATUSAPP_REDIS_URL") or None,
    plugins=[rx.plugins.SitemapPlugin()] if False else [],
    disable_plugins=["reflex.plugins.sitemap.SitemapPlugin"],
)
