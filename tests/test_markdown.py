"""Safe Markdown: formatting works, nothing hostile becomes markup (parsed, not string-matched)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from statusapp.markdown import render_markdown

ALLOWED_TAGS = {"p", "a", "em", "strong", "code", "pre", "ul", "ol", "li", "br", "blockquote", "h1", "h2", "h3",
                "h4", "h5", "h6", "hr"}


class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse(html: str) -> list[tuple[str, dict]]:
    c = Collect()
    c.feed(html)
    return c.tags


def test_formatting_is_rendered():
    tags = parse(render_markdown("**Fixed** the _cache_.\n\n- one\n- two\n\n`code` and [docs](https://example.com/x)"))
    names = [t for t, _ in tags]
    assert {"strong", "em", "ul", "li", "code", "a"} <= set(names)
    (link,) = [a for t, a in tags if t == "a"]
    assert link == {"href": "https://example.com/x", "rel": "noopener nofollow", "target": "_blank"}


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![pixel](https://evil.example/p.png)",
        '![x](x" onerror="alert(1))',
        '<a href="https://ok.example" onclick="alert(1)">x</a>',
        "<iframe src=https://evil.example></iframe>",
        "[x](vbscript:msgbox(1))",
        '<div style="background:url(javascript:alert(1))">x</div>',
    ],
)
def test_nothing_hostile_becomes_markup(hostile):
    html = render_markdown(hostile)
    for tag, attrs in parse(html):
        assert tag in ALLOWED_TAGS, (tag, html)
        assert not [k for k in attrs if k.startswith("on") or k == "style" or k == "src"], html
        if tag == "a":
            assert attrs["href"].startswith(("http://", "https://", "mailto:")), html
            assert attrs["rel"] == "noopener nofollow"


def test_mailto_links_and_plain_line_breaks():
    html = render_markdown("Write to [support](mailto:help@example.com)\nsecond line")
    assert 'href="mailto:help@example.com"' in html and "<br" in html


def test_empty_message():
    assert render_markdown("") == ""
