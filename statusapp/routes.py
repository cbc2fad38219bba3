"""Every URL path of the app: the patterns pages are registered on, the builders every link
uses, and the one parser that reads a path back. Nothing else splits or concatenates paths,
so a new route (an embed, the JSON API) joins here without touching three parsers.

Builders accept plain values or Reflex Vars (a link in a component is built from the Var of
a slug or an id), so the console, the public pages and the HTTP routes share them.
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from typing import Any

# ---- patterns (Reflex pages and FastAPI routes) -----------------------------------------
PUBLIC_INDEX = "/"
PUBLIC_PAGE = "/status/[slug]"
PUBLIC_HISTORY = "/status/[slug]/history"
PUBLIC_INCIDENT = "/status/[slug]/incidents/[incident_id]"

ADMIN = "/admin"
ADMIN_LOGIN = "/admin/login"
ADMIN_PAGES = "/admin/pages"
ADMIN_SERVICES = "/admin/services"
ADMIN_INCIDENTS = "/admin/incidents"
ADMIN_INCIDENT = "/admin/incidents/[incident_id]"
ADMIN_SUBSCRIBERS = "/admin/subscribers"
ADMIN_NOTIFICATIONS = "/admin/notifications"
ADMIN_MAILBOX = "/admin/mailbox"
ADMIN_CHANNELS = "/admin/channels"

# Served by statusapp.web (FastAPI), not by Reflex.
AUTH_LOGIN = "/auth/login"
AUTH_LOGOUT = "/auth/logout"
ADMIN_SUBSCRIBERS_CSV = "/admin/subscribers.csv"  # ?page_id=<id>: the export, streamed
# Links in subscribers' emails (GET shows a page, POST does it; the token is the credential).
SUBSCRIPTION_CONFIRM = "/subscription/confirm"
SUBSCRIPTION_MANAGE = "/subscription/manage"
SUBSCRIPTION_UNSUBSCRIBE = "/subscription/unsubscribe"  # also RFC 8058's one-click POST
HOOKS_RESEND = "/hooks/resend"  # Resend's bounce and complaint webhooks

STATUS_PREFIX = "status"
ADMIN_PREFIX = "admin"
AUTH_PREFIX = "auth"


def _text(value: Any) -> Any:
    """A path segment from a str, an int, or a Reflex Var of either."""
    if isinstance(value, str):
        return urllib.parse.quote(value, safe="")
    if isinstance(value, int):
        return str(value)
    if getattr(value, "_var_type", None) is str:  # a Reflex string Var: used as is
        return value
    return value.to_string() if hasattr(value, "to_string") else str(value)  # a number Var


# ---- builders ----------------------------------------------------------------------------
def page_path(slug: Any) -> Any:
    return f"/{STATUS_PREFIX}/" + _text(slug)


def history_path(slug: Any, page: Any = 0) -> Any:
    base = page_path(slug) + "/history"
    if isinstance(page, int) and page == 0:
        return base
    return base + "?page=" + _text(page)


def incident_path(slug: Any, incident_id: Any) -> Any:
    return page_path(slug) + "/incidents/" + _text(incident_id)


def admin_incident_path(incident_id: Any) -> Any:
    return ADMIN_INCIDENTS + "/" + _text(incident_id)


def _with_token(path: str, token: str) -> str:
    return path + "?" + urllib.parse.urlencode({"token": token})


def confirm_path(token: str) -> str:
    return _with_token(SUBSCRIPTION_CONFIRM, token)


def manage_path(token: str) -> str:
    return _with_token(SUBSCRIPTION_MANAGE, token)


def unsubscribe_path(token: str) -> str:
    return _with_token(SUBSCRIPTION_UNSUBSCRIBE, token)


def subscribers_csv_path(page_id: Any) -> Any:
    return ADMIN_SUBSCRIBERS_CSV + "?page_id=" + _text(page_id)



# ---- parsing -----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class PublicPath:
    """A public page path read back: which page (slug, or None for the host's root page),
    which view of it, and the raw incident id segment when there is one."""

    slug: str | None
    view: str  # "page" | "history" | "incident"
    incident_id: str = ""


def _segments(path: str) -> list[str]:
    path = urllib.parse.urlsplit(path or "").path
    return [urllib.parse.unquote(p) for p in path.split("/") if p]


def parse_public_path(path: str) -> PublicPath | None:
    """`/` -> root page; `/status/<slug>[/history | /incidents/<id>]`; anything else None."""
    parts = _segments(path)
    if not parts:
        return PublicPath(None, "page")
    if parts[0] != STATUS_PREFIX or len(parts) < 2 or not parts[1]:
        return None
    slug, rest = parts[1], parts[2:]
    if not rest:
        return PublicPath(slug, "page")
    if rest == ["history"]:
        return PublicPath(slug, "history")
    if len(rest) == 2 and rest[0] == "incidents":
        return PublicPath(slug, "incident", rest[1])
    return PublicPath(slug, "other")


def public_slug(path: str) -> str | None:
    """The slug of a `/status/<slug>...` path, None for the root page or any other path."""
    parsed = parse_public_path(path)
    return parsed.slug if parsed else None


def admin_incident_id(path: str) -> str:
    """The raw incident id segment of `/admin/incidents/<id>` ('' otherwise)."""
    parts = _segments(path)
    if len(parts) == 3 and parts[0] == ADMIN_PREFIX and parts[1] == "incidents":
        return parts[2]
    return ""


def normalized_path(path: str) -> str:
    """The path with repeated slashes collapsed, as routing sees it (`//admin/` is `/admin/`)."""
    return "/" + "/".join(p for p in (path or "").split("/") if p)


def is_console_path(path: str) -> bool:
    """Console and sign-in paths: they get the frame-blocking, no-store headers."""
    parts = _segments(path)
    return bool(parts) and parts[0] in (ADMIN_PREFIX, AUTH_PREFIX)
