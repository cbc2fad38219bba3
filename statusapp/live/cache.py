"""The per-process page cache: the newest view of each page, and which slug or host names it.

Why: a burst of visitors during an outage must not each cost a database read. Every worker
keeps the newest view of each page it serves (rebuilt once per change by the refresher, or
loaded on a visitor's first arrival), and answers "is this a public page?" from memory.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import Any

CACHE_TTL_SECONDS = 15.0
# Host headers are the client's to choose: the Host -> page map is bounded (cleared when full).
MAX_REMEMBERED_HOSTS = 1024

View = dict[str, Any]  # a queries.public.PageView as JSON-ready data (dataclasses.asdict)

# Keys that say when and from which version a view was read, not what it shows.
_META_KEYS = ("version", "as_of")


def _shown(view: View) -> View:
    return {k: v for k, v in view.items() if k not in _META_KEYS}


@dataclasses.dataclass
class CachedView:
    view: View
    loaded_at: float
    organization_id: int = 0


class PageCache:
    """Views by page id, plus slug -> id and Host -> id (for `/` on a custom domain)."""

    def __init__(self, ttl: float = CACHE_TTL_SECONDS) -> None:
        self.ttl = ttl
        self._views: dict[int, CachedView] = {}
        self._slug_to_id: dict[str, int] = {}
        self._host_to_id: dict[str, int] = {}  # Host header -> the page `/` shows there
        self._loading: dict[tuple, asyncio.Future] = {}

    def view(self, page_id: int | None) -> View | None:
        if page_id is None:
            return None
        cached = self._views.get(page_id)
        return cached.view if cached else None

    def fresh_id(self, slug: str | None, host: str | None) -> int | None:
        """The page id for a slug (or, without one, a Host) when its cached view is recent."""
        page_id = self._slug_to_id.get(slug) if slug else self._host_to_id.get(host or "")
        cached = self._views.get(page_id) if page_id is not None else None
        if cached and cached.view.get("found") and time.monotonic() - cached.loaded_at < self.ttl:
            return page_id
        return None

    def known_id(self, slug: str | None, host: str | None) -> int | None:
        """The page id for a slug (or Host) whose view is cached as found, however old: what a
        visitor is shown while the database cannot be reached."""
        page_id = self._slug_to_id.get(slug) if slug else self._host_to_id.get(host or "")
        view = self.view(page_id)
        return page_id if view and view.get("found") else None

    def organization_ids(self) -> set[int]:
        return {c.organization_id for c in self._views.values() if c.organization_id}

    def is_public_slug(self, slug: str) -> bool:
        """True when this worker knows `slug` as a public page right now (False: unknown here,
        ask the database)."""
        page_id = self._slug_to_id.get(slug)
        view = self.view(page_id)
        return bool(view and view.get("found"))

    def store(self, page_id: int, view: View, organization_id: int = 0) -> bool:
        """Keep `view` as the page's newest unless the cached one is newer (a higher version:
        views built in several workers may arrive out of order); returns whether what the page
        shows changed."""
        old = self._views.get(page_id)
        if old is not None and view.get("version", 0) < old.view.get("version", 0):
            return False
        self._views[page_id] = CachedView(view, time.monotonic(), organization_id or (old.organization_id if old else 0))
        # A renamed, private or deleted page no longer answers to its old slug.
        found = bool(view.get("found"))
        for slug in [s for s, pid in self._slug_to_id.items() if pid == page_id and (not found or s != view.get("slug"))]:
            del self._slug_to_id[slug]
        if found:
            self._slug_to_id[view["slug"]] = page_id
        return old is None or _shown(old.view) != _shown(view)

    def page_ids_of(self, organization_id: int) -> list[int]:
        """The pages of an organization this worker has a view of."""
        return [pid for pid, c in self._views.items() if c.organization_id == organization_id]

    def remember_host(self, host: str, page_id: int) -> None:
        if len(self._host_to_id) >= MAX_REMEMBERED_HOSTS and host not in self._host_to_id:
            self._host_to_id.clear()
        self._host_to_id[host] = page_id

    def forget_hosts(self) -> None:
        """After a pushed change: a page's domain, visibility or order may have changed."""
        self._host_to_id.clear()

    async def load_once(self, slug: str | None, host: str | None, loader: Callable[[], Any]) -> Any:
        """Run `loader` in a thread, once per page at a time: a burst of arrivals on a cold (or
        expired) cache shares the read in flight instead of each making its own."""
        key = (slug, host if not slug else None)
        pending = self._loading.get(key)
        if pending is None:
            pending = asyncio.ensure_future(asyncio.to_thread(loader))
            self._loading[key] = pending
            pending.add_done_callback(lambda _f: self._loading.pop(key, None))
        return await asyncio.shield(pending)
