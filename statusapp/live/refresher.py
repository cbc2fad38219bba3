"""The refresh scheduler: changes in, one rebuild per organization out.

Why: an admin's burst of clicks (or the checker's batch) must not rebuild a page once per
change. Changes arriving while a rebuild runs are coalesced into the next rebuild of their
organization; the outbox ids they carry travel with it, so every worker learns they are pushed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

# rebuild(organization id, outbox ids, publish): publish=False rebuilds for this worker only.
Rebuild = Callable[[int, list[int], bool], Awaitable[None]]


@dataclasses.dataclass
class _Pending:
    event_ids: list[int] = dataclasses.field(default_factory=list)
    publish: bool = False


class RefreshScheduler:
    def __init__(self, rebuild: Rebuild) -> None:
        self.rebuild = rebuild
        self._dirty: dict[int, _Pending] = {}  # organization id -> what awaits a push
        self._task: asyncio.Task | None = None

    def mark_dirty(self, organization_id: int, event_ids=(), *, publish: bool = True) -> None:
        """Schedule a rebuild of the organization's pages (call on the event loop). With
        publish=False (a change signalled to every worker) this worker rebuilds for its own
        sockets only; one request with publish=True in the same burst makes it publish."""
        pending = self._dirty.setdefault(organization_id, _Pending())
        pending.event_ids.extend(i for i in event_ids if i is not None)
        pending.publish = pending.publish or publish
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    @property
    def idle(self) -> bool:
        return not self._dirty and (self._task is None or self._task.done())

    async def _run(self) -> None:
        while self._dirty:
            org_id, pending = self._dirty.popitem()
            try:
                await self.rebuild(org_id, pending.event_ids, pending.publish)
            except Exception:
                log.exception("live refresh of organization %s failed", org_id)

    async def settled(self) -> None:
        """Wait until every scheduled rebuild has run."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
