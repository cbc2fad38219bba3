"""The change signal: how a process without a live hub tells the web workers it committed.

Why: the separate jobs process (`statusapp worker`: the checker, later the sender and the
maintenance clock) commits changes that open pages must show within a second, and the outbox
watcher's poll (every 2 s) is only a safety net. Such a process registers `publish_change` as a
domain listener; each web worker's hub listens and rebuilds the organization's pages for its own
sockets. Transport: Redis pub/sub when REDIS_URL is set, else PostgreSQL LISTEN/NOTIFY. On SQLite
(one machine, jobs normally inside the app) there is no signal: the poll covers it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable

from statusapp.db import pg_notify
from statusapp.domain import Change
from statusapp.live.bus import channel_for
from statusapp.settings import get_settings

log = logging.getLogger(__name__)

PG_CHANNEL = "statusapp_changes"

OnSignal = Callable[[int, list[int]], None]


def _redis_channel() -> str:
    return channel_for(get_settings().effective_database_url) + ":signal"


def signal_transport() -> str:
    """"redis", "postgresql" or "" (no cross-process signal)."""
    settings = get_settings()
    if settings.redis_url:
        return "redis"
    if settings.effective_database_url.startswith("postgresql"):
        return "postgresql"
    return ""


_redis_client = None


def publish_change(change: Change) -> None:
    """Domain listener for processes without a hub: signal the web workers (best effort; the
    outbox watcher still finds the change within a few seconds if this fails)."""
    global _redis_client
    payload = json.dumps({"organization_id": change.organization_id, "event_ids": [change.event_id]})
    transport = signal_transport()
    try:
        if transport == "redis":
            if _redis_client is None:
                import redis

                _redis_client = redis.Redis.from_url(get_settings().redis_url, socket_timeout=2)
            _redis_client.publish(_redis_channel(), payload)
        elif transport == "postgresql":
            pg_notify(PG_CHANNEL, payload)
    except Exception as exc:  # never undo or delay the committed change
        log.warning("change signal not sent (%s); the outbox watcher will catch it", exc)


async def listen(on_signal: OnSignal, ready: asyncio.Event | None = None) -> None:
    """Call `on_signal(organization_id, event_ids)` for every signal, forever (reconnects)."""
    transport = signal_transport()
    if not transport:
        if ready is not None:
            ready.set()
        return
    failures = 0
    while True:
        try:
            if transport == "redis":
                await _listen_redis(on_signal, ready)
            else:
                await _listen_postgresql(on_signal, ready)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failures += 1
            if failures == 1:
                log.warning("change signal listener lost (%s); reconnecting with back-off", exc)
            await asyncio.sleep(min(2 ** min(failures, 5), 30))
        else:
            failures = 0


def _handle(on_signal: OnSignal, raw: str | bytes) -> None:
    with contextlib.suppress(ValueError, KeyError, TypeError):
        data = json.loads(raw)
        on_signal(int(data["organization_id"]), [int(i) for i in data["event_ids"] if i is not None])


async def _listen_redis(on_signal: OnSignal, ready: asyncio.Event | None) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(get_settings().redis_url)
    try:
        pubsub = client.pubsub()
        await pubsub.subscribe(_redis_channel())
        if ready is not None:
            ready.set()
        async for msg in pubsub.listen():
            if msg.get("type") == "message":
                _handle(on_signal, msg["data"])
    finally:
        with contextlib.suppress(Exception):
            await client.aclose()


async def _listen_postgresql(on_signal: OnSignal, ready: asyncio.Event | None) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(get_settings().effective_database_url).set(drivername="postgresql")
    conn = await psycopg.AsyncConnection.connect(url.render_as_string(hide_password=False), autocommit=True,
                                                 connect_timeout=5)
    try:
        await conn.execute(f"LISTEN {PG_CHANNEL}")
        if ready is not None:
            ready.set()
        async for notify in conn.notifies():
            _handle(on_signal, notify.payload)
    finally:
        with contextlib.suppress(Exception):
            await conn.close()
