"""Badges, feeds and the calendar, read back by real parsers (xml.etree, feedparser, icalendar)."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import feedparser
import icalendar
import pytest
from sqlmodel import select

from statusapp.api.badges import badge_svg, uptime_text
from statusapp.domain import incidents, pages, services
from statusapp.enums import PageIndicator, ServiceStatus
from statusapp.models import ServiceStatusChange
from statusapp.queries.statuspage import load_service_uptime
from tests.domain.helpers import fresh

SVG = "{http://www.w3.org/2000/svg}"
NASTY = 'Pay<ments> & "co" </text><script>alert(1)</script>'


def svg_texts(body: bytes) -> tuple[ET.Element, list[str]]:
    root = ET.fromstring(body)
    assert root.tag == SVG + "svg" and int(root.get("width")) > 0 and root.get("height") == "20"
    return root, [t.text for t in root.iter(SVG + "text")]


def test_page_badge_shows_the_overall_status_in_words_and_colour(client, acme, org):
    r = client.get("/status/acme/badge.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    root, texts = svg_texts(r.content)
    assert texts == ["status", "status", "major outage", "major outage"]  # text + its shadow
    assert root.get("aria-label") == "status: major outage"
    fills = {rect.get("fill") for rect in root.iter(SVG + "rect")}
    assert PageIndicator.critical.color in fills
    assert client.get("/status/acme/badge.svg", headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    assert r.headers["access-control-allow-origin"] == "*" and "max-age" in r.headers["cache-control"]


def test_service_badge_by_id_or_slug_escapes_the_name(client, acme, org):
    services.update_service(actor=org, service_id=acme.api_id, name=NASTY)
    for key in (str(acme.api_id), "api"):
        r = client.get(f"/status/acme/services/{key}/badge.svg")
        assert r.status_code == 200, key
        root, texts = svg_texts(r.content)  # parses: the name did not break the XML
        assert texts[0] == NASTY and texts[2] == "major outage"
        assert root.find(SVG + "title").text == f"{NASTY}: major outage"
        assert ServiceStatus.major_outage.color in {rect.get("fill") for rect in root.iter(SVG + "rect")}
    assert client.get("/status/acme/services/nope/badge.svg").status_code == 404
    assert client.get(f"/status/acme/services/{acme.group_id + 1000}/badge.svg").status_code == 404
    assert client.get("/status/acme/services/api/badge.svg?metric=nonsense").status_code == 422


def test_uptime_badge_uses_the_90_day_history(client, acme, org):
    r = client.get(f"/status/acme/services/{acme.docs_id}/badge.svg?metric=uptime")
    _root, texts = svg_texts(r.content)
    assert texts[0] == "Docs uptime" and texts[2].endswith("%")


def test_uptime_query_reads_the_status_in_effect_before_the_window(db, org, session):
    """A service created long ago, down for one whole day inside the last 90: uptime 89/90."""
    svc = services.create_service(actor=org, name="Old", slug="old")
    now = dt.datetime.now(dt.timezone.utc)
    with fresh() as s:  # rewrite its history directly (the tests own the clock, not the domain)
        for row in s.exec(select(ServiceStatusChange).where(ServiceStatusChange.service_id == svc.id)):
            s.delete(row)
        for at, status in [(now - dt.timedelta(days=400), "operational"),
                           (now - dt.timedelta(days=300), "major_outage"),
                           (now - dt.timedelta(days=200), "operational"),
                           (now - dt.timedelta(days=10, hours=12), "major_outage"),
                           (now - dt.timedelta(days=9, hours=12), "operational")]:
            s.add(ServiceStatusChange(organization_id=org.organization_id, service_id=svc.id, service_name="Old",
                                      to_status=status, cause="manual", changed_at=at))
        s.commit()
    uptime = load_service_uptime(svc.id, "UTC")
    assert uptime == pytest.approx(100 * (1 - 1 / 90), abs=0.05)


def test_uptime_text_and_colours():
    assert uptime_text(None)[0] == "no data"
    assert uptime_text(100.0) == ("100%", ServiceStatus.operational.color)
    assert uptime_text(99.5) == ("99.50%", ServiceStatus.degraded_performance.color)
    assert uptime_text(42.0)[1] == ServiceStatus.major_outage.color


def test_badge_with_any_text_is_valid_svg():
    for label in [NASTY, "", "ünïcødé ✓", "a" * 500, "tab\tand\nnewline"]:
        root, texts = svg_texts(badge_svg(label, label, "#000000"))
        assert len(texts) == 4


def test_feeds_parse_and_list_incidents_with_their_updates(client, acme, org):
    incidents.post_update(actor=org, incident_id=acme.incident_id, status="monitoring", message=NASTY + "\nline 2")
    atom = client.get("/status/acme/history.atom")
    assert atom.status_code == 200 and atom.headers["content-type"].startswith("application/atom+xml")
    rss = client.get("/status/acme/history.rss")
    assert rss.headers["content-type"].startswith("application/rss+xml")
    for r, version in ((atom, "atom10"), (rss, "rss20")):
        feed = feedparser.parse(r.content)
        assert not feed.bozo, feed.get("bozo_exception")
        assert feed.version == version
        assert feed.feed.title == "Acme status: incident history"
        titles = [e.title for e in feed.entries]
        assert titles == ["API down", "Docs slow"]
        newest = feed.entries[0]
        assert newest.link.endswith(f"/status/acme/incidents/{acme.incident_id}")
        html = newest.content[0].value if version == "atom10" else newest.description
        # The update's text is escaped inside the entry's HTML: shown as text, never as markup.
        assert "&lt;script&gt;" in html and "<script>" not in html
        assert html.index("Monitoring") < html.index("Identified") < html.index("Investigating")
    assert client.get("/status/acme/history.atom", headers={"If-None-Match": atom.headers["etag"]}).status_code == 304


def ics_unescape(value: str) -> str:
    """RFC 5545 TEXT unescaping (the parser leaves X- properties raw)."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def test_maintenance_calendar_is_valid_and_empty(client, acme, org):
    pages.update_page(actor=org, page_id=acme.page_id, name="Acme, Inc; \\ status")
    r = client.get("/status/acme/maintenance.ics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    assert r.content.endswith(b"\r\n") and b"\n" not in r.content.replace(b"\r\n", b"")
    cal = icalendar.Calendar.from_ical(r.content)
    assert cal["VERSION"] == "2.0" and cal["PRODID"]
    # An X- property is kept raw by the parser: unescape it as the TEXT value it is.
    assert ics_unescape(str(cal["X-WR-CALNAME"])) == "Acme, Inc; \\ status maintenance"
    assert list(cal.walk("VEVENT")) == []


def test_long_calendar_name_is_folded(client, acme, org):
    pages.update_page(actor=org, page_id=acme.page_id, name="Ünïcødé " * 24)
    body = client.get("/status/acme/maintenance.ics").content
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    name = ics_unescape(str(icalendar.Calendar.from_ical(body)["X-WR-CALNAME"]))
    assert name == "Ünïcødé " * 23 + "Ünïcødé maintenance"


def test_embed_script_is_served_and_builds_no_html_from_text(client):
    r = client.get("/embed.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert "innerHTML" not in r.text and "textContent" in r.text
    assert "/api/v2/summary.json" in r.text
