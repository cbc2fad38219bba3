"""Slack incoming webhooks: a Block Kit message plus the fallback `text` notifications show.

User text is escaped the way Slack asks (`&`, `<`, `>` only), so a title like `<!channel>` or
`<https://evil|click>` shows literally instead of pinging or linking; sections with user text are
`verbatim` (no auto-linking of names/URLs). Limits respected: header 150 chars, section text
3000, 10 fields of 2000, fallback text kept under 4000.

Errors: 429 / 5xx / no answer are retryable (Retry-After honoured); other 4xx (404
no_service, 410 channel_is_archived, 400 invalid_payload, 403 ...) are permanent: the webhook
is gone or the payload is wrong, and retrying cannot help.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from statusapp.notify.channels import _http
from statusapp.notify.channels.base import Channel, Recipient, SendResult
from statusapp.notify.message import Notice
from statusapp.notify.render import (
    fit_escaped,
    format_time,
    message_text,
    one_line,
    safe_url,
)

HEADER_MAX = 150
SECTION_MAX = 3000
FIELD_MAX = 2000
FIELDS_MAX = 10
FALLBACK_MAX = 3000


def escape(text: str) -> str:
    """Slack's three control characters as entities (mrkdwn and plain text alike)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    """Truncate raw text before escaping (so an entity is never cut in half)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _fit(raw: str, limit: int) -> str:
    return fit_escaped(raw, limit, escape)


def _link(url: str | None, label: str) -> str:
    """<url|label> for an http(s) URL; the label alone otherwise."""
    safe = safe_url(url)
    if safe is None:
        return escape(label)
    # `|` and `>` would end the URL part early; & < > are escaped as everywhere.
    return f"<{escape(safe).replace('|', '%7C')}|{escape(label)}>"


def build_payload(notice: Notice) -> dict[str, Any]:
    page, inc, upd = notice.page, notice.incident, notice.update
    heading = one_line(f"{notice.kind.label}: {notice.title}")
    status_bits = []
    if inc is not None:
        status_bits = [f"*Status:* {escape(inc.status_label)}", f"*Impact:* {escape(inc.impact_label)}"]
        if inc.scheduled_for is not None:
            window = format_time(inc.scheduled_for, page.time_zone)
            if inc.scheduled_until is not None:
                window += " – " + format_time(inc.scheduled_until, page.time_zone)
            status_bits.append(f"*Scheduled:* {escape(window)}")
    else:
        worst = max(notice.services, key=lambda s: s.new_status.severity)
        status_bits = [f"*Status:* {escape(worst.new_status.label)}"]

    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _fit(heading, HEADER_MAX), "emoji": False}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "   ".join(status_bits)}},
    ]
    if notice.services:
        fields = []
        for s in notice.services[:FIELDS_MAX]:
            change = s.new_status.label
            if s.changed and s.old_status is not None:
                change = f"{s.old_status.label} → {change}"
            fields.append({"type": "mrkdwn", "verbatim": True,
                           "text": f"*{_fit(one_line(s.name), 200)}*\n{escape(change)}"})
        if len(notice.services) > FIELDS_MAX:
            fields[-1]["text"] += f"\n_and {len(notice.services) - FIELDS_MAX + 1} more_"
        blocks.append({"type": "section", "fields": fields})
    if upd is not None and message_text(upd.message):
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "verbatim": True,
                                                   "text": _fit(message_text(upd.message), SECTION_MAX)}})
    when = format_time(upd.created_at if upd is not None else notice.occurred_at, page.time_zone)
    verb = "View maintenance" if notice.kind.is_maintenance else "View incident" if inc else "View status page"
    context = f"{_link(notice.url, verb)}  ·  {_link(page.url, _cut(one_line(page.name), 200))}  ·  {escape(when)}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "verbatim": True, "text": context}]})

    fallback = heading
    if upd is not None:
        fallback += " — " + one_line(upd.message)
    return {
        "text": _fit(fallback, FALLBACK_MAX),
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


class SlackChannel(Channel):
    """POSTs to one Slack incoming-webhook URL per call (the URL is the secret: never logged)."""

    name = "slack"
    max_batch = 1

    def __init__(self, client: httpx.AsyncClient, *, timeout_s: float = _http.DEFAULT_TIMEOUT_S) -> None:
        self.client = client
        self.timeout_s = timeout_s

    async def send(self, notice: Notice, recipients: Sequence[Recipient], *,
                   idempotency_key: str) -> SendResult:
        self._check_batch(recipients)
        url = recipients[0].address
        body = _http.json_body(build_payload(notice))
        response = await _http.post(self.client, url, body, {}, timeout_s=self.timeout_s)
        if not 200 <= response.status_code < 300:
            detail = one_line(response.body[:100].decode("utf-8", "replace")) if response.status_code < 500 else ""
            raise _http.http_error(response, url, permanent_4xx=True, detail=detail)
        return SendResult(ids=[None])
