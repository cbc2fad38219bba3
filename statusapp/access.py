"""Who is calling: from a request's or a websocket's credentials to the domain's Actor.

Every adapter (the FastAPI routes, the console's Reflex handlers, and the REST API with its
keys) resolves its caller here, on the server, so the rules live in one place: the session
cookie's name and parsing, the same-origin check, and session token -> Actor.
"""

from __future__ import annotations

import urllib.parse
from http.cookies import CookieError, SimpleCookie

from statusapp.domain import Actor
from statusapp.domain import apikeys, auth
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


def bearer_token(authorization_header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (None for any other scheme)."""
    scheme, _, token = (authorization_header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def api_key_actor(authorization_header: str | None) -> Actor | None:
    """The REST API caller: the Actor of the live API key in the Authorization header, or None."""
    return apikeys.actor_for_token(bearer_token(authorization_header))
