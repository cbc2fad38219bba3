"""Discord webhooks: one embed (title, description, colour, fields, link) per notice.

Mentions can never ping: `allowed_mentions: {"parse": []}`, and `@everyone` / `@here` in user
text also get a zero-width space so they do not even look like mentions. User text is
backslash-escaped for Discord markdown (`*_~`|[<` anywhere, `#>-+` at a line start; URLs are
left as they are so they stay clickable), so a title cannot turn into a masked link, a
mention chip or a heading. Discord's limits are respected after escaping: title 256, description
4096, 25 fields (name 256, value 1024), footer 2048, and 6000 characters per embed in total.

Errors: 429 (Retry-After header or `retry_after` in the body) / 5xx / no answer are
retryable; other 4xx (404 unknown webhook, 401 bad token, 400 bad payload) are permanent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import httpx

from statusapp.enums import ServiceStatus
from statusapp.notify.channels import _http
from statusapp.notify.channels.base import Channel, DeliveryError, Recipient, SendResult
from statusapp.notify.message import MAINTENANCE_COLOR, Notice
from statusapp.notify.render import fit_escaped, message_text, one_line, safe_url
from statusapp.outbound import CappedResponse

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000

_INLINE = re.compile(r"([\\*_~`|\[\]<])")  # markdown anywhere; `<` starts mentions/timestamps
_LINE_START = re.compile(r"(?m)^([ \t]*)([#>+-])")  # headings, quotes, lists
_URL = re.compile(r"https?://[^\s<>]+")  # left unescaped so links stay clickable
_MENTION = re.compile(r"@(everyone|here)", re.IGNORECASE)


def escape(text: str) -> str:
    """User text made inert for Discord markdown and mentions (URLs kept as they are)."""
    out, pos = [], 0
    for m in _URL.finditer(text):
        out.append(_INLINE.sub(r"\\\1", text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_INLINE.sub(r"\\\1", text[pos:]))
    escaped = _LINE_START.sub(r"\1\\\2", "".join(out))
    return _MENTION.sub("@\u200b\\1", escaped)


def _fit(raw: str, limit: int) -> str:
    return fit_escaped(raw, limit, escape)


def _color(notice: Notice) -> int:
    inc = notice.incident
    if inc is None:
        hex_color = max(notice.services, key=lambda s: s.new_status.severity).new_status.color
    elif inc.is_closed:
        hex_color = ServiceStatus.operational.color
    elif inc.is_maintenance:
        hex_color = MAINTENANCE_COLOR
    else:
        hex_color = inc.impact_color
    return int(hex_color.lstrip("#"), 16)


def build_payload(notice: Notice) -> dict[str, Any]:
    page, inc, upd = notice.page, notice.incident, notice.update
    embed: dict[str, Any] = {
        "title": _fit(one_line(f"{notice.kind.label}: {notice.title}"), TITLE_MAX),
        "color": _color(notice),
        "timestamp": (upd.created_at if upd is not None else notice.occurred_at).isoformat(),
    }
    if (url := safe_url(notice.url)) is not None:
        embed["url"] = url
    author: dict[str, Any] = {"name": one_line(page.name)[:AUTHOR_MAX] or "Status"}  # author name is plain
    if (page_url := safe_url(page.url)) is not None:
        author["url"] = page_url
    if (logo := safe_url(page.logo_url, schemes=("https",))) is not None:
        author["icon_url"] = logo
    embed["author"] = author

    fields: list[dict[str, Any]] = []
    if inc is not None:
        fields.append({"name": "Status", "value": escape(inc.status_label), "inline": True})
        fields.append({"name": "Impact", "value": escape(inc.impact_label), "inline": True})
        if inc.scheduled_for is not None:
            # Discord renders <t:unix> in each reader's own time zone.
            window = f"<t:{int(inc.scheduled_for.timestamp())}:f>"
            if inc.scheduled_until is not None:
                window += f" – <t:{int(inc.scheduled_until.timestamp())}:f>"
            fields.append({"name": "Scheduled", "value": window, "inline": False})
    room = FIELDS_MAX - len(fields)
    for i, s in enumerate(notice.services):
        if i == room - 1 and len(notice.services) > room:
            fields.append({"name": "…", "value": f"and {len(notice.services) - i} more services", "inline": False})
            break
        change = s.new_status.label
        if s.changed and s.old_status is not None:
            change = f"{s.old_status.label} → {change}"
        fields.append({"name": _fit(one_line(s.name), FIELD_NAME_MAX) or "\u200b",
                       "value": _fit(change, FIELD_VALUE_MAX), "inline": True})
    embed["fields"] = fields

    footer = f"{one_line(page.name)} · {page.status_description}"
    embed["footer"] = {"text": footer[:FOOTER_MAX]}

    if upd is not None and message_text(upd.message):
        used = (len(embed["title"]) + len(author["name"]) + len(embed["footer"]["text"])
                + sum(len(f["name"]) + len(f["value"]) for f in fields))
        limit = min(DESCRIPTION_MAX, EMBED_TOTAL_MAX - used)
        if limit > 1:
            embed["description"] = _fit(message_text(upd.message), limit)
    return {"embeds": [embed], "allowed_mentions": {"parse": []}}


class DiscordChannel(Channel):
    """POSTs to one Discord webhook URL per call (the URL is the secret: never logged)."""

    name = "discord"
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
        if 200 <= response.status_code < 300:
            return SendResult(ids=[None])
        error = _http.http_error(response, url, permanent_4xx=True)
        if response.status_code == 429 and error.retry_after is None:
            error = DeliveryError(error.reason, retryable=True, retry_after=_body_retry_after(response),
                                  status_code=429)
        raise error


def _body_retry_after(response: CappedResponse) -> float | None:
    try:
        value = json.loads(response.body).get("retry_after")
        return max(0.0, float(value)) if value is not None else None
    except (ValueError, AttributeError, TypeError):
        return None
