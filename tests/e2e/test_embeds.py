"""The page as a platform, against the real app: the iframe widget and the script banner on a
host page of another origin, the JSON API and badges through the real server, the console's
API keys and embed snippets."""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from statusapp.domain import Actor, pages, services
from statusapp.domain.apikeys import create_api_key
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 20_000


@contextlib.contextmanager
def host_site(html: str) -> Iterator[str]:
    """A customer's site: `html` served at / by a second loopback server (another origin)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        # "localhost" vs the app's "127.0.0.1": a different origin (and site) for the browser.
        yield f"http://localhost:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def embed_page(app_db_url) -> tuple[str, str, int]:
    """A fresh public page (slug, API key, service id) so other tests' incidents don't show."""
    actor = Actor(1)
    slug = f"embed-{uuid.uuid4().hex[:6]}"
    svc = services.create_service(actor=actor, name=f"Checkout {slug}", slug=f"checkout-{slug}")
    pages.create_page(actor=actor, name=f"Shop {slug}", slug=slug, service_ids=[svc.id])
    return slug, create_api_key(actor=actor, name="e2e").token, svc.id


def api(app_server, method: str, path: str, token: str, **kw) -> httpx.Response:
    r = httpx.request(method, app_server.url + "/api/v1" + path, headers={"Authorization": f"Bearer {token}"},
                      timeout=20, **kw)
    assert r.status_code < 300, r.text
    return r


def test_widget_and_script_banner_on_another_origin_follow_changes_live(app_server, browser, embed_page):
    slug, token, service_id = embed_page
    title = f"Card payments failing <b>{uuid.uuid4().hex[:4]}</b>"
    inc = api(app_server, "POST", "/incidents", token, json={
        "title": title, "impact": "major", "message": "Investigating <i>now</i>.",
        "services": [{"id": str(service_id), "status": "partial_outage"}]}).json()
    html = f"""<!doctype html><html><head><title>Customer site</title></head><body>
<h1>Welcome to the shop</h1>
<iframe id="widget" src="{app_server.url}/embed/{slug}?theme=dark" title="Status" width="360" height="260"></iframe>
<script src="{app_server.url}/embed.js" data-page="{slug}" async></script>
</body></html>"""
    with host_site(html) as url:
        ctx = browser.new_context()
        page = ctx.new_page()
        page.goto(url)
        # The script embed: a banner with the incident's title as text, a link, a dismiss button.
        banner = page.locator(".statusapp-embed-banner")
        banner.wait_for(timeout=TIMEOUT_MS)
        assert title in banner.inner_text() and page.locator(".statusapp-embed-banner b").count() == 0
        assert banner.get_by_role("link").get_attribute("href").endswith(f"/status/{slug}/incidents/{inc['id']}")
        # The widget: framed from another origin, dark theme, status in words.
        frame = page.frame_locator("#widget")
        frame.locator("#embed-status").wait_for(timeout=TIMEOUT_MS)
        assert frame.locator("#embed-status").inner_text() == "Partial System Outage"
        assert frame.locator("#embed-incident").inner_text() == title
        assert frame.locator(".sa-embed-dark").count() == 1
        assert "Partial outage" in frame.locator("#embed-services").inner_text()
        page.evaluate("window.__not_reloaded = true")

        # Resolved through the API (so through the server): the widget follows without reload.
        started = time.monotonic()
        api(app_server, "POST", f"/incidents/{inc['id']}/resolve", token, json={})
        frame.locator("#embed-status", has_text="All Systems Operational").wait_for(timeout=TIMEOUT_MS)
        print(f"\nwidget showed the resolution {1000 * (time.monotonic() - started):.0f} ms after the API call")
        assert frame.locator("#embed-incident").count() == 0
        assert page.evaluate("window.__not_reloaded") is True

        # Dismissed banners stay dismissed for that update; no banner once nothing is active.
        page.get_by_role("button", name="Dismiss status message").click()
        assert banner.count() == 0
        page.reload()
        page.wait_for_timeout(1500)
        assert page.locator(".statusapp-embed-banner").count() == 0
        ctx.close()


def test_widget_compact_light_and_first_load_size(app_server, browser, embed_page):
    slug, _token, _sid = embed_page
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(f"{app_server.url}/embed/{slug}?compact=1&theme=light")
    page.locator("#embed-status", has_text="All Systems Operational").wait_for(timeout=TIMEOUT_MS)
    assert page.locator("#embed-services").count() == 0 and page.locator(".sa-embed-light").count() == 1
    page.wait_for_load_state("networkidle")
    transferred = page.evaluate("""() => {
        const nav = performance.getEntriesByType('navigation')[0];
        return [nav.transferSize, ...performance.getEntriesByType('resource').map(r => r.transferSize)]
               .reduce((a, b) => a + b, 0);
    }""")
    print(f"\nwidget first load: {transferred / 1024:.0f} KiB transferred (HTML + scripts + styles)")
    assert transferred > 0
    ctx.close()


def test_http_api_through_the_real_server(app_server, embed_page):
    slug, token, service_id = embed_page
    base = app_server.url
    r = httpx.get(f"{base}/status/{slug}/api/v2/summary.json", timeout=10)
    assert r.status_code == 200 and r.json()["page"]["name"].startswith("Shop")
    assert r.headers["access-control-allow-origin"] == "*"
    assert httpx.get(f"{base}/status/{slug}/api/v2/summary.json", headers={"If-None-Match": r.headers["etag"]},
                     timeout=10).status_code == 304
    missing = httpx.get(f"{base}/status/no-such-{slug}/api/v2/summary.json", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    assert httpx.get(f"{base}/embed/no-such-{slug}", timeout=10).status_code == 404
    badge = httpx.get(f"{base}/status/{slug}/services/{service_id}/badge.svg", timeout=10)
    assert badge.status_code == 200 and badge.text.startswith("<svg")
    # The widget may be framed by any site; the console may not.
    embed = httpx.get(f"{base}/embed/{slug}", timeout=10)
    assert embed.status_code == 200 and "x-frame-options" not in embed.headers
    assert "frame-ancestors" not in embed.headers.get("content-security-policy", "")
    assert httpx.get(f"{base}/admin/login/", timeout=10).headers["x-frame-options"] == "DENY"
    assert httpx.get(f"{base}/api/v1/services", timeout=10).status_code == 401
    assert any(s["id"] == str(service_id) for s in api(app_server, "GET", "/services", token).json())
    assert httpx.get(f"{base}/api/docs", timeout=10).status_code == 200


def test_console_creates_and_revokes_keys_and_shows_embed_snippets(app_server, app_db_url, browser, embed_page):
    slug, _token, _sid = embed_page
    page = browser.new_context().new_page()
    login(page, app_server.url)
    page.wait_for_selector("text=Open incidents", timeout=TIMEOUT_MS)
    page.goto(app_server.url + "/admin/api-keys")
    name = f"bot {uuid.uuid4().hex[:6]}"
    page.fill("#api-key-name", name)
    page.click("#create-api-key")
    page.wait_for_selector("#new-api-key", timeout=TIMEOUT_MS)
    token = page.inner_text("#new-api-key").strip()
    assert token.startswith("sa_")
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(app_server.url + "/api/v1/status-pages", headers=headers, timeout=10).status_code == 200
    row = page.locator(".api-key", has_text=name)
    row.get_by_role("button", name="Revoke").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Revoke").click()
    row.get_by_text("Revoked").wait_for(timeout=TIMEOUT_MS)
    assert httpx.get(app_server.url + "/api/v1/status-pages", headers=headers, timeout=10).status_code == 401
    page.reload()
    page.locator(".api-key", has_text=name).wait_for(timeout=TIMEOUT_MS)
    assert page.locator("#new-api-key").count() == 0  # shown once

    page.goto(app_server.url + "/admin/pages")
    page.locator("tr", has_text=f"/status/{slug}").get_by_role("button", name="Edit").click()
    section = page.locator("#embed-and-share")
    section.wait_for(timeout=TIMEOUT_MS)
    snippets = section.locator(".embed-snippet").all_inner_texts()
    assert any(f"/embed/{slug}" in s and "<iframe" in s for s in snippets)
    assert any(f'data-page="{slug}"' in s for s in snippets)
    preview = page.frame_locator("#embed-preview")
    preview.locator("#embed-status").wait_for(timeout=TIMEOUT_MS)
    page.context.close()
