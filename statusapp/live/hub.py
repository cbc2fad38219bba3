"""The live hub: after a change commits, every open visitor sees the new page within a second.

Design (measured in bench/live.py; see docs/BENCHMARKS.md): visitors of a page join the
socket.io room of that page when their page loads (and again on every reconnect, since
Reflex re-runs on_load then). A committed change makes the hub rebuild the page's view ONCE,
keep it in the per-process cache, and send ONE precomputed Reflex delta per target to the
room: a single `emit`, encoded once, whatever the number of visitors. No visitor's
server-side state is touched: the page's `view` is an uncached computed var that reads the
cache, so a hydrate, a reconnect or any later event always computes the current view.

The hub only wires its parts together, one job each: `PageCache` (views and lookups),
`Rooms` (sockets and late joiners), a bus (`LocalBus`, or `RedisBus` with several workers),
`RefreshScheduler` (one rebuild per organization per burst of changes), `OutboxWatcher`
(changes committed by other processes), and `protocol` (Reflex's message shapes).
A view can be pushed to several targets (the full page, the embed widget): each is a
Reflex state var with its own room and its own projection of the view. Page listeners
(`on_page_pushed`: the JSON API's document cache) hear every pushed rebuild in every worker.
Admin consoles join `admin-<org>` and get a server-sent `refresh` event instead of a delta.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
from collections.abc import Callable
from typing import Any

from sqlmodel import select

from statusapp.db import session_scope
from statusapp.domain import Change, add_listener, remove_listener
from statusapp.live import protocol
from statusapp.live.bus import LocalBus, RedisBus, channel_for
from statusapp.live.cache import PageCache, View
from statusapp.live.outbox import OutboxWatcher
from statusapp.live.refresher import RefreshScheduler
from statusapp.live.rooms import Rooms
from statusapp.models import StatusPage
from statusapp.queries.public import PageView, load_public_view, page_view
from statusapp.settings import get_settings

log = logging.getLogger(__name__)

PAGE_ROOM_PREFIX = "page-"


def page_room(page_id: int) -> str:
    return f"{PAGE_ROOM_PREFIX}{page_id}"


def admin_room(organization_id: int) -> str:
    return f"admin-{organization_id}"


def _same(view: View) -> Any:
    return view


@dataclasses.dataclass(frozen=True)
class ViewTarget:
    """One place a page view is pushed to: the Reflex state var that holds it in the browser,
    the room prefix of the sockets that show it, and how the full view is cut down for it."""

    state_name: str
    var_name: str
    room_prefix: str = PAGE_ROOM_PREFIX
    project: Callable[[View], Any] = _same

    def room(self, page_id: int) -> str:
        return f"{self.room_prefix}{page_id}"

    def message(self, view: View) -> dict:
        return protocol.delta_update(self.state_name, self.var_name, self.project(view))


def view_data(view: PageView) -> View:
    """The one conversion of a rebuilt view: to JSON-ready data, cached and pushed as is."""
    return dataclasses.asdict(view)


def build_org_messages(organization_id: int) -> list[dict]:
    """Fresh views of every page of an organization, plus the admin console refresh."""
    messages: list[dict] = []
    with session_scope() as session:
        for page in session.exec(select(StatusPage).where(StatusPage.organization_id == organization_id)):
            view = page_view(session, page) if page.is_public else PageView(found=False)
            messages.append({"type": "page", "page_id": page.id, "view": view_data(view)})
    messages.append({"type": "admin", "organization_id": organization_id})
    return messages


class LiveHub:
    """One per process."""

    def __init__(self) -> None:
        self.cache = PageCache()
        self.rooms = Rooms()
        self.targets: list[ViewTarget] = []
        self.admin_event: str | None = None  # full name of the console's refresh handler
        self.page_listeners: list[Callable[[int, View], None]] = []
        self.bus: LocalBus | RedisBus = LocalBus(self.apply)
        self.refresher = RefreshScheduler(self._rebuild)
        self.outbox = OutboxWatcher(self.mark_dirty)
        self.loop: asyncio.AbstractEventLoop | None = None

    # ---- wiring -------------------------------------------------------------------------
    def configure(self, *, targets: list[ViewTarget], admin_event: str) -> None:
        self.targets = list(targets)
        self.admin_event = admin_event

    def on_page_pushed(self, listener: Callable[[int, View], None]) -> None:
        """Call `listener(page_id, view)` in this worker for every pushed rebuild of a page,
        changed or not (e.g. the JSON API's cache drops that page's documents)."""
        if listener not in self.page_listeners:
            self.page_listeners.append(listener)

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any):
        """Reflex lifespan task: runs in every backend worker."""
        self.loop = asyncio.get_running_loop()
        self.rooms.namespace = app.event_namespace
        tune_gc()
        add_listener(self.on_change)
        settings = get_settings()
        if settings.redis_url:
            self.bus = RedisBus(self.apply, settings.redis_url, channel_for(settings.effective_database_url))
        else:
            self.bus = LocalBus(self.apply)
        await self.bus.start()
        watcher = asyncio.create_task(self.outbox.run(), name="statusapp-outbox-watch")
        try:
            yield
        finally:
            remove_listener(self.on_change)
            watcher.cancel()
            await self.bus.stop()
            self.loop = None

    # ---- after-commit hook ----------------------------------------------------------------
    def on_change(self, change: Change) -> None:
        """Domain listener; called in whatever thread committed the change."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self.mark_dirty, change.organization_id, change.event_id)

    def mark_dirty(self, organization_id: int, event_id: int | None = None) -> None:
        self.refresher.mark_dirty(organization_id, event_id)

    async def _rebuild(self, organization_id: int, event_ids: list[int]) -> None:
        messages = await asyncio.to_thread(build_org_messages, organization_id)
        # Every worker learns these outbox rows are pushed: its watcher skips them.
        messages[-1]["event_ids"] = event_ids
        await self.bus.publish(messages)

    async def settled(self) -> None:
        """Wait until every scheduled rebuild, push and late-joiner repair is done (tests)."""
        await self.refresher.settled()
        await self.rooms.settled()

    # ---- applying pushed views to this worker ---------------------------------------------
    async def apply(self, messages: list[dict]) -> None:
        """Update this worker's cache and emit to this worker's sockets."""
        for msg in messages:
            if msg["type"] == "page":
                for listener in self.page_listeners:
                    listener(msg["page_id"], msg["view"])
                await self._apply_page(msg["page_id"], msg["view"])
            elif msg["type"] == "admin":
                self.outbox.note_pushed(msg.get("event_ids", ()))
                if self.admin_event:
                    await self.rooms.emit(protocol.server_event(self.admin_event), room=admin_room(msg["organization_id"]))

    async def _apply_page(self, page_id: int, view: View, *, pushed: bool = True) -> None:
        if pushed:
            self.cache.forget_hosts()
        first_load = not pushed and self.cache.view(page_id) is None
        if not self.cache.store(page_id, view) or first_load:
            return  # nothing visible changed, or nobody has seen the page yet
        for target in self.targets:
            room = target.room(page_id)
            await self.rooms.emit(target.message(view), room=room)
            self.rooms.repair_recent_joiners(room, lambda t=target: self._current_message(t, page_id))

    def _current_message(self, target: ViewTarget, page_id: int) -> dict | None:
        view = self.cache.view(page_id)
        return target.message(view) if view is not None else None

    # ---- what visitors read ---------------------------------------------------------------
    def cached_view(self, page_id: int | None) -> View | None:
        return self.cache.view(page_id)

    def is_public_slug(self, slug: str) -> bool:
        """Whether this worker's cache knows `slug` as a public page (False: ask the database)."""
        return self.cache.is_public_slug(slug)

    async def load_page(self, *, slug: str | None, host: str | None) -> int | None:
        """The id of the public page at `/status/<slug>` (or, with slug None, at `/` for this
        Host), with its view cached; None if there is no such public page."""
        page_id = self.cache.fresh_id(slug, host)
        if page_id is not None:
            return page_id
        found = await self.cache.load_once(slug, host, lambda: load_public_view(slug, host))
        if found is None:
            return None
        page_id, view = found
        # A view that differs from a cached one was changed by another process since: the
        # visitors already on the page get it too.
        await self._apply_page(page_id, view_data(view), pushed=False)
        if not slug:
            self.cache.remember_host(host or "", page_id)
        return page_id

    async def join_view(self, sid: str, target: ViewTarget, page_id: int) -> str:
        """Put a visitor's socket in the target's room of the page; returns the room."""
        room = target.room(page_id)
        await self.rooms.join(sid, room, track=True)
        return room

    async def join(self, sid: str, room: str) -> None:
        await self.rooms.join(sid, room)

    async def leave(self, sid: str, room: str) -> None:
        await self.rooms.leave(sid, room)

    def room_sizes(self) -> dict[str, int]:
        """Visitor sockets per page room in THIS worker."""
        return self.rooms.sizes(PAGE_ROOM_PREFIX)


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


hub = LiveHub()
