"""Hostile incident text, through the domain layer and through the console: it renders as safe
Markdown and nothing executes or becomes an element (asserted on the DOM in Chromium)."""

from __future__ import annotations

import uuid

import pytest

from statusapp.domain import Actor
from statusapp.domain import incidents as incident_ops
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 20_000

HOSTILE = "\n\n".join([
    "**Bold** and _soft_ and `code` and [docs](https://example.com/docs)",
    "<script>window.__xss = 'script'</script>",
    '<img src=x onerror="window.__xss = \'img\'">',
    "[click me](javascript:window.__xss='link')",
    "![pixel](x\" onerror=\"window.__xss='md-image')",
    '<a href="https://ok.example" onmouseover="window.__xss=\'attr\'">hover</a>',
    "<iframe src=\"javascript:window.__xss='frame'\"></iframe>",
    "[data](data:text/html,<script>window.__xss='data'</script>)",
])

# Everything under these roots must be harmless: only formatting elements, http(s)/mailto links.
CHECK_DOM = """(selector) => {
  const allowed = new Set(["P","A","EM","STRONG","CODE","PRE","UL","OL","LI","BR","BLOCKQUOTE","H1","H2","H3",
                           "H4","H5","H6","HR"]);
  const bad = [];
  for (const root of document.querySelectorAll(selector)) {
    for (const el of root.querySelectorAll("*")) {
      if (!allowed.has(el.tagName)) bad.push("element " + el.tagName);
      for (const a of el.attributes) {
        if (a.name.startsWith("on") || a.name === "style" || a.name === "src") bad.push("attribute " + a.name);
      }
      if (el.tagName === "A" && !/^(https?:|mailto:)/.test(el.getAttribute("href") || "")) bad.push("href " + el.getAttribute("href"));
      if (el.tagName === "A" && el.getAttribute("rel") !== "noopener nofollow") bad.push("rel " + el.getAttribute("rel"));
    }
  }
  return bad;
}"""


def _assert_harmless(page, selector: str) -> None:
    page.locator(f"{selector} strong", has_text="Bold").first.wait_for(timeout=TIMEOUT_MS)  # Markdown works
    page.locator(selector).first.hover()  # an onmouseover that became markup would fire
    assert page.evaluate(CHECK_DOM, selector) == []
    assert page.evaluate("window.__xss") is None
    assert page.locator(f"{selector} >> text=<script>window.__xss").count() >= 1  # raw HTML shown as text


def test_hostile_markdown_from_the_domain_layer_on_the_public_page(app_server, app_db_url, browser):
    inc = incident_ops.create_incident(actor=Actor(1), title=f"Hostile {uuid.uuid4().hex[:6]}", impact="minor",
                                       message=HOSTILE)
    incident_ops.resolve_incident(actor=Actor(1), incident_id=inc.id, message="Resolved.")
    incident_ops.write_postmortem(actor=Actor(1), incident_id=inc.id, text=HOSTILE)
    page = browser.new_context().new_page()
    page.goto(app_server.url + f"/status/demo/incidents/{inc.id}")
    _assert_harmless(page, ".incident-update .markdown")
    _assert_harmless(page, "#postmortem .markdown")
    page.context.close()


def test_hostile_markdown_typed_in_the_console(app_server, app_db_url, browser):
    admin = browser.new_context().new_page()
    login(admin, app_server.url)
    admin.wait_for_selector("text=Open incidents", timeout=TIMEOUT_MS)
    admin.goto(app_server.url + "/admin/incidents")
    admin.wait_for_selector("#incident-title", timeout=TIMEOUT_MS)
    title = f"Console hostile {uuid.uuid4().hex[:6]}"
    admin.fill("#incident-title", title)
    admin.fill("#incident-message", HOSTILE)
    _assert_harmless(admin, ".markdown-preview .markdown")  # the preview
    admin.click("#declare-incident")
    admin.wait_for_selector("#incident-heading", timeout=TIMEOUT_MS)
    _assert_harmless(admin, ".markdown")  # the console's timeline
    visitor = browser.new_context().new_page()
    visitor.goto(app_server.url + "/status/demo")
    visitor.wait_for_selector(f"text={title}", timeout=TIMEOUT_MS)
    _assert_harmless(visitor, ".incident-update .markdown")
    admin.click("#resolve")
    admin.wait_for_selector("text=Incident resolved.", timeout=TIMEOUT_MS)
    for page in (admin, visitor):
        page.context.close()
