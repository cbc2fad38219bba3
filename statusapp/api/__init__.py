"""The HTTP API beside the pages: public JSON (Statuspage v2), admin REST (v1), badges, feeds,
the script embed and the OpenAPI docs. `install` adds it to the app's FastAPI (statusapp/web.py)."""

from __future__ import annotations

from fastapi import FastAPI

from statusapp.api import badges, docs, embed, files, v1, v2
from statusapp.api.cache import documents
from statusapp.live import hub


def install(app: FastAPI) -> None:
    """Add every API route to `app` and keep the public documents' cache fresh from the live
    hub's pushed rebuilds (in every worker). Idempotent."""
    if getattr(app.state, "statusapp_api", False):
        return
    app.state.statusapp_api = True
    public = (v2.router, files.router, badges.router, embed.router)
    for router in (v1.router, *public, docs.router):
        app.include_router(router)
    docs.document(v1.router, *public)
    hub.on_page_pushed(documents.invalidate)
