"""The maintenance clock: one job of the leader-elected runner (see statusapp/jobs/__init__.py).

Each run is one `domain.maintenance.tick()` in a worker thread: generate due occurrences of
series, announce due reminders, start due windows, complete ended ones. Exactly once rests on
the domain (each move is a transition of one locked row, re-checked after locking), not on
this job running once: a rerun, or a second runner while leadership changes hands, finds
nothing left to do. The announcements go to the outbox, where the notification sender finds
them like any incident's.
"""

from __future__ import annotations

import asyncio
import logging

from statusapp.domain import maintenance

log = logging.getLogger(__name__)


async def run_clock() -> maintenance.TickResult:
    result = await asyncio.to_thread(maintenance.tick)
    if result.anything:
        log.info("maintenance clock: generated %d, reminded %d, started %d, completed %d",
                 len(result.generated), len(result.reminded), len(result.started), len(result.completed))
    return result
