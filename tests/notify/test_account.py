"""Account emails (confirmation, "already subscribed"): branded, escaped, no unsubscribe footer."""

from __future__ import annotations

import pytest

from statusapp.notify.account import render_confirmation, render_manage_link
from tests.notify.factories import HOSTILE_TITLE, page


def test_confirmation_escapes_the_page_name_and_address():
    hostile = page(name=HOSTILE_TITLE, brand_color='#000000;background:url(x)')
    email = render_confirmation(hostile, confirm_url="https://status.acme.test/subscription/confirm?token=a.b&x=1",
                                kind="webhook", address='https://hooks.example.com/"><script>x()</script>', hours=48)
    assert "<script>" not in email.html and "<img src=x" not in email.html
    assert "&lt;script&gt;" in email.html
    assert 'href="https://status.acme.test/subscription/confirm?token=a.b&amp;x=1"' in email.html
    assert "url(x)" not in email.html  # a brand colour that is not #rrggbb is not used
    assert "within 48 hours" in email.text and "\n" not in email.subject
    assert "Unsubscribe" not in email.html


def test_manage_link_email_and_bad_links_refused():
    email = render_manage_link(page(), manage_url="https://status.acme.test/subscription/manage?token=t",
                               kind="email", address="ada@example.com")
    assert email.subject == "[Acme Status] You are already subscribed"
    assert "Manage subscription" in email.html
    with pytest.raises(ValueError):
        render_confirmation(page(), confirm_url="javascript:alert(1)", kind="email", address="a@example.com", hours=1)
