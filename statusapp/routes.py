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
PUBLIC_MAINTENANCE = "/status/[slug]/maintenance/[maintenance_id]"

ADMIN = "/admin"
ADMIN_LOGIN = "/admin/login"
ADMIN_PAGES = "/admin/pages"
ADMIN_SERVICES = "/admin/services"
ADMIN_INCIDENTS = "/admin/incidents"
ADMIN_INCIDENT = "/admin/incidents/[incident_id]"
ADMIN_ACCOUNT = "/admin/account"

ADMIN_API_KEYS = "/admin/api-keys"
EMBED_PAGE = "/embed/[slug]"  # the iframe widget (a Reflex page that any site may frame)
ADMIN_SUBSCRIBERS = "/admin/subscribers"
ADMIN_NOTIFICATIONS = "/admin/notifications"
ADMIN_MAILBOX = "/admin/mailbox"
ADMIN_CHANNELS = "/admin/channels"

ADMIN_MONITORS = "/admin/monitors"
ADMIN_MONITOR = "/admin/monitors/[service_id]"

ADMIN_MAINTENANCE_LIST = "/admin/maintenance"
ADMIN_MAINTENANCE = "/admin/maintenance/[maintenance_id]"

# Served by statusapp.web (FastAPI), not by Reflex.
AUTH_LOGIN = "/auth/login"
AUTH_LOGOUT = "/auth/logout"
ADMIN_SUBSCRIBERS_CSV = "/admin/subscribers.csv"  # ?page_id=<id>: the export, streamed
# Links in subscribers' emails (GET shows a page, POST does it; the token is the credential).
SUBSCRIPTION_CONFIRM = "/subscription/confirm"
SUBSCRIPTION_MANAGE = "/subscription/manage"
SUBSCRIPTION_UNSUBSCRIBE = "/subscription/unsubscribe"  # also RFC 8058's one-click POST
HOOKS_RESEND = "/hooks/resend"  # Resend's bounce and complaint webhooks

# Served by statusapp.api (FastAPI). A page's files hang under its URL (`/status/<slug>`) and,
# for the page `/` shows (default page or custom domain), under `/` (slug None).
API_V1 = "/api/v1"
API_DOCS = "/api/docs"
API_OPENAPI = "/api/openapi.json"
API_DOCS_ASSETS = "/api/docs/assets"
EMBED_SCRIPT = "/embed.js"
V2_DOCUMENTS = (
    "summary.json",
    "status.json",
    "components.json",
    "incidents.json",
    "incidents/unresolved.json",
    "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json",
    "scheduled-maintenances/active.json",
)
PAGE_FILES = ("badge.svg", "history.atom", "history.rss", "maintenance.ics")
SERVICE_BADGE = "badge.svg"  # under <page url>/services/<id or slug>/


def page_patterns(tail: str) -> tuple[str, str]:
    """The two FastAPI patterns of a file under a page's URL: `/status/{slug}/<tail>` and `/<tail>`."""
    return f"/{STATUS_PREFIX}/{{slug}}/{tail}", f"/{tail}"

# Reflex's live socket (socket.io) is mounted here.
EVENT_PATH = "/_event"
PUSH = "/push/{token}"  # a push (heartbeat) monitor's secret URL

STATUS_PREFIX = "status"
ADMIN_PREFIX = "admin"
AUTH_PREFIX = "auth"
EMBED_PREFIX = "embed"
API_PREFIX = "api"


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


def maintenance_path(slug: Any, maintenance_id: Any) -> Any:
    return page_path(slug) + "/maintenance/" + _text(maintenance_id)


def admin_maintenance_path(maintenance_id: Any) -> Any:
    return ADMIN_MAINTENANCE_LIST + "/" + _text(maintenance_id)


def _page_base(slug: Any) -> Any:
    """A page's URL path without the trailing slash: `/status/<slug>`, or "" for `/` (slug None)."""
    return "" if slug is None else page_path(slug)


def api_v2_path(slug: Any, document: str = "summary.json") -> Any:
    return _page_base(slug) + "/api/v2/" + document


def badge_path(slug: Any, service: Any = None) -> Any:
    if service is None:
        return _page_base(slug) + "/badge.svg"
    return _page_base(slug) + "/services/" + _text(service) + "/badge.svg"


def feed_path(slug: Any, kind: str) -> Any:
    """`kind`: "atom" or "rss"."""
    return _page_base(slug) + "/history." + kind


def maintenance_calendar_path(slug: Any) -> Any:
    return _page_base(slug) + "/maintenance.ics"


def embed_path(slug: Any) -> Any:
    return f"/{EMBED_PREFIX}/" + _text(slug)


def page_origin(public_url: str, custom_domain: str = "") -> str:
    """Where a page's paths are served: its custom domain (with the public URL's scheme), or
    the public URL."""
    public_url = public_url.rstrip("/")
    if custom_domain:
        scheme = urllib.parse.urlsplit(public_url).scheme or "https"
        return f"{scheme}://{custom_domain}"
    return public_url


def page_url(public_url: str, slug: str, custom_domain: str = "") -> str:
    """The address visitors open: the custom domain's root, or `<public url>/status/<slug>`."""
    if custom_domain:
        return page_origin(public_url, custom_domain)
    return public_url.rstrip("/") + page_path(slug)


def login_path(*, error: str = "", next_path: str | None = None) -> str:
    """The sign-in page, with an error code (see ui/admin/login.py) and where to go after."""
    query = {}
    if error:
        query["error"] = error
    if next_path and safe_next(next_path):
        query["next"] = next_path
    return ADMIN_LOGIN + ("?" + urllib.parse.urlencode(query) if query else "")

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


def admin_monitor_path(service_id: Any) -> Any:
    return ADMIN_MONITORS + "/" + _text(service_id)


def push_path(token: str) -> str:
    return PUSH.replace("{token}", _text(token))


# ---- parsing -----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class PublicPath:
    """A public page path read back: which page (slug, or None for the host's root page),
    which view of it, and the raw incident (or maintenance) id segment when there is one."""

    slug: str | None
    view: str  # "page" | "history" | "incident" | "maintenance" | "api" | "file" | "other"
    incident_id: str = ""
    maintenance_id: str = ""

    @property
    def is_reflex_page(self) -> bool:
        """Whether Reflex renders it (the API, badges and feeds answer for themselves)."""
        return self.view not in ("api", "file")


def _segments(path: str) -> list[str]:
    # Query and fragment cut by hand: urlsplit would read `//admin/x` as a host named "admin".
    path = (path or "").split("?", 1)[0].split("#", 1)[0]
    return [urllib.parse.unquote(p) for p in path.split("/") if p]


def parse_public_path(path: str) -> PublicPath | None:
    """`/` -> root page; `/status/<slug>[/history | /incidents/<id> | /maintenance/<id>]`;
    anything else None."""
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
    if len(rest) == 2 and rest[0] == "maintenance":
        return PublicPath(slug, "maintenance", maintenance_id=rest[1])
    if rest[0] == API_PREFIX:
        return PublicPath(slug, "api")
    if (len(rest) == 1 and rest[0] in PAGE_FILES) or (len(rest) == 3 and rest[0] == "services" and rest[2] == SERVICE_BADGE):
        return PublicPath(slug, "file")
    return PublicPath(slug, "other")


def public_slug(path: str) -> str | None:
    """The slug of a `/status/<slug>...` path, None for the root page or any other path."""
    parsed = parse_public_path(path)
    return parsed.slug if parsed else None


def guarded_page_slug(path: str) -> str | None:
    """The slug of a path Reflex renders for one public page (`/status/<slug>...` or
    `/embed/<slug>`), for the 404 guard; None for any other path, including the API, badges
    and feeds under a page's URL, which answer their own 404 (JSON for JSON)."""
    slug = embed_slug(path)
    if slug:
        return slug
    parsed = parse_public_path(path)
    return parsed.slug if parsed and parsed.is_reflex_page else None


def embed_slug(path: str) -> str | None:
    """The slug of `/embed/<slug>`, None for any other path."""
    parts = _segments(path)
    return parts[1] if len(parts) == 2 and parts[0] == EMBED_PREFIX and parts[1] else None


def is_embed_path(path: str) -> bool:
    """The iframe widget: any site may frame it (no frame-blocking headers)."""
    return embed_slug(path) is not None


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


def admin_maintenance_id(path: str) -> str:
    """The raw maintenance id segment of `/admin/maintenance/<id>` ('' otherwise)."""
    parts = _segments(path)
    if len(parts) == 3 and parts[0] == ADMIN_PREFIX and parts[1] == "maintenance":
        return parts[2]
    return ""


def admin_monitor_service_id(path: str) -> str:
    """The raw service id segment of `/admin/monitors/<id>` ('' otherwise)."""
    parts = _segments(path)
    if len(parts) == 3 and parts[0] == ADMIN_PREFIX and parts[1] == "monitors":
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


def is_framable(path: str) -> bool:
    """Whether another site may show this path in a frame: only the embed widget
    (`/embed/<slug>`); everything else refuses framing."""
    return is_embed_path(path)


def is_open_cors_path(path: str) -> bool:
    """Read-only public documents any site may fetch (`Access-Control-Allow-Origin: *`, never
    with credentials): the v2 JSON, badges, feeds and the embed script. Everything else answers
    cross-origin requests from the public URL only."""
    parts = _segments(path)
    if parts[:2] == [API_PREFIX, "v2"] or (len(parts) == 1 and parts[0] in (*PAGE_FILES, EMBED_SCRIPT.strip("/"))):
        return True
    parsed = parse_public_path(path)
    return parsed is not None and parsed.view in ("api", "file")


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
