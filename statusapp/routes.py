"""Every URL path of the app: the patterns pages are registered on, the builders every link
uses, and the one parser that reads a path back. Nothing else splits or concatenates paths,
so a new route (an embed, the JSON API) joins here without touching three parsers.

Builders accept plain values or Reflex Vars (a link in a component is built from the Var of
a slug or an id), so the console, the public pages and the HTTP routes share them.
"""

from __future__ import annotations

import dataclasses
import re
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
ADMIN_ACCOUNT = "/admin/account"

# Served by statusapp.web (FastAPI), not by Reflex.
AUTH_LOGIN = "/auth/login"
AUTH_LOGOUT = "/auth/logout"

# Reflex's live socket (socket.io) is mounted here.
EVENT_PATH = "/_event"

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


def login_path(*, error: str = "", next_path: str | None = None) -> str:
    """The sign-in page, with an error code (see ui/admin/login.py) and where to go after."""
    query = {}
    if error:
        query["error"] = error
    if next_path and safe_next(next_path):
        query["next"] = next_path
    return ADMIN_LOGIN + ("?" + urllib.parse.urlencode(query) if query else "")


# ---- parsing -----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class PublicPath:
    """A public page path read back: which page (slug, or None for the host's root page),
    which view of it, and the raw incident id segment when there is one."""

    slug: str | None
    view: str  # "page" | "history" | "incident"
    incident_id: str = ""


def _segments(path: str) -> list[str]:
    # Query and fragment cut by hand: urlsplit would read `//admin/x` as a host named "admin".
    path = (path or "").split("?", 1)[0].split("#", 1)[0]
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


MAX_HISTORY_PAGE = 100_000  # 25,000 years of three-month pages: anything longer is not a page


def history_page_number(value: object) -> int | None:
    """The `?page=` of a history path: 0 when absent, None when it is not a page number."""
    if value is None or value == "":
        return 0
    if not isinstance(value, str) or not value.isdigit() or not value.isascii() or len(value) > 6:
        return None
    number = int(value)
    return number if number <= MAX_HISTORY_PAGE else None


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
    """Console and sign-in paths: they get the no-store, same-origin-referrer headers."""
    parts = _segments(path)
    return bool(parts) and parts[0] in (ADMIN_PREFIX, AUTH_PREFIX)


def is_event_path(path: str) -> bool:
    """The live socket's path (`/_event/...`)."""
    parts = _segments(path)
    return bool(parts) and parts[0] == EVENT_PATH.strip("/")


# Path prefixes other sites may put in a frame (the coming `/embed/<slug>` widget joins here).
FRAMABLE_PREFIXES: tuple[str, ...] = ()


def is_framable(path: str) -> bool:
    """Whether another site may show this path in a frame; everything else refuses framing."""
    parts = _segments(path)
    return bool(parts) and parts[0] in FRAMABLE_PREFIXES


# Path prefixes of read-only public JSON any site may fetch (`Access-Control-Allow-Origin: *`,
# never with credentials). Everything else answers cross-origin requests from the public URL only.
OPEN_CORS_PREFIXES: tuple[str, ...] = ()


def is_open_cors_path(path: str) -> bool:
    parts = _segments(path)
    return bool(parts) and parts[0] in OPEN_CORS_PREFIXES


_SAFE_NEXT_RE = re.compile(r"^/admin(/[A-Za-z0-9_-]+)*/?$")


def safe_next(value: object) -> str | None:
    """Where a sign-in may send the browser afterwards: a console path of plain segments
    (`/admin/incidents/12`), never another site, scheme, the sign-in page itself or anything
    with a query; None otherwise."""
    if not isinstance(value, str) or len(value) > 200 or not _SAFE_NEXT_RE.match(value):
        return None
    if _segments(value)[:2] == [ADMIN_PREFIX, "login"]:
        return None
    return value
