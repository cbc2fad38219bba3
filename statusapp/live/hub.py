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

from statusapp.db import DatabaseUnavailable, is_outage, session_scope
from statusapp.domain import Change, add_listener, remove_listener
from statusapp.live import protocol, signal
from statusapp.live.bus import LocalBus, RedisBus, channel_for
from statusapp.live.cache import PageCache, View
from statusapp.live.outbox import OutboxWatcher
from statusapp.live.refresher import RefreshScheduler
from statusapp.live.rooms import Rooms
from statusapp.models import StatusPage
from statusapp.queries.public import PageView, load_public_view, org_version, page_view
from statusapp.settings import get_settings

log = logging.getLogger(__name__)

PAGE_ROOM_PREFIX = "page-"


def page_room(page_id: int) -> str:
    return f"{PAGE_ROOM_PREFIX}{page_id}"


def admin_room(organization_id: int) -> str:
    return f"admin-{organization_id}"


def _same(view: View) -> Any:
    return view


UNCHANGED = object()  # a projection's answer when its part did not change: nothing is sent


@dataclasses.dataclass(frozen=True)
class ViewTarget:
    """One place a page view is pushed to: the Reflex state var that holds it in the browser,
    the room prefix of the sockets that show it, and how the full view is cut down for it."""

    state_name: str
    var_name: str
    room_prefix: str = PAGE_ROOM_PREFIX
    project: Callable[[View], Any] = _same
    paused_var: str | None = None  # a bool var told when live updates pause and resume

    def room(self, page_id: int) -> str:
        return f"{self.room_prefix}{page_id}"

    def message(self, view: View) -> dict | None:
        """The delta for this view, or None when the projection says nothing changed for it."""
        data = self.project(view)
        if data is UNCHANGED:
            return None
        return protocol.delta_update(self.state_name, self.var_name, data)


def view_data(view: PageView) -> View:
    """The one conversion of a rebuilt view: to JSON-ready data, cached and pushed as is."""
    return dataclasses.asdict(view)


def build_org_update(organization_id: int) -> dict:
    """Fresh views of every page of an organization, tagged with the organization's version
    (read first, so each view reflects at least that many changes)."""
    with session_scope() as session:
        version = org_version(session, organization_id)
        pages = []
        for page in session.exec(select(StatusPage).where(StatusPage.organization_id == organization_id)):
            view = page_view(session, page, version=version) if page.is_public else PageView(found=False, version=version)
            pages.append({"page_id": page.id, "view": view_data(view)})
    return {"organization_id": organization_id, "version": version, "pages": pages, "event_ids": []}


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
        self.outbox = OutboxWatcher(self.mark_dirty, on_reachable=self.set_database_reachable)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.paused = False  # the database cannot be read: pages show their last known view

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
        ready = asyncio.Event()
        tasks = [
            asyncio.create_task(self.outbox.run(), name="statusapp-outbox-watch"),
            asyncio.create_task(signal.listen(self.on_signal, ready), name="statusapp-change-signal"),
        ]
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(ready.wait(), 5)
        try:
            yield
        finally:
            remove_listener(self.on_change)
            for task in tasks:
                task.cancel()
            await self.bus.stop()
            self.loop = None

    # ---- after-commit hook ----------------------------------------------------------------
    def on_change(self, change: Change) -> None:
        """Domain listener; called in whatever thread committed the change."""
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self.mark_dirty, change.organization_id, [change.event_id])

    def mark_dirty(self, organization_id: int, event_ids=()) -> None:
        self.refresher.mark_dirty(organization_id, event_ids)

    def on_signal(self, organization_id: int, event_ids: list[int]) -> None:
        """Another process (the jobs worker) committed: every worker hears the signal and
        rebuilds for its own sockets, unless a push already covered those outbox rows."""
        if event_ids and self.outbox.all_handled(event_ids):
            return
        self.refresher.mark_dirty(organization_id, event_ids, publish=False)

    async def _rebuild(self, organization_id: int, event_ids: list[int], publish: bool) -> None:
        try:
            update = await asyncio.to_thread(build_org_update, organization_id)
        except Exception as exc:
            if not is_outage(exc):
                raise
            # Pages keep their last view and say so; every cached organization is rebuilt when
            # the database answers again (set_database_reachable).
            if not self.paused:
                log.warning("live refresh paused: database unreachable (%s)", type(exc).__name__)
            await self.set_database_reachable(False)
            return
        await self.set_database_reachable(True)
        # Every worker learns these outbox rows are pushed: its watcher skips them.
        update["event_ids"] = event_ids
        if publish:
            await self.bus.publish([update])
        else:
            await self.apply([update])

    async def settled(self) -> None:
        """Wait until every scheduled rebuild, push and late-joiner repair is done (tests)."""
        await self.refresher.settled()
        await self.rooms.settled()

    # ---- applying pushed views to this worker ---------------------------------------------
    async def apply(self, updates: list[dict]) -> None:
        """Apply organization updates (from `build_org_update`, through the bus) to this
        worker's cache and sockets."""
        for update in updates:
            org_id = update["organization_id"]
            self.cache.forget_hosts()  # a page's domain, visibility or order may have changed
            gone = view_data(PageView(found=False, version=update["version"]))
            # A deleted page is gone from the update: its open visitors see it as not found.
            pages = [(p["page_id"], p["view"]) for p in update["pages"]]
            pages += [(pid, gone) for pid in set(self.cache.page_ids_of(org_id)) - {pid for pid, _ in pages}]
            for page_id, view in pages:
                for listener in self.page_listeners:
                    listener(page_id, view)
                await self._apply_page(page_id, view, org_id)
            self.outbox.note_pushed(update.get("event_ids", ()))
            if self.admin_event:
                await self.rooms.emit(protocol.server_event(self.admin_event), room=admin_room(org_id))

    async def _apply_page(self, page_id: int, view: View, organization_id: int, *, first_load: bool = False) -> None:
        if not self.cache.store(page_id, view, organization_id) or first_load:
            return  # an older view, nothing visible changed, or nobody has seen the page yet
        for target in self.targets:
            message = target.message(view)
            if message is None:
                continue
            room = target.room(page_id)
            await self.rooms.emit(message, room=room)
            self.rooms.repair_recent_joiners(room, lambda t=target: self._current_message(t, page_id))

    async def set_database_reachable(self, reachable: bool) -> None:
        """Tell open pages whether live updates are paused (the database cannot be read), and
        bring every cached page up to date when it can be again."""
        if reachable == (not self.paused):
            return
        self.paused = not reachable
        for target in self.targets:
            if target.paused_var:
                message = protocol.delta_update(target.state_name, target.paused_var, self.paused)
                for room in self.rooms.sizes(target.room_prefix):
                    await self.rooms.emit(message, room=room)
        if reachable:
            for org_id in self.cache.organization_ids():
                self.mark_dirty(org_id)

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
        try:
            found = await self.cache.load_once(slug, host, lambda: load_public_view(slug, host))
        except Exception as exc:
            if not is_outage(exc):
                raise
            await self.set_database_reachable(False)
            page_id = self.cache.known_id(slug, host)
            if page_id is None:
                raise DatabaseUnavailable(str(exc)) from exc
            return page_id  # the last known view; the page says live updates are paused
        await self.set_database_reachable(True)
        if found is None:
            return None
        # A view that differs from a cached one was changed by another process since: the
        # visitors already on the page get it too.
        first_load = self.cache.view(found.page_id) is None
        await self._apply_page(found.page_id, view_data(found.view), found.organization_id, first_load=first_load)
        if not found.view.found:
            return None
        if not slug:
            self.cache.remember_host(host or "", found.page_id)
        return found.page_id

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
