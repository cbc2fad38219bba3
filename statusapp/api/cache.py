"""The per-worker cache of what the public JSON, badges and feeds of each page serve.

Why: these URLs are polled by tools, badges sit in READMEs and the script embed runs on every
page view of a customer's site, so a request must cost a dictionary lookup, not a database read.

Freshness, in every worker:
- the live hub's pushed rebuild of a page (after any committed change, in any worker, through
  Redis with several workers) drops that page's entry at once (`invalidate`);
- an entry older than `ttl` (1 s) is revalidated before use: one cheap query of the outbox's
  highest id; unchanged, the entry is kept, otherwise the page is loaded again. That covers
  changes committed by other processes (the CLI, a jobs process) within a second, without
  waiting for the outbox watcher.

A reload is single-flight: the requests arriving meanwhile for the same page wait for the one
load in flight. When the database cannot be read, the last copy keeps being served (a status
page must stay up when the rest is down) and the load is retried after `ttl`; without a copy,
`Unavailable` is raised (the routes answer 503). Rendered bodies (JSON documents, badges, feeds) are built once per entry, with
their ETag, on first request.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable, Hashable
from typing import Any

from statusapp.live.outbox import max_event_id
from statusapp.queries.statuspage import StatuspageData, load_statuspage

log = logging.getLogger(__name__)

TTL_SECONDS = 1.0
MAX_HOSTS = 1000  # Host headers remembered (any client can send any Host)


@dataclasses.dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    etag: str  # strong, quoted

    @classmethod
    def of(cls, body: bytes) -> "Rendered":
        return cls(body, '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"')


class Unavailable(Exception):
    """The page could not be loaded (database unreachable) and no copy of it is cached."""


class PageEntry:
    """One page's data as loaded, and its bodies rendered so far."""

    __slots__ = ("data", "event_id", "checked_at", "_rendered")

    def __init__(self, data: StatuspageData, event_id: int, checked_at: float) -> None:
        self.data = data
        self.event_id = event_id  # outbox high-water mark read BEFORE the load
        self.checked_at = checked_at
        self._rendered: dict[Hashable, Rendered] = {}

    def render(self, key: Hashable, build: Callable[[StatuspageData], bytes]) -> Rendered:
        found = self._rendered.get(key)
        if found is None:
            found = self._rendered[key] = Rendered.of(build(self.data))
        return found


Key = tuple[str | None, str | None]  # (slug, None) or (None, Host)


class PageDocuments:
    def __init__(
        self,
        *,
        loader: Callable[[str | None, str | None], StatuspageData | None] = load_statuspage,
        high_water: Callable[[], int] = max_event_id,
        ttl: float = TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.loader = loader
        self.high_water = high_water
        self.ttl = ttl
        self.clock = clock
        self._entries: dict[int, PageEntry] = {}
        self._ids: dict[Key, int] = {}
        self._invalidations: dict[int, int] = {}  # page id -> count, to spot loads overtaken
        self._flights: dict[Key, asyncio.Future] = {}
        self.loads = 0  # full loads done (tests, benchmark)

    @staticmethod
    def key(slug: str | None, host: str | None) -> Key:
        return (slug, None) if slug is not None else (None, (host or "").lower())

    async def get(self, slug: str | None, host: str | None = None) -> PageEntry | None:
        """The entry of the public page at `/status/<slug>` (slug None: at `/` for this Host),
        fresh within `ttl`; None when there is no such public page."""
        key = self.key(slug, host)
        page_id = self._ids.get(key)
        entry = self._entries.get(page_id) if page_id is not None else None
        if entry is not None and self.clock() - entry.checked_at < self.ttl:
            return entry
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(self._refresh(key, entry))
            self._flights[key] = flight
            flight.add_done_callback(lambda _f: self._flights.pop(key, None))
        return await asyncio.shield(flight)

    async def _refresh(self, key: Key, entry: PageEntry | None) -> PageEntry | None:
        try:
            return await self._load(key, entry)
        except Exception as exc:
            stale = entry or self._entries.get(self._ids.get(key, -1))
            if stale is None:
                raise Unavailable(str(exc)) from exc
            log.warning("serving the cached copy of page %s: reload failed (%s)", stale.data.page_id, exc)
            stale.checked_at = self.clock()  # retry after ttl, not on every request
            return stale

    async def _load(self, key: Key, entry: PageEntry | None) -> PageEntry | None:
        started = self.clock()
        invalidations = dict(self._invalidations)
        high_water = await asyncio.to_thread(self.high_water)
        if entry is not None and entry.event_id == high_water and self._entries.get(entry.data.page_id) is entry:
            entry.checked_at = started  # nothing was committed since it was loaded
            return entry
        data = await asyncio.to_thread(self.loader, *key)
        self.loads += 1
        if data is None:
            self._ids.pop(key, None)
            return None
        fresh = PageEntry(data, high_water, started)
        if self._invalidations.get(data.page_id, 0) != invalidations.get(data.page_id, 0):
            fresh.checked_at = float("-inf")  # a change landed during the load: check again next time
        self._entries[data.page_id] = fresh
        if key[1] is not None and len(self._ids) >= MAX_HOSTS:
            self._ids = {k: v for k, v in self._ids.items() if k[1] is None}
        self._ids[key] = data.page_id
        return fresh

    def invalidate(self, page_id: int, _view: Any = None) -> None:
        """Drop a page's entry (a live hub page listener: called for every pushed rebuild)."""
        self._invalidations[page_id] = self._invalidations.get(page_id, 0) + 1
        self._entries.pop(page_id, None)
        # Its slug, domain or visibility may have changed: look it up again.
        self._ids = {k: v for k, v in self._ids.items() if v != page_id}

    def clear(self) -> None:
        self._entries.clear()
        self._ids.clear()


documents = PageDocuments()
