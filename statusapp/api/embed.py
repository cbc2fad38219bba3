"""The script embed: `<script src="<public url>/embed.js" data-page="<slug>" async></script>` on a
customer's own site shows a small, dismissible banner while an incident (or maintenance) is
active, with a link to the status page.

The script reads the page's `summary.json` (public, CORS `*`), builds its banner with DOM calls
and `textContent` only (no `innerHTML`: incident titles are user text), remembers a dismissal
per incident update in sessionStorage, and looks again every 60 s while the tab is visible.
Without `data-page` it reads the default page (`/api/v2/summary.json`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from statusapp import routes
from statusapp.api.v2 import PlainRoute

EMBED_JS = r"""(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !me.src) return;
  var origin = new URL(me.src, location.href).origin;
  var slug = me.getAttribute("data-page");
  var base = slug ? origin + "/status/" + encodeURIComponent(slug) : origin;
  var summaryUrl = base + "/api/v2/summary.json";
  var COLORS = {none: "#4b5563", minor: "#a16207", major: "#c2410c", critical: "#b91c1c", maintenance: "#1d4ed8"};
  var banner = null;

  function el(tag, style, text) {
    var node = document.createElement(tag);
    for (var k in style) node.style[k] = style[k];
    if (text) node.textContent = text;
    return node;
  }

  function dismissedKey(item) { return "statusapp-dismissed:" + summaryUrl + ":" + item.id + ":" + item.updated_at; }

  function isDismissed(item) {
    try { return sessionStorage.getItem(dismissedKey(item)) === "1"; } catch (e) { return false; }
  }

  function remove() { if (banner && banner.parentNode) banner.parentNode.removeChild(banner); banner = null; }

  function show(item, kind, total) {
    remove();
    banner = el("div", {
      position: "fixed", left: "16px", bottom: "16px", zIndex: "2147483647", maxWidth: "420px",
      boxSizing: "border-box", padding: "12px 40px 12px 14px", borderRadius: "8px",
      background: "#ffffff", color: "#111827", boxShadow: "0 4px 16px rgba(0,0,0,.25)",
      borderLeft: "6px solid " + (COLORS[item.impact] || COLORS.minor),
      font: "14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif"
    });
    banner.setAttribute("role", "status");
    banner.setAttribute("aria-live", "polite");
    banner.className = "statusapp-embed-banner";
    var heading = kind === "maintenance" ? "Maintenance" : "Incident";
    var update = (item.incident_updates || [])[0];
    banner.appendChild(el("strong", {display: "block"}, heading + ": " + (item.name || "")));
    if (update && update.body) banner.appendChild(el("span", {display: "block", marginTop: "4px"}, update.body.slice(0, 280)));
    var link = el("a", {display: "inline-block", marginTop: "6px", color: "#1d4ed8"},
                  total > 1 ? "View status page (" + total + " active)" : "View status page");
    link.href = item.shortlink && /^https?:\/\//.test(item.shortlink) ? item.shortlink : base;
    link.target = "_blank";
    link.rel = "noopener";
    banner.appendChild(link);
    var close = el("button", {
      position: "absolute", top: "6px", right: "8px", border: "0", background: "transparent",
      color: "#374151", font: "20px/1 system-ui,sans-serif", cursor: "pointer", padding: "4px"
    }, "\u00d7");
    close.type = "button";
    close.setAttribute("aria-label", "Dismiss status message");
    close.addEventListener("click", function () {
      try { sessionStorage.setItem(dismissedKey(item), "1"); } catch (e) {}
      remove();
    });
    banner.appendChild(close);
    (document.body || document.documentElement).appendChild(banner);
  }

  function render(summary) {
    var active = [];
    (summary.incidents || []).forEach(function (i) { active.push([i, "incident"]); });
    (summary.scheduled_maintenances || []).forEach(function (m) {
      if (m.status === "in_progress" || m.status === "verifying") active.push([m, "maintenance"]);
    });
    var shown = active.filter(function (a) { return !isDismissed(a[0]); });
    if (!shown.length) { remove(); return; }
    show(shown[0][0], shown[0][1], active.length);
  }

  function check() {
    if (document.visibilityState === "hidden") return;
    fetch(summaryUrl, {credentials: "omit"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s) render(s); })
      .catch(function () {});
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", check); else check();
  setInterval(check, 60000);
})();
"""

router = APIRouter(tags=["embeds"], route_class=PlainRoute)


@router.get(routes.EMBED_SCRIPT, response_class=Response, summary="The script embed (banner on your site)",
            responses={200: {"content": {"text/javascript": {}}}})
async def embed_script(_request: Request) -> Response:
    return Response(EMBED_JS, media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"})
