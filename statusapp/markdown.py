"""Incident updates and postmortems are written in Markdown, as on Statuspage, and rendered
here, on the server, into HTML that is safe by construction:

- raw HTML in a message is shown as text (markdown-it with `html=False` escapes it);
- links allow only http, https and mailto (anything else, `javascript:` included, stays text);
- links open in a new tab with `rel="noopener nofollow"`;
- images are not rendered (`![x](...)` is a link at most): no tracking pixels, no
  `onerror` tricks, nothing fetched from a reader's browser.
The same function feeds the public pages, the console preview, emails and feeds.
"""

from __future__ import annotations

import functools

from markdown_it import MarkdownIt

ALLOWED_SCHEMES = ("http:", "https:", "mailto:")


def _allowed_link(url: str) -> bool:
    return url.strip().lower().startswith(ALLOWED_SCHEMES)


def _link_open(self, tokens, idx, options, env):
    tokens[idx].attrSet("rel", "noopener nofollow")
    tokens[idx].attrSet("target", "_blank")
    return self.renderToken(tokens, idx, options, env)


@functools.cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False, "breaks": True})
    md.disable(["image", "html_block", "html_inline"])
    md.validateLink = _allowed_link
    md.add_render_rule("link_open", _link_open)
    return md


def render_markdown(text: str) -> str:
    """Safe HTML for a Markdown message (see the module docstring for what "safe" means)."""
    if not text:
        return ""
    return _parser().render(text)
