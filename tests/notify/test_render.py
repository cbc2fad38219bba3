"""Email rendering: branding, content, and above all that no user text can become markup."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from statusapp.notify.render import (
    DEFAULT_BRAND_COLOR,
    brand_color,
    format_time,
    message_html,
    render_email,
    safe_url,
)
from tests.notify.factories import (
    HOSTILE_MESSAGE,
    HOSTILE_SERVICE,
    HOSTILE_TITLE,
    HOSTILE_URL,
    T0,
    incident_notice,
    maintenance_notice,
    status_change_notice,
)

MANAGE = "https://status.acme.test/subscription?t=abc&view=1"
UNSUB = "https://status.acme.test/unsubscribe?t=abc"
ALLOWED_TAGS = {"html", "head", "meta", "title", "body", "div", "table", "tr", "td", "p", "span", "h1", "h2",
                "a", "img", "br", "strong"}


class _Audit(HTMLParser):
    """Collects every tag, attribute and text node as a browser/email client would parse them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v) for k, v in attrs]

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def audit(html: str) -> _Audit:
    a = _Audit()
    a.feed(html)
    a.close()
    return a


def hostile():
    return incident_notice(title=HOSTILE_TITLE, message=HOSTILE_MESSAGE, service_name=HOSTILE_SERVICE,
                           incident_url=HOSTILE_URL,
                           page_kw=dict(name='Acme <b>"Status"</b>', url="javascript:alert(7)",
                                        logo_url='https://x.test/l.png" onerror="alert(8)',
                                        brand_color="red;background:url(javascript:alert(9))"))


def test_hostile_text_is_escaped_in_html():
    subject, html, text = render_email(hostile(), manage_url=MANAGE, unsubscribe_url=UNSUB)
    a = audit(html)
    assert set(a.tags) <= ALLOWED_TAGS, set(a.tags) - ALLOWED_TAGS
    assert "script" not in a.tags and "svg" not in a.tags and a.tags.count("img") == 0  # bad logo dropped
    assert not [x for x in a.attrs if x[1].startswith("on")], "event handler attribute injected"
    for tag, name, value in a.attrs:
        if name in ("href", "src"):
            assert value and value.startswith("https://"), (tag, name, value)
        if name == "style":
            assert "javascript" not in (value or "") and "url(" not in (value or "")
    body = " ".join(a.text)
    # The hostile strings arrive as visible text, exactly as typed.
    assert HOSTILE_TITLE in body
    assert '<svg onload=alert(5)> API "quoted" & \'single\'' in body
    assert "<script>steal()</script>" in body and "{{ config }}" in body
    assert "<script" not in html and "<svg" not in html and "<b>" not in html
    assert DEFAULT_BRAND_COLOR in html


def test_hostile_text_is_harmless_in_plain_text_and_subject():
    notice = hostile()
    notice.incident.title = "Outage\r\nBcc: victim@example.com\x00"
    subject, html, text = render_email(notice, manage_url=MANAGE, unsubscribe_url=UNSUB)
    assert "\n" not in subject and "\r" not in subject and "\x00" not in subject
    assert subject.startswith("[Acme <b>\"Status\"</b>] Incident update: Outage Bcc:")
    assert "javascript:alert(6)" not in text  # unsafe incident URL is not offered as a link
    assert "javascript:alert(6)" not in html
    assert "<script>steal()</script>" in text  # plain text stays literal (no markup interpretation)
    assert "&lt;" not in text and "&amp;" not in text


def test_branding_status_services_update_and_links():
    subject, html, text = render_email(incident_notice(), manage_url=MANAGE, unsubscribe_url=UNSUB)
    assert subject == "[Acme Status] Incident update: API errors"
    assert 'bgcolor="#0a7cff"' in html and 'src="https://status.acme.test/logo.png"' in html
    assert "Identified" in html and "Major impact" in html
    assert "Operational &rarr;" in html and "Partial outage" in html
    assert "We are investigating elevated error rates.<br>\nMore soon." in html
    assert "16 Mar 2026, 14:05 CET" in html  # the page's time zone (Europe/Berlin)
    assert 'href="https://status.acme.test/incidents/in1"' in html
    assert 'href="https://status.acme.test/subscription?t=abc&amp;view=1"' in html
    assert f'href="{UNSUB}"' in html
    for needle in ("API errors", "Status: Identified", "Impact: Major", "- API: Operational -> Partial outage",
                   "We are investigating elevated error rates.\nMore soon.",
                   "Details: https://status.acme.test/incidents/in1", f"Unsubscribe: {UNSUB}",
                   f"Manage your subscription: {MANAGE}"):
        assert needle in text, needle


def test_no_logo_shows_page_name_and_bad_zone_falls_back_to_utc():
    notice = incident_notice(page_kw=dict(logo_url=None, time_zone="Mars/Olympus", brand_color="#FFFFFF"))
    _, html, _ = render_email(notice, manage_url=MANAGE, unsubscribe_url=UNSUB)
    assert "<img" not in html and ">Acme Status</span>" in html
    assert "16 Mar 2026, 13:05 UTC" in html
    assert 'bgcolor="#ffffff"' in html and "color:#111827;\">Acme Status" in html  # dark text on white


def test_maintenance_and_status_change_render():
    _, html, text = render_email(maintenance_notice(), manage_url=MANAGE, unsubscribe_url=UNSUB)
    assert "Scheduled: 17 Mar 2026, 14:05 CET – 17 Mar 2026, 16:05 CET" in text
    assert "View maintenance" in html and "Under maintenance" in html
    subject, html, text = render_email(status_change_notice("API"), manage_url=MANAGE, unsubscribe_url=UNSUB)
    assert subject == "[Acme Status] Status change: API: Major outage"
    assert "View status page" in html and "Update:" not in text


@pytest.mark.parametrize("url", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
                                 "java\tscript:alert(1)", "data:text/html,<script>", "//evil.test/x",
                                 "https://x.test/\"onmouseover=alert(1)", "https://x.test/a b", "", None,
                                 "https://x.test/<x>", "vbscript:msgbox(1)"])
def test_unsafe_urls_are_refused(url):
    assert safe_url(url) is None


def test_safe_urls_pass_and_unsafe_recipient_links_raise():
    assert safe_url("https://status.acme.test/u?t=1&x=2") == "https://status.acme.test/u?t=1&x=2"
    assert safe_url("mailto:u@x.test", schemes=("mailto",)) == "mailto:u@x.test"
    with pytest.raises(ValueError):
        render_email(incident_notice(), manage_url=MANAGE, unsubscribe_url="javascript:alert(1)")


@pytest.mark.parametrize("value,expected", [("#0A7CFF", "#0a7cff"), ("#abc", DEFAULT_BRAND_COLOR),
                                            ("red", DEFAULT_BRAND_COLOR), ("#0a7cff;x:y", DEFAULT_BRAND_COLOR),
                                            ("#0a7cff\n", DEFAULT_BRAND_COLOR), (None, DEFAULT_BRAND_COLOR)])
def test_brand_color_validation(value, expected):
    assert brand_color(value) == expected


def test_message_html_keeps_paragraphs_and_line_breaks():
    assert message_html("a\r\nb\n\n\nc <d>") == ('<p style="margin:0 0 12px 0;">a<br>\nb</p>\n'
                                                  '<p style="margin:0 0 12px 0;">c &lt;d&gt;</p>')


def test_format_time():
    assert format_time(T0, "America/New_York") == "16 Mar 2026, 09:05 EDT"
