"""The refresh scheduler: changes in, one rebuild per organization out.

Why: an admin's burst of clicks (or the checker's batch) must not rebuild a page once per
change. Changes arriving while a rebuild runs are coalesced into the next rebuild of their
organization; the outbox ids they carry travel with it, so every worker learns they are pushed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Rebuild = Callable[[int, list[int]], Awaitable[None]]


class RefreshScheduler:
    def __init__(self, rebuild: Rebuild) -> None:
        self.rebuild = rebuild
        self._dirty: dict[int, list[int]] = {}  # organization id -> outbox ids awaiting a push
        self._task: asyncio.Task | None = None

    def mark_dirty(self, organization_id: int, event_id: int | None = None) -> None:
        """Schedule a rebuild of the organization's pages (call on the event loop)."""
        pending = self._dirty.setdefault(organization_id, [])
        if event_id is not None:
            pending.append(event_id)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    @property
    def idle(self) -> bool:
        return not self._dirty and (self._task is None or self._task.done())

    async def _run(self) -> None:
        while self._dirty:
            org_id, event_ids = self._dirty.popitem()
            try:
                await self.rebuild(org_id, event_ids)
            except Exception:
                log.exception("live refresh of organization %s failed", org_id)

    async def settled(self) -> None:
        """Wait until every scheduled rebuild has run."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
