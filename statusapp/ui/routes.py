"""Route constants and URL builders, so no page hard-codes another page's path."""

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

# Served by statusapp.web (FastAPI), not by Reflex.
AUTH_LOGIN = "/auth/login"
AUTH_LOGOUT = "/auth/logout"


def page_url(slug: str) -> str:
    return f"/status/{slug}"


def path_segment(path: str, index: int) -> str:
    """The `index`-th segment of a URL path ('' when absent): reads dynamic route args such as
    the slug of /status/<slug> without Reflex's deprecated router.page.params."""
    parts = [p for p in (path or "").split("?", 1)[0].split("/") if p]
    return parts[index] if 0 <= index < len(parts) else ""
