"""Who is calling: from a request's or a websocket's credentials to the domain's Actor.

Every adapter (the FastAPI routes, the console's Reflex handlers, and the REST API with its
keys) resolves its caller here, on the server, so the rules live in one place: the session
cookie's name and parsing, the same-origin check, and session token -> Actor.
"""

from __future__ import annotations

import functools
import ipaddress
import urllib.parse
from http.cookies import CookieError, SimpleCookie

from statusapp.domain import Actor
from statusapp.domain import apikeys, auth
from statusapp.enums import ChangeCause
from statusapp.settings import get_settings

SESSION_COOKIE = "statusapp_session"
# The email typed into a failed sign-in, for the sign-in page to show again (HttpOnly, sent
# only to the live socket's path, a few minutes): never in a URL.
LOGIN_EMAIL_COOKIE = "statusapp_login_email"

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=8)
def parse_trusted_proxies(value: str) -> tuple[IPNetwork, ...]:
    """`STATUSAPP_TRUSTED_PROXIES` ("10.0.0.1, 192.168.0.0/16, ::1") as networks (the settings
    refuse a bad entry when the app starts)."""
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in value.split(",") if item.strip())


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:51000"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def client_address(peer: str | None, forwarded_for: str | None, trusted: str | None = None) -> str:
    """The address of the client a request (or websocket) comes from.

    `peer` is the address the connection came from. When it is a trusted proxy
    (`STATUSAPP_TRUSTED_PROXIES`), X-Forwarded-For is read from the right, one hop at a time,
    for as long as each hop is itself a trusted proxy: the first address that is not one is
    the client. Addresses to the left of it were written by the client and are never used, so
    a client cannot choose its own address by sending the header. With no trusted proxies the
    header is ignored.
    """
    networks = parse_trusted_proxies(get_settings().trusted_proxies if trusted is None else trusted)
    current = (peer or "").strip()
    if not networks or not forwarded_for:
        return current
    hops = [h for h in forwarded_for.split(",") if h.strip()]
    while True:
        ip = _ip(current)
        if ip is None or not any(ip in net for net in networks):
            return current
        if not hops:
            return current
        nxt = _ip(hops.pop())
        if nxt is None:
            return current  # a trusted hop forwarded garbage: it is the best we know
        current = str(nxt)


def cookie_value(cookie_header: str | None, name: str) -> str | None:
    """One cookie from a raw Cookie header (a websocket's handshake carries one)."""
    jar = SimpleCookie()
    try:
        jar.load(cookie_header or "")
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def session_token_from_cookie_header(cookie_header: str | None) -> str | None:
    return cookie_value(cookie_header, SESSION_COOKIE)


def same_origin(origin: str | None, host: str | None) -> bool:
    """True when the request has no Origin or one naming our own host (a defence against
    cross-site requests and websocket hijacking, on top of the SameSite cookie)."""
    if origin is None or origin == "":
        return True
    if origin == "null":
        return False
    return urllib.parse.urlsplit(origin).netloc == (host or "")


def websocket_origin_allowed(origin: str | None, environ: dict | None = None) -> bool:
    """Engine.IO's origin check for the live socket: our own page (Origin naming the Host the
    socket was opened on, which covers custom domains) or the public URL. Another site's
    page cannot open a socket with the visitor's cookies."""
    if not origin:
        return True
    host = (environ or {}).get("HTTP_HOST", "")
    return origin.lower() == get_settings().public_origin or same_origin(origin, host)


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


def visitor_address(peer: str | None, forwarded_for: str | None = None) -> str:
    """The client address rate limits count a visitor by (public subscribe form, links):
    `client_address` with the trusted-proxies rule, cut to the stored length."""
    return client_address(peer, forwarded_for)[:64]
