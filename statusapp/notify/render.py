"""Email rendering of a Notice: subject, HTML part and plain-text part, in the page's branding.

Every piece of user text (titles, messages, service and page names, URLs) is escaped where it is
inserted; URLs are linked only when they are http(s) (or mailto for unsubscribe), and the brand
colour is used only when it is a plain `#rrggbb`. The HTML is email-client friendly: nested
tables, inline styles, no scripts, no external CSS.

`render_email_template(notice)` renders the part shared by every recipient once; `.fill(...)`
adds the per-recipient footer (manage / unsubscribe links), so a 100-email batch renders once.
Incident messages go through `message_html` / `message_text` only: swap in a safe Markdown
renderer there.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from statusapp.enums import IncidentStatus, MaintenanceStatus, ServiceStatus
from statusapp.notify.message import (
    MAINTENANCE_COLOR,
    MAINTENANCE_IMPACT,
    Notice,
)

DEFAULT_BRAND_COLOR = "#1f2937"
SUBJECT_MAX = 200
_HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
_MUTED = "#4b5563"
_NOT_IN_URLS = frozenset('<>"`\\')  # never valid unencoded in a URL (RFC 3986); they break headers


class RenderedEmail(NamedTuple):
    subject: str
    html: str
    text: str


# --------------------------------------------------------------------------- safe values


def brand_color(value: str | None) -> str:
    """`value` if it is exactly #rrggbb (safe in a style attribute), else the default."""
    if value and _HEX_COLOR.fullmatch(value):
        return value.lower()
    return DEFAULT_BRAND_COLOR


def text_color_on(background: str) -> str:
    """White or near-black, whichever reads better on `background` (#rrggbb)."""
    r, g, b = (int(background[i:i + 2], 16) / 255 for i in (1, 3, 5))

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    lum = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    return "#ffffff" if (1.05 / (lum + 0.05)) >= ((lum + 0.05) / 0.05) else "#111827"


def safe_url(url: str | None, *, schemes: tuple[str, ...] = ("https", "http")) -> str | None:
    """The URL if it is absolute with an allowed scheme and no whitespace/control chars, else None.

    The result still has to be escaped where it is inserted (it may contain & or quotes).
    """
    if not url or not isinstance(url, str):
        return None
    url = url.strip()
    if url.isascii():  # the usual case, checked at C speed (a fan-out checks 200,000 links)
        if not url.isprintable() or " " in url or not _NOT_IN_URLS.isdisjoint(url):
            return None
    elif any(ch.isspace() or ch in _NOT_IN_URLS or unicodedata.category(ch)[0] == "C" for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in schemes:
        return None
    if parts.scheme.lower() == "mailto":
        return url if "@" in parts.path else None
    return url if parts.netloc else None


def one_line(text: str, limit: int | None = None) -> str:
    """Control characters and line breaks collapsed to single spaces (for subjects, headers)."""
    cleaned = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    cleaned = " ".join(cleaned.split())
    if limit is not None and len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned


def fit_escaped(raw: str, limit: int, escape: Callable[[str], str]) -> str:
    """`escape(raw)` within `limit` characters: the raw text is cut (ending in "…") before escaping,
    so an escape sequence is never cut in half and escaping still sees whole words."""
    out = escape(raw)
    if len(out) <= limit:
        return out
    lo, hi = 0, min(len(raw), limit)  # the longest raw prefix whose escaped form fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(escape(raw[:mid].rstrip())) + 1 <= limit:
            lo = mid
        else:
            hi = mid - 1
    return (escape(raw[:lo].rstrip()) + "…") if limit >= 1 else ""


def _clean_multiline(text: str) -> str:
    """Newlines normalised, other control characters removed, trailing spaces trimmed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def message_html(text: str) -> str:
    """An update's message as safe HTML: escaped, paragraphs on blank lines, <br> on line breaks.

    The single place to swap in a (sanitising) Markdown renderer later.
    """
    paragraphs = re.split(r"\n\s*\n", _clean_multiline(text))
    out = []
    for para in paragraphs:
        if not para.strip():
            continue
        body = "<br>\n".join(html.escape(line, quote=True) for line in para.split("\n"))
        out.append(f'<p style="margin:0 0 12px 0;">{body}</p>')
    return "\n".join(out)


def message_text(text: str) -> str:
    """An update's message for the plain-text part."""
    return _clean_multiline(text)


def format_time(value: datetime, time_zone: str) -> str:
    """e.g. "16 Mar 2026, 14:05 CET" in the page's time zone (UTC when the zone is unknown)."""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        zone = ZoneInfo("UTC")
    local = value.astimezone(zone)
    return f"{local.day} {local:%b %Y, %H:%M} {local.tzname() or ''}".rstrip()


def _e(text: str) -> str:
    return html.escape(text, quote=True)


# --------------------------------------------------------------------------- the email


def subject_for(notice: Notice) -> str:
    return one_line(f"[{notice.page.name}] {notice.kind.label}: {notice.title}", SUBJECT_MAX)


def _badge(label: str, color: str) -> str:
    # color comes from our enums (constant #rrggbb values), never from user input.
    return (f'<span style="display:inline-block;background:{color};color:#ffffff;font-size:12px;'
            f'font-weight:600;line-height:18px;padding:2px 8px;border-radius:4px;">{_e(label)}</span>')


def _status_color(notice: Notice) -> str:
    inc = notice.incident
    if inc is None:
        return max(notice.services, key=lambda s: s.new_status.severity).new_status.color
    if inc.is_closed:
        return ServiceStatus.operational.color
    if inc.is_maintenance:
        return MAINTENANCE_COLOR
    return inc.impact_color


def _summary_lines(notice: Notice) -> list[tuple[str, str]]:
    """(label, value) pairs shown under the title, in plain text."""
    inc, tz = notice.incident, notice.page.time_zone
    rows: list[tuple[str, str]] = []
    if inc is not None:
        rows.append(("Status", inc.status_label))
        rows.append(("Impact", inc.impact_label))
        if inc.scheduled_for is not None:
            window = format_time(inc.scheduled_for, tz)
            if inc.scheduled_until is not None:
                window += " – " + format_time(inc.scheduled_until, tz)
            rows.append(("Scheduled", window))
    else:
        worst = max(notice.services, key=lambda s: s.new_status.severity)
        rows.append(("Status", worst.new_status.label))
    return rows


@dataclass(frozen=True)
class EmailTemplate:
    """The recipient-independent part of a rendered notice; `fill` adds a recipient's links."""

    subject: str
    html_head: str
    text_head: str
    page_name: str

    def fill(self, *, manage_url: str, unsubscribe_url: str) -> RenderedEmail:
        manage = safe_url(manage_url)
        unsubscribe = safe_url(unsubscribe_url)
        if manage is None or unsubscribe is None:
            raise ValueError("manage_url and unsubscribe_url must be absolute http(s) URLs")
        page = _e(self.page_name)
        link = "color:#4b5563;text-decoration:underline;"
        footer_html = (
            f'<tr><td style="padding:16px 24px 24px 24px;border-top:1px solid #e5e7eb;font-family:{_FONT};'
            f'font-size:12px;line-height:18px;color:{_MUTED};">'
            f"You are receiving this email because you subscribed to status updates from {page}.<br>"
            f'<a href="{_e(manage)}" style="{link}">Manage your subscription</a>'
            f" &nbsp;&middot;&nbsp; "
            f'<a href="{_e(unsubscribe)}" style="{link}">Unsubscribe</a>'
            "</td></tr>\n</table>\n</td></tr></table>\n</body>\n</html>\n"
        )
        footer_text = (
            "\n\n-- \n"
            f"You are receiving this email because you subscribed to status updates from "
            f"{one_line(self.page_name)}.\n"
            f"Manage your subscription: {manage}\n"
            f"Unsubscribe: {unsubscribe}\n"
        )
        return RenderedEmail(self.subject, self.html_head + footer_html, self.text_head + footer_text)


def render_email(notice: Notice, *, manage_url: str, unsubscribe_url: str) -> RenderedEmail:
    """(subject, html, text) for one recipient."""
    return render_email_template(notice).fill(manage_url=manage_url, unsubscribe_url=unsubscribe_url)


def render_email_template(notice: Notice) -> EmailTemplate:
    page, inc, upd, tz = notice.page, notice.incident, notice.update, notice.page.time_zone
    brand = brand_color(page.brand_color)
    on_brand = text_color_on(brand)
    subject = subject_for(notice)
    title = notice.title
    target = safe_url(notice.url)
    page_link = safe_url(page.url)
    logo = safe_url(page.logo_url, schemes=("https",)) or safe_url(page.logo_url)

    # ---- header: logo (or page name) on the brand colour
    if logo:
        brand_block = (f'<img src="{_e(logo)}" alt="{_e(page.name)}" height="32" '
                       f'style="display:block;height:32px;max-width:240px;border:0;outline:none;">')
    else:
        brand_block = (f'<span style="font-family:{_FONT};font-size:18px;font-weight:700;'
                       f'color:{on_brand};">{_e(page.name)}</span>')
    if page_link:
        brand_block = f'<a href="{_e(page_link)}" style="color:{on_brand};text-decoration:none;">{brand_block}</a>'

    # ---- summary badges
    rows = _summary_lines(notice)
    status_color = _status_color(notice)
    badges = [_badge(rows[0][1], status_color)]
    if inc is not None:
        impact = "Maintenance" if inc.impact == MAINTENANCE_IMPACT else f"{inc.impact_label} impact"
        badges.append(_badge(impact, inc.impact_color))
    extra_rows = "".join(
        f'<p style="margin:8px 0 0 0;font-size:14px;color:{_MUTED};"><strong>{_e(k)}:</strong> {_e(v)}</p>'
        for k, v in rows if k not in ("Status", "Impact")
    )

    # ---- affected services
    services_html = ""
    if notice.services:
        trs = []
        for s in notice.services:
            change = _badge(s.new_status.label, s.new_status.color)
            if s.changed and s.old_status is not None:
                change = (f'<span style="color:{_MUTED};font-size:13px;">{_e(s.old_status.label)} &rarr;</span> '
                          + change)
            trs.append(
                f'<tr><td style="padding:8px 0;border-bottom:1px solid #e5e7eb;font-size:14px;color:#111827;">'
                f'{_e(s.name)}</td>'
                f'<td align="right" style="padding:8px 0;border-bottom:1px solid #e5e7eb;">{change}</td></tr>'
            )
        services_html = (
            '<h2 style="margin:24px 0 8px 0;font-size:15px;color:#111827;">Affected services</h2>'
            '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">'
            + "".join(trs) + "</table>"
        )

    # ---- latest update
    update_html = ""
    if upd is not None:
        label = _update_status_label(notice)
        update_html = (
            f'<h2 style="margin:24px 0 4px 0;font-size:15px;color:#111827;">{_e(label)}</h2>'
            f'<p style="margin:0 0 8px 0;font-size:12px;color:{_MUTED};">{_e(format_time(upd.created_at, tz))}</p>'
            f'<div style="font-size:14px;line-height:21px;color:#111827;">{message_html(upd.message)}</div>'
        )

    # ---- button
    button_html = ""
    if target:
        verb = ("View maintenance" if notice.kind.is_maintenance
                else "View incident" if inc is not None else "View status page")
        button_html = (
            '<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:24px 0 0 0;">'
            f'<tr><td bgcolor="{brand}" style="background:{brand};border-radius:6px;">'
            f'<a href="{_e(target)}" style="display:inline-block;padding:10px 18px;font-family:{_FONT};'
            f'font-size:14px;font-weight:600;color:{on_brand};text-decoration:none;">{verb} &rarr;</a>'
            "</td></tr></table>"
        )

    preheader = one_line(f"{rows[0][1]}: {title}", 150)
    html_head = (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="color-scheme" content="light"><meta name="supported-color-schemes" content="light">'
        f"<title>{_e(subject)}</title></head>\n"
        f'<body style="margin:0;padding:0;background:#f3f4f6;">\n'
        f'<div style="display:none;max-height:0;overflow:hidden;mso-hide:all;">{_e(preheader)}</div>\n'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        'style="background:#f3f4f6;"><tr><td align="center" style="padding:24px 12px;">\n'
        '<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" '
        'style="width:100%;max-width:600px;background:#ffffff;border:1px solid #e5e7eb;border-radius:8px;">\n'
        f'<tr><td bgcolor="{brand}" style="background:{brand};padding:16px 24px;border-radius:8px 8px 0 0;">'
        f"{brand_block}</td></tr>\n"
        f'<tr><td style="padding:24px;font-family:{_FONT};color:#111827;">'
        f'<p style="margin:0 0 4px 0;font-size:12px;font-weight:600;letter-spacing:0.04em;'
        f'text-transform:uppercase;color:{_MUTED};">{_e(notice.kind.label)}</p>'
        f'<h1 style="margin:0 0 12px 0;font-size:22px;line-height:28px;color:#111827;">{_e(title)}</h1>'
        f'<p style="margin:0;">{" ".join(badges)}</p>'
        f"{extra_rows}{services_html}{update_html}{button_html}"
        "</td></tr>\n"
    )

    # ---- plain text
    lines = [f"{one_line(page.name)}: {notice.kind.label}", "", one_line(title)]
    lines += [f"{k}: {v}" for k, v in rows]
    if notice.services:
        lines += ["", "Affected services:"]
        for s in notice.services:
            change = s.new_status.label
            if s.changed and s.old_status is not None:
                change = f"{s.old_status.label} -> {change}"
            lines.append(f"- {one_line(s.name)}: {change}")
    if upd is not None:
        lines += ["", f"{_update_status_label(notice)} ({format_time(upd.created_at, tz)}):",
                  message_text(upd.message)]
    if target:
        lines += ["", f"Details: {target}"]
    text_head = "\n".join(lines)

    return EmailTemplate(subject=subject, html_head=html_head, text_head=text_head, page_name=page.name)


def _update_status_label(notice: Notice) -> str:
    inc, upd = notice.incident, notice.update
    assert upd is not None
    try:
        if inc is not None and inc.is_maintenance:
            status = MaintenanceStatus(upd.status).label
        else:
            status = IncidentStatus(upd.status).label
    except ValueError:
        status = one_line(upd.status, 40)
    return f"Update: {status}"


__all__ = [
    "DEFAULT_BRAND_COLOR", "EmailTemplate", "RenderedEmail", "brand_color", "fit_escaped", "format_time",
    "message_html", "message_text", "one_line", "render_email", "render_email_template",
    "safe_url", "subject_for", "text_color_on",
]
