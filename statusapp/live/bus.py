"""How one worker's rebuilt views reach every worker: in process, or through Redis.

Why a bus: each worker holds only its own sockets, so a change committed next to one worker
must reach the visitors of all. With REDIS_URL the messages are published once on a channel
keyed by the database (two deployments sharing a Redis never mix pages) and every worker,
the publisher included, applies them to its own sockets. Without Redis there is one worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Handler = Callable[[list[dict]], Awaitable[None]]


def channel_for(database_url: str) -> str:
    return "statusapp:live:" + hashlib.sha1(database_url.encode()).hexdigest()[:12]


class LocalBus:
    """One worker: publishing applies at once."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def start(self) -> None:
        return None

    async def publish(self, messages: list[dict]) -> None:
        await self.handler(messages)

    async def stop(self) -> None:
        return None


class RedisBus:
    """Several workers: publish once on Redis; every subscriber applies to its own sockets."""

    def __init__(self, handler: Handler, url: str, channel: str) -> None:
        self.handler = handler
        self.url = url
        self.channel = channel
        self.redis = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        import redis.asyncio as aioredis

        self.redis = aioredis.from_url(self.url)
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._subscribe(ready), name="statusapp-live-redis")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(ready.wait(), 5)

    async def publish(self, messages: list[dict]) -> None:
        try:
            await self.redis.publish(self.channel, json.dumps(messages, separators=(",", ":")))
        except Exception:
            log.warning("Redis publish failed; delivering to this worker's sockets only")
            await self.handler(messages)

    async def _subscribe(self, ready: asyncio.Event) -> None:
        failures = 0
        while True:
            try:
                pubsub = self.redis.pubsub()
                await pubsub.subscribe(self.channel)
                ready.set()
                if failures:
                    log.info("Redis subscription restored")
                failures = 0
                async for msg in pubsub.listen():
                    if msg.get("type") == "message":
                        await self.handler(json.loads(msg["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis is down: say it once, retry with back-off
                failures += 1
                if failures == 1:
                    log.warning("Redis subscription lost (%s); retrying with back-off", exc)
                await asyncio.sleep(min(2 ** min(failures, 5), 30))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.redis is not None:
            with contextlib.suppress(Exception):
                await self.redis.aclose()
            self.redis = None
