"""Live pages: after a change commits, every open visitor sees the new page within a second.

Design (measured in bench/live.py; see docs/BENCHMARKS.md): visitors of a page join the
socket.io room `page-<id>` when their page loads (and again on every reconnect, since
Reflex re-runs on_load then). A committed change makes the hub rebuild the page's view ONCE,
keep it in a per-process cache, and send ONE precomputed Reflex delta to the room: a single
`emit`, encoded once, whatever the number of visitors. No visitor's server-side state is
touched: the page's `view` is an uncached computed var that reads this cache, so a hydrate,
a reconnect or any later event always computes the current view, never a stale copy.

With REDIS_URL set (several workers), the rebuilt view is published once on Redis and each
worker emits it to its own sockets. A slow outbox watcher (DomainEvent rows) also catches
changes committed by other processes (CLI, a separate checker) that no listener heard.
Admin consoles join `admin-<org>` and get a server-sent `refresh` event instead of a delta.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import hashlib
import json
import logging
import time
from typing import Any

from sqlmodel import func, select

from statusapp.db import session_scope
from statusapp.domain import Change, add_listener, remove_listener
from statusapp.models import DomainEvent, StatusPage
from statusapp.queries import PageView, find_page, page_view
from statusapp.settings import get_settings

log = logging.getLogger(__name__)

CACHE_TTL_SECONDS = 15.0
RECENT_JOIN_SECONDS = 1.0
REPAIR_DELAY_SECONDS = 0.15
OUTBOX_POLL_SECONDS = 2.0


def page_room(page_id: int) -> str:
    return f"page-{page_id}"


def admin_room(organization_id: int) -> str:
    return f"admin-{organization_id}"


@dataclasses.dataclass
class _Cached:
    view: PageView
    as_json: str
    loaded_at: float


class LiveHub:
    """One per process: the page-view cache and the fan-out to sockets."""

    def __init__(self) -> None:
        self.channel = ""
        self.views: dict[int, _Cached] = {}
        self.slug_to_id: dict[str, int] = {}
        self.host_to_id: dict[str, int] = {}  # Host header -> the page `/` shows there
        self.loop: asyncio.AbstractEventLoop | None = None
        self.namespace: Any = None  # reflex EventNamespace (a socket.io AsyncNamespace)
        self.view_key: tuple[str, str] | None = None  # (state full name, delta field) of the public view
        self.admin_event: str | None = None  # full name of the admin refresh handler
        self.redis: Any = None
        self._dirty: dict[int, list[int]] = {}  # organization id -> outbox ids awaiting a push
        self._pushed_events: set[int] = set()  # outbox ids pushed by a listener, for the watcher
        self._recent_joins: dict[int, dict[str, float]] = {}  # page id -> sid -> joined at
        self._loading: dict[tuple, asyncio.Future] = {}
        self._refresher: asyncio.Task | None = None
        self.last_event_id = 0

    # ---- wiring -------------------------------------------------------------------------
    def configure(self, *, view_key: tuple[str, str], admin_event: str) -> None:
        self.view_key = view_key
        self.admin_event = admin_event

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any):
        """Reflex lifespan task: runs in every backend worker."""
        self.loop = asyncio.get_running_loop()
        self.namespace = app.event_namespace
        tune_gc()
        add_listener(self.on_change)
        tasks = [asyncio.create_task(self._watch_outbox(), name="statusapp-outbox-watch")]
        url = get_settings().redis_url
        # One channel per database, so two deployments sharing a Redis never mix pages.
        self.channel = "statusapp:live:" + hashlib.sha1(get_settings().effective_database_url.encode()).hexdigest()[:12]
        if url:
            import redis.asyncio as aioredis

            self.redis = aioredis.from_url(url)
            ready = asyncio.Event()
            tasks.append(asyncio.create_task(self._subscribe(ready), name="statusapp-live-redis"))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(ready.wait(), 5)
        try:
            yield
        finally:
            remove_listener(self.on_change)
            for t in tasks:
                t.cancel()
            if self.redis is not None:
                with contextlib.suppress(Exception):
                    await self.redis.aclose()
                self.redis = None
            self.loop = None

    # ---- after-commit hook ----------------------------------------------------------------
    def on_change(self, change: Change) -> None:
        """Domain listener; called in whatever thread committed the change."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self.mark_dirty, change.organization_id, change.event_id)

    def mark_dirty(self, organization_id: int, event_id: int | None = None) -> None:
        pending = self._dirty.setdefault(organization_id, [])
        if event_id is not None:
            pending.append(event_id)
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.create_task(self._refresh_dirty())

    async def _refresh_dirty(self) -> None:
        # Changes arriving while a rebuild runs are coalesced into the next rebuild.
        while self._dirty:
            org_id, event_ids = self._dirty.popitem()
            try:
                messages = await asyncio.to_thread(build_org_messages, org_id)
                # Every worker learns these outbox rows are pushed: its watcher skips them.
                messages[-1]["event_ids"] = event_ids
                await self.publish(messages)
            except Exception:
                log.exception("live refresh of organization %s failed", org_id)

    # ---- fan-out --------------------------------------------------------------------------
    async def publish(self, messages: list[dict]) -> None:
        if self.redis is not None:
            try:
                await self.redis.publish(self.channel, json.dumps(messages))
                return
            except Exception:
                log.exception("Redis publish failed; delivering to this worker's sockets only")
        await self.apply(messages)

    async def _subscribe(self, ready: asyncio.Event) -> None:
        while True:
            try:
                pubsub = self.redis.pubsub()
                await pubsub.subscribe(self.channel)
                ready.set()
                async for msg in pubsub.listen():
                    if msg.get("type") == "message":
                        await self.apply(json.loads(msg["data"]))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Redis subscription lost; retrying in 1 s")
                await asyncio.sleep(1)

    async def apply(self, messages: list[dict]) -> None:
        """Update this worker's cache and emit to this worker's sockets."""
        for msg in messages:
            if msg["type"] == "page":
                await self._apply_page(msg)
            elif msg["type"] == "admin" and self.namespace is not None and self.admin_event:
                self._pushed_events.update(msg.get("event_ids", ()))
                update = {"delta": {}, "events": [{"name": self.admin_event, "payload": {}, "router_data": {}}]}
                await self.namespace.emit("event", update, room=admin_room(msg["organization_id"]))

    async def _apply_page(self, msg: dict) -> None:
        page_id, view_json = msg["page_id"], msg["view"]
        old = self.views.get(page_id)
        view = view_from_json(view_json)
        self.views[page_id] = _Cached(view, view_json, time.monotonic())
        # A renamed, private or deleted page no longer answers to its old slug.
        for slug in [s for s, pid in self.slug_to_id.items() if pid == page_id and (not view.found or s != view.slug)]:
            del self.slug_to_id[slug]
        if view.found:
            self.slug_to_id[view.slug] = page_id
        self.host_to_id.clear()  # a page's domain, visibility or order may have changed
        if old is not None and old.as_json == view_json:
            return  # nothing visible changed
        if self.namespace is not None and self.view_key is not None:
            await self.namespace.emit("event", self._delta(view_json), room=page_room(page_id))
            self._repair_recent_joiners(page_id)

    def _delta(self, view_json: str) -> dict:
        state_name, field = self.view_key
        return {"delta": {state_name: {field: json.loads(view_json)}}, "events": []}

    def _repair_recent_joiners(self, page_id: int) -> None:
        """A visitor whose own load delta was computed just before this push may receive that
        (older) delta after it; send the current view once more to visitors that joined in the
        last second, shortly after, so the newest view always arrives last."""
        now = time.monotonic()
        joined = self._recent_joins.get(page_id, {})
        for sid in [sid for sid, t in joined.items() if now - t > RECENT_JOIN_SECONDS]:
            del joined[sid]
        if not joined:
            return
        sids = list(joined)

        async def resend() -> None:
            cached = self.views.get(page_id)
            if cached is None or self.namespace is None:
                return
            update = self._delta(cached.as_json)
            for sid in sids:
                await self.namespace.emit("event", update, to=sid)

        asyncio.get_running_loop().call_later(REPAIR_DELAY_SECONDS, lambda: asyncio.ensure_future(resend()))

    # ---- what visitors read ---------------------------------------------------------------
    def cached_view(self, page_id: int | None) -> PageView | None:
        if page_id is None:
            return None
        cached = self.views.get(page_id)
        return cached.view if cached else None

    async def load_page(self, *, slug: str | None, host: str | None) -> int | None:
        """The id of the public page for this slug (or host), with its view cached; None if
        there is no such public page."""
        now = time.monotonic()
        page_id = self.slug_to_id.get(slug) if slug else self.host_to_id.get(host or "")
        if page_id is not None:
            cached = self.views.get(page_id)
            if cached and now - cached.loaded_at < CACHE_TTL_SECONDS and cached.view.found:
                return page_id
        found = await self._load_once(slug, host)
        if found is None:
            return None
        page_id, view = found
        view_json = view_to_json(view)
        old = self.views.get(page_id)
        self.views[page_id] = _Cached(view, view_json, now)
        self.slug_to_id[view.slug] = page_id
        if not slug:
            self.host_to_id[host or ""] = page_id
        if old is not None and old.as_json != view_json and self.namespace is not None:
            # Another process changed it: bring everybody on the page up to date.
            await self._apply_page({"page_id": page_id, "view": view_json})
        return page_id

    def room_sizes(self) -> dict[str, int]:
        """Sockets per page room in THIS worker (closed tabs leave their rooms at once)."""
        if self.namespace is None:
            return {}
        rooms = self.namespace.server.manager.rooms.get(self.namespace.namespace, {})
        return {room: len(members) for room, members in rooms.items() if isinstance(room, str) and room.startswith("page-")}

    async def _load_once(self, slug: str | None, host: str | None) -> tuple[int, PageView] | None:
        """One database read per page at a time: a burst of arrivals on a cold cache (or an
        expired one) shares the read in flight instead of each making its own."""
        key = (slug, host if not slug else None)
        pending = self._loading.get(key)
        if pending is None:
            pending = asyncio.ensure_future(asyncio.to_thread(load_public_view, slug, host))
            self._loading[key] = pending
            pending.add_done_callback(lambda _f: self._loading.pop(key, None))
        return await asyncio.shield(pending)

    async def join(self, sid: str, room: str) -> None:
        if self.namespace is not None and sid:
            await self.namespace.enter_room(sid, room)
            if room.startswith("page-"):
                joined = self._recent_joins.setdefault(int(room[5:]), {})
                now = joined[sid] = time.monotonic()
                if len(joined) > 1000:  # a page nobody changes: keep only the last second
                    for old in [k for k, t in joined.items() if now - t > RECENT_JOIN_SECONDS]:
                        del joined[old]

    async def leave(self, sid: str, room: str) -> None:
        if self.namespace is not None and sid and room:
            await self.namespace.leave_room(sid, room)

    # ---- safety net for changes made by other processes ------------------------------------
    async def _watch_outbox(self) -> None:
        with contextlib.suppress(Exception):
            self.last_event_id = await asyncio.to_thread(_max_event_id)
        while True:
            await asyncio.sleep(OUTBOX_POLL_SECONDS)
            try:
                await self.check_outbox()
            except Exception:
                log.exception("outbox watch failed")

    async def check_outbox(self) -> None:
        """Push organizations whose outbox has rows no listener pushed (other processes)."""
        newest, rows = await asyncio.to_thread(_events_since, self.last_event_id)
        for event_id, org_id in rows:
            if event_id in self._pushed_events:
                self._pushed_events.discard(event_id)
            else:  # committed by another process: nobody pushed it yet
                self.mark_dirty(org_id)
        self.last_event_id = max(self.last_event_id, newest)
        self._pushed_events = {i for i in self._pushed_events if i > self.last_event_id}


def tune_gc() -> None:
    """Fewer full garbage collections in a busy worker (measured in bench/live.py).

    Each connected visitor keeps ~300 Python objects alive; at 2,000 visitors a full
    collection stalls the event loop (and every push) for ~0.5 s and, with the default
    thresholds, runs every few seconds while visitors come and go. Freezing what start-up
    allocated and collecting the oldest generation 10x less often made full collections
    ~10x rarer (p95 504 -> 139 ms at 2,000 visitors, 10 changes); nothing is leaked, only
    collected later.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 100)


def view_to_json(view: PageView) -> str:
    return json.dumps(dataclasses.asdict(view), separators=(",", ":"), sort_keys=True)


def view_from_json(text: str) -> PageView:
    from statusapp.queries import GroupView, IncidentView, ServiceView, UpdateView

    data = json.loads(text)

    def inc(d: dict) -> IncidentView:
        return IncidentView(**{**d, "updates": [UpdateView(**u) for u in d["updates"]]})

    data["groups"] = [GroupView(**{**g, "services": [ServiceView(**s) for s in g["services"]]}) for g in data["groups"]]
    data["incidents"] = [inc(i) for i in data["incidents"]]
    data["recent"] = [inc(i) for i in data["recent"]]
    return PageView(**data)


def build_org_messages(organization_id: int) -> list[dict]:
    """Fresh views of every page of an organization, plus the admin console refresh."""
    messages: list[dict] = []
    with session_scope() as session:
        for page in session.exec(select(StatusPage).where(StatusPage.organization_id == organization_id)):
            view = page_view(session, page) if page.is_public else PageView(found=False)
            messages.append({"type": "page", "page_id": page.id, "view": view_to_json(view)})
    messages.append({"type": "admin", "organization_id": organization_id})
    return messages


def load_public_view(slug: str | None, host: str | None) -> tuple[int, PageView] | None:
    with session_scope() as session:
        page = find_page(session, slug=slug, host=host)
        if page is None:
            return None
        return page.id, page_view(session, page)


def _max_event_id() -> int:
    with session_scope() as session:
        return session.exec(select(func.coalesce(func.max(DomainEvent.id), 0))).one()


def _events_since(last_id: int) -> tuple[int, list[tuple[int, int]]]:
    """(newest id, [(event id, organization id)]) of the outbox rows after `last_id`."""
    with session_scope() as session:
        rows = list(
            session.exec(
                select(DomainEvent.id, DomainEvent.organization_id).where(DomainEvent.id > last_id).limit(10_000)
            ).all()
        )
    return (max(r[0] for r in rows) if rows else last_id), [(r[0], r[1]) for r in rows]


hub = LiveHub()
