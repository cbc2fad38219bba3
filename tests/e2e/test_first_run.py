"""A fresh install without the demo (STATUSAPP_DEMO=0): empty lists say what to do next, the
dashboard offers a first-run path, and each change confirms itself (or says why it failed)."""

from __future__ import annotations

import contextlib

import pytest

from tests.e2e.conftest import login
from tests.support.appserver import AppServer

pytestmark = pytest.mark.e2e
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def empty_app(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("e2e-empty")
    server = AppServer(database_url=f"sqlite:///{data_dir / 'empty.db'}", data_dir=data_dir, demo=False)
    with contextlib.ExitStack() as stack:
        server.start()
        stack.callback(server.stop)
        yield server


def test_empty_install_guides_the_first_hour(empty_app, browser):
    page = browser.new_context().new_page()
    login(page, empty_app.url)
    page.wait_for_selector("#first-run", timeout=TIMEOUT_MS)
    assert "Add your services" in page.inner_text("#first-run")
    assert "No open incidents." in page.inner_text("#no-open-incidents")
    assert page.get_by_role("link", name="Declare an incident").count() >= 1
    page.click("text=Add your services")
    page.wait_for_selector("text=No services yet.", timeout=TIMEOUT_MS)
    # A failure says why, in a toast and by the field; nothing is saved.
    page.fill("#service-name", "API")
    page.fill("#service-slug", "Not A Slug")
    page.click("#save-service")
    page.wait_for_selector(".console-toast[role='alert'] >> text=Not saved", timeout=TIMEOUT_MS)
    page.locator(".field-error[data-field='slug']").wait_for(timeout=TIMEOUT_MS)
    # A change confirms itself.
    page.fill("#service-slug", "api")
    page.click("#save-service")
    page.wait_for_selector(".console-toast[role='status'] >> text=Service added.", timeout=TIMEOUT_MS)
    page.wait_for_selector("text=No services yet.", state="detached", timeout=TIMEOUT_MS)
    page.goto(empty_app.url + "/admin/pages")
    page.wait_for_selector("text=No status page yet.", timeout=TIMEOUT_MS)
    page.goto(empty_app.url + "/admin/incidents")
    page.wait_for_selector("text=No incidents yet.", timeout=TIMEOUT_MS)
    page.context.close()
