"""Slack and Discord: native payload shapes, escaping of user text, limits, and error mapping."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest

from statusapp.notify.channels.base import DeliveryError, Recipient
from statusapp.notify.channels.discord import DiscordChannel
from statusapp.notify.channels.discord import build_payload as discord_payload
from statusapp.notify.channels.slack import SlackChannel
from statusapp.notify.channels.slack import build_payload as slack_payload
from tests.notify.factories import (
    HOSTILE_MESSAGE,
    HOSTILE_SERVICE,
    HOSTILE_TITLE,
    HOSTILE_URL,
    incident_notice,
    maintenance_notice,
    status_change_notice,
)
from tests.support.webhook_receiver import WebhookReceiver


def hostile():
    return incident_notice(title=HOSTILE_TITLE, message=HOSTILE_MESSAGE, service_name=HOSTILE_SERVICE)


def all_texts(obj) -> list[str]:
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in all_texts(v)]
    if isinstance(obj, list):
        return [t for v in obj for t in all_texts(v)]
    return [obj] if isinstance(obj, str) else []


def post(channel_cls, url: str, notice=None, timeout_s: float = 2.0):
    async def run():
        async with httpx.AsyncClient() as client:
            ch = channel_cls(client, timeout_s=timeout_s)
            return await ch.send(notice or incident_notice(), [Recipient(url)], idempotency_key="c-1")
    return asyncio.run(run())


# --------------------------------------------------------------------------- Slack


def test_slack_payload_shape():
    p = slack_payload(incident_notice())
    assert p["text"].startswith("Incident update: API errors — We are investigating")
    types = [b["type"] for b in p["blocks"]]
    assert types == ["header", "section", "section", "section", "context"]
    assert p["blocks"][0]["text"] == {"type": "plain_text", "text": "Incident update: API errors", "emoji": False}
    assert p["blocks"][1]["text"]["text"] == "*Status:* Identified   *Impact:* Major"
    assert p["blocks"][2]["fields"][0]["text"] == "*API*\nOperational → Partial outage"
    assert "<https://status.acme.test/incidents/in1|View incident>" in p["blocks"][4]["elements"][0]["text"]
    assert p["unfurl_links"] is False


def test_slack_escapes_user_text():
    p = slack_payload(hostile())
    ours = re.compile(r"<https://status\.acme\.test[^|<>]*\|[^<>]*>")
    for text in all_texts(p):
        assert "<" not in ours.sub("", text) and ">" not in ours.sub("", text), text
    flat = json.dumps(p)
    assert "&lt;!channel&gt;" in flat and "&lt;script&gt;steal()&lt;/script&gt;" in flat
    assert "&lt;svg onload=alert(5)&gt; API \\\"quoted\\\" &amp;" in flat
    assert "&amp;amp;" not in flat  # escaped once


def test_slack_limits_and_unsafe_links():
    notice = incident_notice(title="T" * 500, message="<" * 5000, incident_url=HOSTILE_URL)
    p = slack_payload(notice)
    assert len(p["blocks"][0]["text"]["text"]) <= 150
    assert len(p["blocks"][3]["text"]["text"]) <= 3000 and p["blocks"][3]["text"]["text"].endswith("…")
    assert "javascript" not in json.dumps(p)
    assert "View incident" in p["blocks"][-1]["elements"][0]["text"]  # label kept, not linked


def test_slack_status_change_and_maintenance():
    assert "*Status:* Major outage" in json.dumps(slack_payload(status_change_notice("API")))
    assert "*Scheduled:* 17 Mar 2026, 14:05 CET" in json.dumps(slack_payload(maintenance_notice()), ensure_ascii=False)


def test_slack_send_and_errors():
    with WebhookReceiver() as rx:
        assert post(SlackChannel, rx.url("/services/T/B/x")).ids == [None]
        assert json.loads(rx.requests[0].body)["blocks"]
        rx.answer(404, "no_service")
        with pytest.raises(DeliveryError) as err:
            post(SlackChannel, rx.url("/services/T/B/secret-token"))
        assert not err.value.retryable and "no_service" in err.value.reason
        assert "secret-token" not in err.value.reason
        rx.answer(429, headers={"Retry-After": "3"})
        with pytest.raises(DeliveryError) as err:
            post(SlackChannel, rx.url())
        assert err.value.retryable and err.value.retry_after == 3
        rx.answer(500)
        with pytest.raises(DeliveryError) as err:
            post(SlackChannel, rx.url())
        assert err.value.retryable


# --------------------------------------------------------------------------- Discord


def test_discord_payload_shape():
    p = discord_payload(incident_notice())
    assert p["allowed_mentions"] == {"parse": []}
    (embed,) = p["embeds"]
    assert embed["title"] == "Incident update: API errors"
    assert embed["url"] == "https://status.acme.test/incidents/in1"
    assert embed["color"] == 0xC2410C  # major impact colour
    assert embed["description"].startswith("We are investigating elevated error rates.\nMore soon.")
    assert embed["fields"][:2] == [{"name": "Status", "value": "Identified", "inline": True},
                                   {"name": "Impact", "value": "Major", "inline": True}]
    assert {"name": "API", "value": "Operational → Partial outage", "inline": True} in embed["fields"]
    assert embed["author"] == {"name": "Acme Status", "url": "https://status.acme.test",
                               "icon_url": "https://status.acme.test/logo.png"}
    assert embed["timestamp"] == "2026-03-16T13:05:00+00:00"


def test_discord_neutralises_mentions_and_markdown():
    p = discord_payload(hostile())
    embed = p["embeds"][0]
    assert "@everyone" not in json.dumps(p, ensure_ascii=False)
    assert "@\u200beveryone" in embed["description"]
    assert "\\<@123>" in embed["description"] and "\\[x\\](https://evil.test)" in embed["description"]
    assert {"name": '\\<svg onload=alert(5)> API "quoted" & \'single\'', "value": "Operational → Partial outage",
            "inline": True} in embed["fields"]
    assert embed["title"].startswith("Incident update: \\<script>alert(1)\\</script>")


def test_discord_limits():
    notice = incident_notice(title="*" * 400, message="@everyone " * 1000)
    embed = discord_payload(notice)["embeds"][0]
    assert len(embed["title"]) <= 256 and not embed["title"].endswith("\\…")
    assert len(embed["description"]) <= 4096 and "@everyone" not in embed["description"]
    total = (len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
             + len(embed["author"]["name"]) + sum(len(f["name"]) + len(f["value"]) for f in embed["fields"]))
    assert total <= 6000
    many = status_change_notice(*[f"svc {i}" for i in range(40)])
    fields = discord_payload(many)["embeds"][0]["fields"]
    assert len(fields) == 25 and fields[-1]["value"] == "and 16 more services"


def test_discord_unsafe_urls_are_dropped():
    notice = incident_notice(incident_url=HOSTILE_URL, page_kw=dict(logo_url="http://x.test/l.png"))
    embed = discord_payload(notice)["embeds"][0]
    assert "url" not in embed and "icon_url" not in embed["author"]


def test_discord_send_and_errors():
    with WebhookReceiver() as rx:
        rx.answer(204)
        assert post(DiscordChannel, rx.url("/api/webhooks/1/tok")).ids == [None]
        rx.answer(429, json.dumps({"message": "You are being rate limited.", "retry_after": 1.5, "global": False}),
                  headers={"Content-Type": "application/json"})
        with pytest.raises(DeliveryError) as err:
            post(DiscordChannel, rx.url())
        assert err.value.retryable and err.value.retry_after == 1.5
        rx.answer(404, json.dumps({"message": "Unknown Webhook", "code": 10015}))
        with pytest.raises(DeliveryError) as err:
            post(DiscordChannel, rx.url())
        assert not err.value.retryable
        rx.answer(502)
        with pytest.raises(DeliveryError) as err:
            post(DiscordChannel, rx.url())
        assert err.value.retryable
        rx.answer(200, delay=5)
        with pytest.raises(DeliveryError) as err:
            post(DiscordChannel, rx.url(), timeout_s=0.3)
        assert err.value.retryable
