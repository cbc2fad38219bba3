"""The outbox watcher: a safety net for changes committed by another process.

Why: a worker hears its own commits through the domain's listener, but not those of the CLI
or a separate jobs process. Every few seconds it reads the outbox rows it has not seen and
schedules a refresh for the organizations of rows no worker has pushed yet (a push carries
the ids of the rows it covers, so rows pushed anywhere are skipped).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlmodel import func, select

from statusapp.db import session_scope
from statusapp.models import DomainEvent

log = logging.getLogger(__name__)

OUTBOX_POLL_SECONDS = 2.0


def max_event_id() -> int:
    with session_scope() as session:
        return session.exec(select(func.coalesce(func.max(DomainEvent.id), 0))).one()


def events_since(last_id: int) -> tuple[int, list[tuple[int, int]]]:
    """(newest id, [(event id, organization id)]) of the outbox rows after `last_id`."""
    with session_scope() as session:
        rows = list(
            session.exec(
                select(DomainEvent.id, DomainEvent.organization_id).where(DomainEvent.id > last_id).limit(10_000)
            ).all()
        )
    return (max(r[0] for r in rows) if rows else last_id), [(r[0], r[1]) for r in rows]


class OutboxWatcher:
    def __init__(
        self,
        mark_dirty: Callable[[int], None],
        poll_seconds: float = OUTBOX_POLL_SECONDS,
        on_reachable: Callable[[bool], Awaitable[None]] | None = None,
    ) -> None:
        self.mark_dirty = mark_dirty
        self.on_reachable = on_reachable
        self.poll_seconds = poll_seconds
        self.last_event_id = 0
        self._pushed: set[int] = set()  # outbox ids some worker pushed, not yet seen here

    def note_pushed(self, event_ids) -> None:
        self._pushed.update(event_ids)

    def all_handled(self, event_ids) -> bool:
        """Whether some push covered these rows, or this watcher already scheduled them."""
        return all(i in self._pushed or i <= self.last_event_id for i in event_ids)

    async def start_from_now(self) -> None:
        with contextlib.suppress(Exception):
            self.last_event_id = await asyncio.to_thread(max_event_id)

    async def run(self) -> None:
        await self.start_from_now()
        failures = 0
        while True:
            # A database outage is said once, then polled less often until it ends.
            await asyncio.sleep(self.poll_seconds if not failures else min(self.poll_seconds * 2**failures, 30))
            try:
                await self.check()
            except Exception as exc:
                failures += 1
                if failures == 1:
                    log.warning("outbox watch: database unreachable (%s); backing off", type(exc).__name__)
                    if self.on_reachable is not None:
                        await self.on_reachable(False)
                continue
            if failures:
                log.info("outbox watch: database reachable again")
                failures = 0
            if self.on_reachable is not None:
                await self.on_reachable(True)

    async def check(self) -> None:
        """Refresh organizations whose new outbox rows no worker pushed."""
        newest, rows = await asyncio.to_thread(events_since, self.last_event_id)
        for event_id, org_id in rows:
            if event_id in self._pushed:
                self._pushed.discard(event_id)
            else:  # committed by another process: nobody pushed it yet
                self.mark_dirty(org_id)
        self.last_event_id = max(self.last_event_id, newest)
        self._pushed = {i for i in self._pushed if i > self.last_event_id}
