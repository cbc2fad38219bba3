"""Plain HTTP routes beside Reflex (its api_transformer): login/logout with an HttpOnly
session cookie, security headers, real 404s for unknown or private pages, health."""

from __future__ import annotations

import asyncio
import html
import urllib.parse

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from statusapp import routes
from statusapp.access import SESSION_COOKIE, same_origin
from statusapp.db import is_outage
from statusapp.domain import AuthError
from statusapp.domain import auth
from statusapp.live import hub
from statusapp.queries.public import page_exists
from statusapp.settings import get_settings

api = FastAPI(title="statusapp", docs_url=None, redoc_url=None, openapi_url=None)

ADMIN_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


NOT_FOUND_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Not found</title>
<style>body{{font-family:system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;
background:#fff;color:#111}}@media (prefers-color-scheme:dark){{body{{background:#111;color:#eee}}}}</style>
</head><body><main id="not-found"><h1>404: status page not found</h1>
<p>There is no public status page at <code>{path}</code>.</p></main></body></html>"""


UNAVAILABLE_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>Sign-in unavailable</title>
<style>body{font-family:system-ui,sans-serif;display:grid;place-items:center;min-height:90vh;margin:0;
background:#fff;color:#111}@media (prefers-color-scheme:dark){body{background:#111;color:#eee}}</style>
</head><body><main id="unavailable"><h1>Sign-in is unavailable right now</h1>
<p>The database cannot be reached, so we cannot check your password. Nothing was changed.</p>
<p><a href="/admin/login">Try again</a> in a moment. Public status pages keep showing the last known status.</p>
</main></body></html>"""


@api.middleware("http")
async def guard(request: Request, call_next):
    path = request.url.path
    slug = routes.guarded_page_slug(path)
    if request.method == "GET" and slug and not hub.is_public_slug(slug):
        try:
            exists = await asyncio.to_thread(page_exists, slug)
        except Exception as exc:
            if not is_outage(exc):
                raise
            exists = True  # cannot tell now: the page itself says the status is unavailable
        if not exists:
            return HTMLResponse(NOT_FOUND_HTML.format(path=html.escape(path)), status_code=404)
    response: Response = await call_next(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if routes.is_console_path(path):
        for k, v in ADMIN_HEADERS.items():
            response.headers[k] = v
    else:
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return response


def _same_origin(request: Request) -> bool:
    return same_origin(request.headers.get("origin"), request.headers.get("host"))


@api.post(routes.AUTH_LOGIN)
async def login(request: Request, email: str = Form(""), password: str = Form("")):
    if not _same_origin(request):
        return JSONResponse({"detail": "cross-origin login refused"}, status_code=403)
    try:
        token, _user = await asyncio.to_thread(auth.login, email=email, password=password, client_ip=client_ip(request))
    except AuthError as exc:
        query = urllib.parse.urlencode({"error": str(exc), "email": email[:320]})
        return RedirectResponse(f"{routes.ADMIN_LOGIN}?{query}", status_code=303)
    except Exception as exc:
        if not is_outage(exc):
            raise
        return HTMLResponse(UNAVAILABLE_HTML, status_code=503, headers={"Retry-After": "10"})
    response = RedirectResponse(routes.ADMIN, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=get_settings().session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=get_settings().public_url.startswith("https://"),
        path="/",
    )
    return response


@api.post(routes.AUTH_LOGOUT)
async def logout(request: Request):
    if not _same_origin(request):
        return JSONResponse({"detail": "cross-origin logout refused"}, status_code=403)
    await asyncio.to_thread(auth.logout, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(routes.ADMIN_LOGIN, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@api.get("/healthz")
async def healthz():
    """Liveness, and how many visitor sockets this worker holds per page (for ops and tests)."""
    return {"ok": True, "page_sockets": hub.room_sizes()}
