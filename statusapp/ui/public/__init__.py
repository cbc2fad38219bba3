"""Public status pages: the live page, its history, one incident's and one maintenance's page."""

from __future__ import annotations

import reflex as rx

from statusapp import routes
from statusapp.ui.public.embed import STORAGE_FALLBACK_JS, EMBED_TARGET, EmbedState, embed_page, storage_fallback
from statusapp.ui.public.history import HistoryState, history_page
from statusapp.ui.public.incident import IncidentPageState, incident_page
from statusapp.ui.public.maintenance import MaintenancePageState, maintenance_page
from statusapp.ui.public.status import HISTORY_TARGET, PAGE_TARGET, PublicPageState, status_page

__all__ = ["EMBED_TARGET", "HISTORY_TARGET", "PAGE_TARGET", "STORAGE_FALLBACK_JS", "PublicPageState", "add_public_pages", "storage_fallback"]


def add_public_pages(app: rx.App) -> None:
    for route, component, state, title in [
        (routes.PUBLIC_INDEX, status_page, PublicPageState, "Status"),
        (routes.PUBLIC_PAGE, status_page, PublicPageState, "Status"),
        (routes.PUBLIC_HISTORY, history_page, HistoryState, "Incident history"),
        (routes.PUBLIC_INCIDENT, incident_page, IncidentPageState, "Incident"),
        (routes.PUBLIC_MAINTENANCE, maintenance_page, MaintenancePageState, "Maintenance"),
        (routes.EMBED_PAGE, embed_page, EmbedState, "Status"),
    ]:
        app.add_page(component, route=route, on_load=state.load, title=title)
