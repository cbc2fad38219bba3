"""The app's idea of "now": the wall clock, unless a block says otherwise.

Why: every timestamp a change stores (history rows, update times, creation times) comes from
`now()`, so a caller can write a believable past (the demo's three months of incidents, a
backfilled incident) through the same domain operations as today's changes, and tests can
run time-based work (maintenance windows, reminders) on a controlled clock without sleeping.
The override is a context variable: it covers the current thread and what it starts with
`asyncio.to_thread`, nothing else.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
from collections.abc import Iterator

_at: contextvars.ContextVar[dt.datetime | None] = contextvars.ContextVar("statusapp_clock_at", default=None)


def now() -> dt.datetime:
    """Aware UTC: the overridden moment inside `at(...)`, else the wall clock."""
    moment = _at.get()
    return moment if moment is not None else dt.datetime.now(dt.timezone.utc)


@contextlib.contextmanager
def at(moment: dt.datetime) -> Iterator[None]:
    """Run the block as if it were `moment` (aware)."""
    if moment.tzinfo is None:
        raise ValueError("clock.at needs an aware datetime")
    token = _at.set(moment.astimezone(dt.timezone.utc))
    try:
        yield
    finally:
        _at.reset(token)
