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
