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
            log.exception("Redis publish failed; delivering to this worker's sockets only")
            await self.handler(messages)

    async def _subscribe(self, ready: asyncio.Event) -> None:
        while True:
            try:
                pubsub = self.redis.pubsub()
                await pubsub.subscribe(self.channel)
                ready.set()
                async for msg in pubsub.listen():
                    if msg.get("type") == "message":
                        await self.handler(json.loads(msg["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Redis subscription lost; retrying in 1 s")
                await asyncio.sleep(1)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self.redis is not None:
            with contextlib.suppress(Exception):
                await self.redis.aclose()
            self.redis = None
