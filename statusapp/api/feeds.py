"""Feeds of a page: `history.atom` and `history.rss` (its incidents and maintenances, each with its
updates, newest first) and `maintenance.ics` (its maintenance windows as iCalendar).

Built with ElementTree, so every user text is escaped by the serializer; an entry's content is
HTML (escaped once more as the feed's text, as Atom's `type="html"` and RSS expect). Bodies are
cached per page entry with an ETag, like the JSON documents.

The calendar has one VEVENT per maintenance the page shows: every open one (scheduled, in
progress, verifying) and the most recent closed ones, so a subscribed calendar sees a window
end or be called off (STATUS:CANCELLED) instead of keeping a stale copy. Its UID is stable per
maintenance and its SEQUENCE grows with every change, so calendar clients replace the event in
place. Times are UTC (`...Z`); text is escaped per RFC 5545 and lines folded at 75 octets. With
no maintenance it is still a valid, subscribable calendar.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import urllib.parse
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from statusapp import routes
from statusapp.api.v2 import PUBLIC_HEADERS, cached_response, page_entry
from statusapp.enums import IncidentImpact, IncidentStatus, MaintenanceStatus
from statusapp.queries.statuspage import IncidentData, MaintenanceData, StatuspageData
from statusapp.settings import get_settings

ATOM_TYPE = "application/atom+xml; charset=utf-8"
RSS_TYPE = "application/rss+xml; charset=utf-8"
ICS_TYPE = "text/calendar; charset=utf-8"
ATOM_NS = "http://www.w3.org/2005/Atom"
# XML 1.0 cannot carry these at all, escaped or not (old rows may hold them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class _Page:
    """Addresses of a page's incidents and feeds, from the public URL or its custom domain."""

    def __init__(self, data: StatuspageData) -> None:
        public_url = get_settings().public_url
        self.data = data
        self.origin = routes.page_origin(public_url, data.domain)
        self.url = routes.page_url(public_url, data.slug, data.domain)
        self.title = _clean(f"{data.name} status: incident history")

    def incident_url(self, inc: IncidentData) -> str:
        return self.origin + routes.incident_path(self.data.slug, inc.id)

    def feed_url(self, kind: str) -> str:
        return self.origin + routes.feed_path(self.data.slug, kind)

    def maintenance_url(self, m: MaintenanceData) -> str:
        return self.origin + routes.maintenance_path(self.data.slug, m.id)


def incident_html(inc: IncidentData) -> str:
    """The updates of an incident as HTML (each text escaped), newest first."""
    parts = [f"<p><em>Impact: {html.escape(IncidentImpact(inc.impact).label)}</em></p>"]
    for u in inc.updates:
        message = html.escape(_clean(u.body)).replace("\n", "<br>")
        parts.append(
            f"<p><strong>{html.escape(IncidentStatus(u.status).label)}</strong> "
            f"<small>{html.escape(_utc(u.display_at))}</small><br>{message}</p>"
        )
    return "".join(parts)


def maintenance_html(m: MaintenanceData) -> str:
    """A maintenance's window, services, description and updates as HTML (each text escaped)."""
    window = f"{_utc(m.scheduled_for)} to {_utc(m.scheduled_until)}"
    parts = [f"<p><em>Scheduled maintenance, {html.escape(window)}</em></p>"]
    if m.service_names:
        parts.append(f"<p>Affected: {html.escape(', '.join(m.service_names))}</p>")
    if m.description.strip():
        parts.append("<p>" + html.escape(_clean(m.description)).replace("\n", "<br>") + "</p>")
    for u in m.updates:
        message = html.escape(_clean(u.body)).replace("\n", "<br>")
        parts.append(
            f"<p><strong>{html.escape(MaintenanceStatus(u.status).label)}</strong> "
            f"<small>{html.escape(_utc(u.display_at))}</small><br>{message}</p>"
        )
    return "".join(parts)


def _history(data: StatuspageData) -> list[IncidentData | MaintenanceData]:
    """Incidents and maintenances, newest first."""
    return sorted([*data.incidents, *data.maintenances], key=lambda x: x.created_at, reverse=True)


def _serialize(root: ET.Element) -> bytes:
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = _clean(text)
    return el


def build_atom(data: StatuspageData) -> bytes:
    page = _Page(data)
    feed = ET.Element("feed", {"xmlns": ATOM_NS, "xml:lang": "en"})
    _sub(feed, "id", page.feed_url("atom"))
    _sub(feed, "title", page.title)
    _sub(feed, "updated", _utc(data.updated_at))
    _sub(feed, "link", rel="alternate", type="text/html", href=page.url)
    _sub(feed, "link", rel="self", type="application/atom+xml", href=page.feed_url("atom"))
    _sub(_sub(feed, "author"), "name", data.name)
    for item in _history(data):
        is_incident = isinstance(item, IncidentData)
        url = page.incident_url(item) if is_incident else page.maintenance_url(item)
        entry = _sub(feed, "entry")
        _sub(entry, "id", url)
        _sub(entry, "title", item.name)
        _sub(entry, "published", _utc(item.created_at))
        _sub(entry, "updated", _utc(item.updated_at))
        _sub(entry, "link", rel="alternate", type="text/html", href=url)
        _sub(entry, "content", incident_html(item) if is_incident else maintenance_html(item), type="html")
    return _serialize(feed)


def build_rss(data: StatuspageData) -> bytes:
    page = _Page(data)
    rss = ET.Element("rss", {"version": "2.0", "xmlns:atom": ATOM_NS})
    channel = _sub(rss, "channel")
    _sub(channel, "title", page.title)
    _sub(channel, "link", page.url)
    _sub(channel, "description", f"Incidents and maintenance reported on the {data.name} status page")
    _sub(channel, "atom:link", href=page.feed_url("rss"), rel="self", type="application/rss+xml")
    _sub(channel, "lastBuildDate", format_datetime(data.updated_at.astimezone(dt.timezone.utc)))
    for entry in _history(data):
        is_incident = isinstance(entry, IncidentData)
        url = page.incident_url(entry) if is_incident else page.maintenance_url(entry)
        item = _sub(channel, "item")
        _sub(item, "title", entry.name)
        _sub(item, "link", url)
        _sub(item, "guid", url, isPermaLink="true" if is_incident else "false")
        _sub(item, "pubDate", format_datetime(entry.created_at.astimezone(dt.timezone.utc)))
        _sub(item, "description", incident_html(entry) if is_incident else maintenance_html(entry))
    return _serialize(rss)


def _ics_text(value: str) -> str:
    """An iCalendar TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma, newline escaped."""
    value = _clean(value).replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def _ics_line(line: str) -> str:
    """A content line folded at 75 octets (RFC 5545 3.1), without splitting a character."""
    out, current = [], b""
    for ch in line:
        encoded = ch.encode("utf-8", "replace")
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current)
            current = b""
        current += encoded
    out.append(current)
    return "\r\n ".join(part.decode("utf-8") for part in out) + "\r\n"


def _ics_time(value: dt.datetime) -> str:
    """An iCalendar DATE-TIME in UTC form (RFC 5545 3.3.5, form #2): 20261201T020000Z."""
    return value.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _ics_uri(value: str) -> str:
    """A URI value: no escaping in iCalendar, so nothing that could end or break the line."""
    return re.sub(r"[\x00-\x20\x7f]", lambda m: urllib.parse.quote(m.group(0)), value)


def maintenance_description(m: MaintenanceData) -> str:
    """The event's plain-text description: status, services, the description, the newest update."""
    parts = [f"Status: {MaintenanceStatus(m.status).label}"]
    if m.service_names:
        parts.append("Affected: " + ", ".join(m.service_names))
    if m.description.strip():
        parts.append(m.description.strip())
    if m.updates and m.updates[0].body.strip() and m.updates[0].body.strip() != m.description.strip():
        parts.append(m.updates[0].body.strip())
    return "\n\n".join(parts)


def _vevent(m: MaintenanceData, page: _Page, uid_host: str) -> list[str]:
    # SEQUENCE: seconds from creation to the last change; it grows with every change, so a
    # client replaces its copy (RFC 5545 3.8.7.4), and is stable while nothing changes.
    sequence = max(0, int((m.updated_at - m.created_at).total_seconds()))
    cancelled = m.cancelled
    # A completed window ends when it did (early or late), the others when planned.
    end = m.completed_at if m.completed_at is not None else m.scheduled_until
    return [
        "BEGIN:VEVENT",
        f"UID:maintenance-{m.id}@{uid_host}",
        f"DTSTAMP:{_ics_time(m.updated_at)}",
        f"CREATED:{_ics_time(m.created_at)}",
        f"LAST-MODIFIED:{_ics_time(m.updated_at)}",
        f"SEQUENCE:{sequence}",
        f"DTSTART:{_ics_time(m.scheduled_for)}",
        f"DTEND:{_ics_time(end if end > m.scheduled_for else m.scheduled_until)}",
        f"SUMMARY:{_ics_text(('Cancelled: ' if cancelled else '') + m.name)}",
        f"DESCRIPTION:{_ics_text(maintenance_description(m))}",
        f"URL:{_ics_uri(page.maintenance_url(m))}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
    ]


def build_calendar(data: StatuspageData) -> bytes:
    """The page's maintenance windows as iCalendar (one event each, soonest first)."""
    page = _Page(data)
    # The app's own host name, not the page's domain: a UID outlives a custom domain's change.
    uid_host = get_settings().public_hostname or "statusapp"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//statusapp//maintenance calendar//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_ics_text(data.name + ' maintenance')}",
        f"X-WR-TIMEZONE:{_ics_text(data.time_zone)}",
    ]
    for m in sorted(data.maintenances, key=lambda m: (m.scheduled_for, m.id)):
        lines += _vevent(m, page, uid_host)
    lines.append("END:VCALENDAR")
    return "".join(_ics_line(line) for line in lines).encode("utf-8")


FEEDS = {
    "history.atom": (build_atom, ATOM_TYPE),
    "history.rss": (build_rss, RSS_TYPE),
    "maintenance.ics": (build_calendar, ICS_TYPE),
}


async def serve_feed(request: Request, name: str) -> Response:
    build, media_type = FEEDS[name]
    entry = await page_entry(request)
    if entry is None:
        return JSONResponse({"error": "not_found", "message": "There is no public status page here."},
                            status_code=404, headers=PUBLIC_HEADERS)
    return cached_response(request, entry.render((name,), build), media_type)
