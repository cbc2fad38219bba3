"""The "Embed and share" section of a saved page in the console: copy-paste snippets for the
iframe widget, the script banner, badges, the JSON API and feeds, and a live widget preview."""

from __future__ import annotations

import html

import reflex as rx

from statusapp import routes
from statusapp.ui.components import card


def embed_snippets(public_url: str, slug: str, name: str) -> list[list[str]]:
    """[label, text] pairs to copy for the page at `slug`."""
    base = public_url.rstrip("/")
    title = html.escape(name + " status", quote=True)
    return [
        ["Widget (iframe)", f'<iframe src="{base}{routes.embed_path(slug)}" title="{title}" '
                            'width="360" height="240" style="border:0" loading="lazy"></iframe>'],
        ["Widget options", "Add ?theme=light, ?theme=dark (default: auto) and/or ?compact=1 to the iframe's src."],
        ["Banner on your site (script)", f'<script src="{base}{routes.EMBED_SCRIPT}" data-page="{slug}" async></script>'],
        ["Status badge (Markdown)", f"![status]({base}{routes.badge_path(slug)})"],
        ["Service badge", f"{base}{routes.page_path(slug)}/services/<service id or slug>/badge.svg "
                          "(add ?metric=uptime for the 90-day uptime)"],
        ["JSON (Statuspage v2)", f"{base}{routes.api_v2_path(slug, 'summary.json')}"],
        ["Feeds", f"{base}{routes.feed_path(slug, 'atom')}  {base}{routes.feed_path(slug, 'rss')}  "
                  f"{base}{routes.maintenance_calendar_path(slug)}"],
    ]


def snippet(pair) -> rx.Component:
    return rx.vstack(
        rx.text(pair[0], size="2", weight="medium"),
        rx.code(pair[1], style={"white-space": "pre-wrap", "word-break": "break-all"}, class_name="embed-snippet"),
        spacing="1",
        width="100%",
    )


def embed_section(saved_slug, snippets) -> rx.Component:
    """Shown for a saved page: `saved_slug` and `snippets` are the editing state's Vars."""
    return rx.cond(
        saved_slug != "",
        card(
            rx.vstack(
                rx.heading("Embed and share", size="4"),
                rx.grid(
                    rx.vstack(rx.foreach(snippets, snippet), width="100%", spacing="3"),
                    rx.vstack(
                        rx.text("Widget preview", size="2", weight="medium"),
                        rx.el.iframe(src=routes.embed_path(saved_slug), title="Widget preview", width="360",
                                     height="240", style={"border": "1px solid var(--gray-6)", "border-radius": "6px"},
                                     id="embed-preview"),
                    ),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="5",
                    width="100%",
                ),
                width="100%",
            ),
            id="embed-and-share",
        ),
    )
