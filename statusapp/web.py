"""Plain HTTP routes beside Reflex (its api_transformer): login/logout with an HttpOnly
session cookie, security headers, real 404s for unknown or private pages, health and
readiness, and the per-address cap on live sockets."""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import html
import re
from collections import Counter
from pathlib import Path

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import text

from statusapp import routes
from statusapp.access import (
    LOGIN_EMAIL_COOKIE,
    SESSION_COOKIE,
    client_address,
    same_origin,
    session_user,
    websocket_origin_allowed,
)
from statusapp.db import get_engine, is_outage
from statusapp.domain import AuthError, NotFound, ValidationError, auth
from statusapp.domain.monitoring import TooManyPushes, record_push
from statusapp.domain.validation import EMAIL_MAX
from statusapp.live import hub
from statusapp.queries.public import page_exists, root_page_exists
from statusapp.settings import get_settings

api = FastAPI(title="statusapp", docs_url=None, redoc_url=None, openapi_url=None)

READY_TIMEOUT_SECONDS = 2.0
LOGIN_EMAIL_COOKIE_SECONDS = 300
HSTS = "max-age=31536000"
CONSOLE_HEADERS = {"Referrer-Policy": "same-origin", "Cache-Control": "no-store"}


def client_ip(request: Request) -> str:
    """The caller's address, through the trusted proxies only (see access.client_address)."""
    return client_address(request.client.host if request.client else "", request.headers.get("x-forwarded-for"))


# ---- Content-Security-Policy ---------------------------------------------------------------
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.S | re.I)


def _frontend_dir() -> Path | None:
    """Where `reflex run --env prod` serves the built frontend from (None when not built)."""
    try:
        from reflex.utils import prerequisites
        from reflex_base import constants
    except ImportError:  # pragma: no cover - reflex is a dependency
        return None
    path = prerequisites.get_web_dir() / constants.Dirs.STATIC
    return path if path.is_dir() else None


def inline_script_hashes(html_files: list[Path]) -> list[str]:
    """CSP sources ('sha256-...') of every inline <script> in the built pages.

    React Router's SPA build puts a few small inline scripts in each page (theme, router
    context, module bootstrap); they are the same on every start, so hashing them allows
    exactly those and no injected script, with no 'unsafe-inline'.
    """
    found: dict[str, None] = {}
    for path in html_files:
        for match in _INLINE_SCRIPT.finditer(path.read_bytes()):
            found[_hash_source(match.group(1))] = None
    return list(found)


# Inline scripts the app renders itself (React puts them in the page at run time, so they are
# not in the built HTML files): registered by statusapp.py, hashed like the built ones.
_APP_INLINE_SCRIPTS: list[str] = []


def allow_inline_script(source: str) -> None:
    """Let the CSP run exactly this inline script (e.g. a head component's code)."""
    if source not in _APP_INLINE_SCRIPTS:
        _APP_INLINE_SCRIPTS.append(source)
        _script_hashes.cache_clear()


def _hash_source(source: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source).digest()).decode() + "'"


def content_security_policy(script_hashes: list[str], *, framable: bool) -> str:
    settings = get_settings()
    origin = settings.public_origin
    socket_origin = "ws" + origin[len("http"):] if origin.startswith("http") else origin
    directives = [
        "default-src 'self'",
        "script-src 'self' " + " ".join(script_hashes),
        # Emotion (Radix) writes <style> elements and the sign-in form has style attributes.
        "style-src 'self' 'unsafe-inline'",
        # Logos and favicons are URLs admins type: any web image.
        "img-src 'self' data: https: http:",
        "font-src 'self' data:",
        f"connect-src 'self' {origin} {socket_origin}",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
    if not framable:
        directives.append("frame-ancestors 'none'")
    return "; ".join(directives)


@functools.cache
def _script_hashes() -> tuple[str, ...] | None:
    directory = _frontend_dir()
    if directory is None:
        return None
    files = sorted(directory.rglob("*.html"))
    if not files:
        return None
    return tuple(inline_script_hashes(files)) + tuple(_hash_source(s.encode()) for s in _APP_INLINE_SCRIPTS)


def security_headers(path: str) -> dict[str, str]:
    """The headers every answer gets: the single place framing, CSP and HSTS are decided."""
    framable = routes.is_framable(path)
    headers = {"X-Content-Type-Options": "nosniff"}
    hashes = _script_hashes()
    if hashes is not None:  # no built frontend (dev server): no script policy to enforce
        headers["Content-Security-Policy"] = content_security_policy(list(hashes), framable=framable)
    elif not framable:
        headers["Content-Security-Policy"] = "frame-ancestors 'none'; object-src 'none'; base-uri 'self'"
    if not framable:
        headers["X-Frame-Options"] = "DENY"
    if get_settings().public_url.startswith("https://"):
        headers["Strict-Transport-Security"] = HSTS
    if routes.is_console_path(path):
        headers.update(CONSOLE_HEADERS)
    else:
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return headers


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


async def _is_missing_page(request: Request) -> bool:
    """A GET of a page Reflex renders (`/status/<slug>...`, `/embed/<slug>`, or `/` by Host)
    with no public page behind it, answered 404 here. The API, badges and feeds under a page's
    URL answer their own 404. While the database cannot be read nothing is called missing: the
    page itself then shows the last known status or says it is unavailable."""
    path = request.url.path
    if request.method != "GET":
        return False
    try:
        slug = routes.guarded_page_slug(path)
        if slug:
            return not hub.is_public_slug(slug) and not await asyncio.to_thread(page_exists, slug)
        parsed = routes.parse_public_path(path)
        if parsed is not None and parsed.slug is None:
            return not await asyncio.to_thread(root_page_exists, request.headers.get("host"))
        return False
    except Exception as exc:
        if not is_outage(exc):
            raise
        return False


@api.middleware("http")
async def guard(request: Request, call_next):
    path = request.url.path
    if await _is_missing_page(request):
        response: Response = HTMLResponse(NOT_FOUND_HTML.format(path=html.escape(path[:200])), status_code=404)
    else:
        response = await call_next(request)
    for key, value in security_headers(path).items():
        response.headers[key] = value
    if routes.is_open_cors_path(path):
        # Public read-only JSON: any site may read it, never with the visitor's cookies.
        response.headers["Access-Control-Allow-Origin"] = "*"
        if "access-control-allow-credentials" in response.headers:
            del response.headers["access-control-allow-credentials"]
    return response


def _same_origin(request: Request) -> bool:
    return same_origin(request.headers.get("origin"), request.headers.get("host"))


def _secure_cookies() -> bool:
    return get_settings().public_url.startswith("https://")


async def _slow_down(seconds: float) -> None:
    """The per-email delay: waited on the event loop, holding no thread."""
    await asyncio.sleep(seconds)


@api.post(routes.AUTH_LOGIN)
async def login(request: Request, email: str = Form(""), password: str = Form(""), next: str = Form("")):
    if not _same_origin(request):
        return JSONResponse({"detail": "cross-origin login refused"}, status_code=403)
    next_path = routes.safe_next(next)
    try:
        pending = await asyncio.to_thread(auth.begin_login, email=email, client_ip=client_ip(request))
        if pending.delay_seconds:
            await _slow_down(pending.delay_seconds)
        token, _user = await asyncio.to_thread(auth.finish_login, pending, password)
    except AuthError as exc:
        # A code, never text: the page maps it to a fixed message. The email goes back in a
        # short-lived HttpOnly cookie only the sign-in page's socket reads, not in the URL.
        response = RedirectResponse(routes.login_path(error=exc.code, next_path=next_path), status_code=303)
        if 0 < len(email) <= EMAIL_MAX:
            response.set_cookie(
                LOGIN_EMAIL_COOKIE, email.strip(), max_age=LOGIN_EMAIL_COOKIE_SECONDS, httponly=True,
                samesite="strict", secure=_secure_cookies(), path=routes.EVENT_PATH,
            )
        return response
    except Exception as exc:
        if not is_outage(exc):
            raise
        return HTMLResponse(UNAVAILABLE_HTML, status_code=503, headers={"Retry-After": "10"})
    response = RedirectResponse(next_path or routes.ADMIN, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=get_settings().session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=_secure_cookies(),
        path="/",
    )
    response.delete_cookie(LOGIN_EMAIL_COOKIE, path=routes.EVENT_PATH)
    return response


@api.post(routes.AUTH_LOGOUT)
async def logout(request: Request):
    if not _same_origin(request):
        return JSONResponse({"detail": "cross-origin logout refused"}, status_code=403)
    await asyncio.to_thread(auth.logout, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(routes.ADMIN_LOGIN, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def _may_see_ops_data(request: Request) -> bool:
    """The ops token (Authorization: Bearer) or a signed-in admin's session cookie."""
    expected = get_settings().ops_token
    given = request.headers.get("authorization", "")
    if expected and hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        return True
    token = request.cookies.get(SESSION_COOKIE)
    return bool(token) and await asyncio.to_thread(session_user, token) is not None


@api.get("/healthz")
async def healthz(request: Request):
    """Liveness: answers while the event loop runs, without touching the database. With the ops
    token or an admin session, also how many visitor sockets this worker holds per page."""
    body: dict = {"ok": True}
    if await _may_see_ops_data(request):
        body["page_sockets"] = hub.room_sizes()
    return body


def _database_round_trip() -> None:
    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))


@api.get("/readyz")
async def readyz():
    """Readiness: a database round trip through the thread pool every request's reads use,
    within READY_TIMEOUT_SECONDS. A worker whose pool is stuck (or whose database is gone)
    answers 503, so a load balancer takes it out of rotation."""
    try:
        await asyncio.wait_for(asyncio.to_thread(_database_round_trip), READY_TIMEOUT_SECONDS)
    except TimeoutError:
        reason = f"no database answer within {READY_TIMEOUT_SECONDS:g} s (database or worker threads busy)"
        return JSONResponse({"ready": False, "reason": reason}, status_code=503)
    except Exception as exc:  # any database error means not ready
        return JSONResponse({"ready": False, "reason": f"database error: {type(exc).__name__}"}, status_code=503)
    return {"ready": True}


class SocketLimit:
    """ASGI middleware: at most `max_sockets_per_ip` live sockets per client address in this
    worker. Each socket holds server-side state for as long as it is open; without a cap one
    address can open sockets until the worker's memory runs out. Addresses come through the
    trusted proxies (access.client_address); a proxy's own connection limits are the first line."""

    def __init__(self, app) -> None:
        self.app = app
        self.open: Counter[str] = Counter()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "websocket" or not routes.is_event_path(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        peer = (scope.get("client") or ("",))[0]
        address = client_address(peer, headers.get("x-forwarded-for"))
        if self.open[address] >= get_settings().max_sockets_per_ip:
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1008})  # refused before accept: HTTP 403
            return
        self.open[address] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.open[address] -= 1
            if self.open[address] <= 0:
                del self.open[address]


api.add_middleware(SocketLimit)


def restrict_socket_origins(app) -> None:
    """Let the live socket open only from our own pages (Reflex gives Engine.IO a fixed list,
    which cannot name custom domains): see access.websocket_origin_allowed."""
    app.sio.eio.cors_allowed_origins = websocket_origin_allowed


@api.api_route(routes.PUSH, methods=["GET", "POST"])
async def push(token: str, status: str = "up", msg: str = "", ping: str = ""):
    """A push (heartbeat) monitor's secret URL, called by a cron job or a service: a beat is a
    successful check; `?status=down&msg=...` reports a failure; `ping` a response time in ms."""
    if status not in ("up", "down"):
        return JSONResponse({"ok": False, "field": "status", "detail": "Use up or down."}, status_code=400)
    try:
        latency = float(ping) if ping else None
    except ValueError:
        latency = None
    if latency is not None and not 0 <= latency < 3_600_000:
        latency = None
    try:
        await asyncio.to_thread(record_push, token, ok=status == "up", message=msg, latency_ms=latency)
    except ValidationError as exc:
        field, detail = next(iter(exc.errors.items()))
        return JSONResponse({"ok": False, "field": field, "detail": detail}, status_code=400)
    except NotFound:
        return JSONResponse({"ok": False, "detail": "Unknown or paused push URL."}, status_code=404)
    except TooManyPushes as exc:
        return JSONResponse({"ok": False, "detail": str(exc)}, status_code=429, headers={"Retry-After": "1"})
    return {"ok": True}
