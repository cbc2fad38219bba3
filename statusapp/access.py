"""Who is calling: from a request's or a websocket's credentials to the domain's Actor.

Every adapter (the FastAPI routes, the console's Reflex handlers, and the REST API with its
keys) resolves its caller here, on the server, so the rules live in one place: the session
cookie's name and parsing, the same-origin check, and session token -> Actor.
"""

from __future__ import annotations

import urllib.parse
from http.cookies import CookieError, SimpleCookie

from statusapp.domain import Actor
from statusapp.domain import auth
from statusapp.enums import ChangeCause

SESSION_COOKIE = "statusapp_session"


def session_token_from_cookie_header(cookie_header: str | None) -> str | None:
    """The session token from a raw Cookie header (a websocket's handshake carries one)."""
    jar = SimpleCookie()
    try:
        jar.load(cookie_header or "")
    except CookieError:
        return None
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel else None


def same_origin(origin: str | None, host: str | None) -> bool:
    """True when the request has no Origin or one naming our own host (a defence against
    cross-site requests and websocket hijacking, on top of the SameSite cookie)."""
    if origin is None or origin == "":
        return True
    if origin == "null":
        return False
    return urllib.parse.urlsplit(origin).netloc == (host or "")


def session_user(token: str | None) -> auth.SessionUser | None:
    return auth.session_user(token)


def actor_for(user: auth.SessionUser) -> Actor:
    return Actor(user.organization_id, user.user_id, ChangeCause.manual)


def visitor_address(peer: str | None) -> str:
    """The client address rate limits count a visitor by (public subscribe form, links).

    The connection's peer for now: behind a reverse proxy every visitor shares the proxy's
    address, so the per-IP limit then counts them together. The one place to plug in a
    trusted-proxies rule (X-Forwarded-For from known proxies only)."""
    return (peer or "")[:64]
