"""The iframe widget (`/embed/<slug>`): overall status, the services (groups as one row) and the
active incident's title with a link, for another site to frame. `?theme=light|dark|auto`
(auto follows the visitor's system) and `?compact=1` (overall status and incident only).

Live like the page: the hub pushes each rebuilt page view to the `embed-<id>` room as well,
cut down by `embed_projection` to what the widget shows (a smaller message per change).
It draws with plain elements and its own small stylesheet (no theme colours), so it looks the
same whatever colour mode the status site's own pages were last used in.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import reflex as rx

from statusapp import routes
from statusapp.live import ViewTarget, hub


@dataclasses.dataclass
class EmbedRow:
    name: str = ""
    status: str = "operational"
    status_label: str = ""
    status_color: str = ""


@dataclasses.dataclass
class EmbedView:
    found: bool = False
    name: str = ""
    slug: str = ""
    indicator: str = "none"
    status_text: str = ""
    status_color: str = ""
    rows: list[EmbedRow] = dataclasses.field(default_factory=list)
    incident_title: str = ""  # the newest active incident
    incident_id: int = 0
    active_count: int = 0


def embed_projection(view: dict[str, Any]) -> dict[str, Any]:
    """What the widget shows of a page view (a queries.public.PageView as data)."""
    if not view.get("found"):
        return dataclasses.asdict(EmbedView())
    rows = []
    for group in view["groups"]:
        named = group["name"] or (group["services"][0]["name"] if group["services"] else "")
        rows.append(dataclasses.asdict(
            EmbedRow(named, group["status"], group["status_label"], group["status_color"])
        ))
    incidents = view["incidents"]
    return {
        "found": True,
        "name": view["name"],
        "slug": view["slug"],
        "indicator": view["indicator"],
        "status_text": view["status_text"],
        "status_color": view["status_color"],
        "rows": rows,
        "incident_title": incidents[0]["title"] if incidents else "",
        "incident_id": incidents[0]["id"] if incidents else 0,
        "active_count": len(incidents),
    }


THEMES = ("light", "dark", "auto")

# A framed widget is a third-party document: browsers blocking third-party storage (Safari,
# Brave, Chrome's incognito or settings) throw on any touch of localStorage/sessionStorage,
# and Reflex's runtime reads them while rendering. Put an in-memory stand-in there first (in
# <head>, before the app's modules run); nothing changes where storage works.
STORAGE_FALLBACK_JS = """(function () {
  ["localStorage", "sessionStorage"].forEach(function (name) {
    try { window[name].getItem("statusapp"); return; } catch (e) {}
    var data = new Map();
    var store = {
      getItem: function (k) { return data.has(String(k)) ? data.get(String(k)) : null; },
      setItem: function (k, v) { data.set(String(k), String(v)); },
      removeItem: function (k) { data.delete(String(k)); },
      clear: function () { data.clear(); },
      key: function (i) { return Array.from(data.keys())[i] || null; },
      get length() { return data.size; }
    };
    try { Object.defineProperty(window, name, {value: store, configurable: true}); } catch (e) {}
  });
})();"""


def storage_fallback() -> rx.Component:
    """For the app's head_components."""
    return rx.script(STORAGE_FALLBACK_JS)


class EmbedState(rx.State):
    """A widget's view of one page; `view` reads the process cache like the page's does."""

    phase: str = "loading"  # loading | ready | missing
    theme: str = "auto"
    compact: bool = False
    _page_id: int | None = None
    _room: str = ""

    @rx.var(cache=False)
    def view(self) -> EmbedView:
        cached = hub.cached_view(self._page_id)
        if not cached:
            return EmbedView()
        data = embed_projection(cached)
        return EmbedView(**{**data, "rows": [EmbedRow(**r) for r in data["rows"]]})

    @rx.event
    async def load(self):
        params = self.router.url.query_parameters
        theme = params.get("theme", "auto")
        self.theme = theme if theme in THEMES else "auto"
        self.compact = params.get("compact", "") in ("1", "true", "yes")
        slug = routes.embed_slug(self.router.url.path)
        page_id = await hub.load_page(slug=slug, host=None) if slug else None
        sid = self.router.session.session_id
        room = EMBED_TARGET.room(page_id) if page_id is not None else ""
        if self._room and self._room != room:
            await hub.leave(sid, self._room)
        if page_id is not None:
            await hub.join_view(sid, EMBED_TARGET, page_id)
        self._room, self._page_id = room, page_id
        self.phase = "ready" if page_id is not None else "missing"


EMBED_TARGET = ViewTarget(
    state_name=EmbedState.get_full_name(), var_name="view", room_prefix="embed-", project=embed_projection
)

STYLE = """
.sa-embed{box-sizing:border-box;min-height:100vh;margin:0;padding:12px;font:14px/1.4 system-ui,-apple-system,
Segoe UI,Roboto,sans-serif;background:#fff;color:#111827}
.sa-embed a{color:#1d4ed8}
.sa-embed-dark{background:#111827;color:#f3f4f6}.sa-embed-dark a{color:#93c5fd}
@media (prefers-color-scheme:dark){.sa-embed-auto{background:#111827;color:#f3f4f6}.sa-embed-auto a{color:#93c5fd}}
.sa-banner{color:#fff;font-weight:600;padding:8px 10px;border-radius:6px;margin:0 0 8px}
.sa-row{display:flex;justify-content:space-between;gap:8px;padding:4px 0;border-bottom:1px solid rgba(127,127,127,.25)}
.sa-dot{display:inline-block;width:.7em;height:.7em;border-radius:50%;margin-right:.4em}
.sa-muted{opacity:.75;font-size:12px}
"""


def _row(row) -> rx.Component:
    return rx.el.div(
        rx.el.span(row.name),
        rx.el.span(rx.el.span(class_name="sa-dot", background_color=row.status_color, aria_hidden="true"),
                   row.status_label),
        class_name="sa-row",
        data_status=row.status,
    )


def _incident(view) -> rx.Component:
    return rx.cond(
        view.incident_title != "",
        rx.el.p(
            "Incident: ",
            rx.el.a(view.incident_title, href=routes.incident_path(view.slug, view.incident_id),
                    target="_blank", rel="noopener", id="embed-incident"),
            rx.cond(view.active_count > 1, rx.el.span(" (", view.active_count.to_string(), " active)")),
            margin="0 0 8px",
        ),
    )


def _body(view) -> rx.Component:
    return rx.el.div(
        rx.el.div(view.status_text, class_name="sa-banner", background_color=view.status_color, role="status",
                  aria_live="polite", id="embed-status"),
        _incident(view),
        rx.cond(EmbedState.compact, rx.fragment(), rx.el.div(rx.foreach(view.rows, _row), id="embed-services")),
        rx.el.p(
            rx.el.a(view.name + " status page", href=routes.page_path(view.slug), target="_blank", rel="noopener"),
            class_name="sa-muted",
            margin="8px 0 0",
        ),
    )


def embed_page() -> rx.Component:
    view = EmbedState.view
    return rx.el.div(
        rx.el.style(STYLE),
        rx.match(
            EmbedState.phase,
            ("missing", rx.el.p("No public status page here.", id="not-found")),
            ("ready", rx.cond(view.found, _body(view), rx.el.p("No public status page here.", id="not-found"))),
            rx.el.p("Loading status…", class_name="sa-muted"),
        ),
        class_name="sa-embed sa-embed-" + EmbedState.theme,
    )
