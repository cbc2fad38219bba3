"""Socket rooms of this worker: who watches which page, and the repair of late joiners.

Why rooms: one emit to a socket.io room reaches every visitor of a page, whatever their
number, with one encoding. Why the repair: a visitor whose own load delta was computed just
before a push may receive that (older) delta after it; so visitors who joined within the
last second get the newest view once more, shortly after each push.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

RECENT_JOIN_SECONDS = 1.0
REPAIR_DELAY_SECONDS = 0.15
_MAX_TRACKED_JOINS = 1000


class Rooms:
    def __init__(self) -> None:
        self.namespace: Any = None  # reflex EventNamespace (a socket.io AsyncNamespace)
        self._recent_joins: dict[str, dict[str, float]] = {}  # room -> sid -> joined at
        self._repairs: set[asyncio.Task] = set()

    async def join(self, sid: str, room: str, *, track: bool = False) -> None:
        if self.namespace is None or not sid:
            return
        await self.namespace.enter_room(sid, room)
        if track:
            joined = self._recent_joins.setdefault(room, {})
            now = joined[sid] = time.monotonic()
            if len(joined) > _MAX_TRACKED_JOINS:  # a page nobody changes: keep only the last second
                for old in [k for k, t in joined.items() if now - t > RECENT_JOIN_SECONDS]:
                    del joined[old]

    async def leave(self, sid: str, room: str) -> None:
        if self.namespace is not None and sid and room:
            await self.namespace.leave_room(sid, room)

    async def emit(self, message: dict, *, room: str | None = None, to: str | None = None) -> None:
        if self.namespace is not None:
            from statusapp.live.protocol import EMIT_EVENT

            await self.namespace.emit(EMIT_EVENT, message, room=room, to=to)

    def sizes(self, prefix: str) -> dict[str, int]:
        """Sockets per room whose name starts with `prefix` (closed tabs leave at once)."""
        if self.namespace is None:
            return {}
        rooms = self.namespace.server.manager.rooms.get(self.namespace.namespace, {})
        return {room: len(members) for room, members in rooms.items() if isinstance(room, str) and room.startswith(prefix)}

    def repair_recent_joiners(self, room: str, current: Callable[[], dict | None]) -> None:
        """Re-send `current()` to the sockets that joined `room` in the last second, after a
        short delay, so the newest view is always the last one they receive."""
        now = time.monotonic()
        joined = self._recent_joins.get(room, {})
        for sid in [sid for sid, t in joined.items() if now - t > RECENT_JOIN_SECONDS]:
            del joined[sid]
        if not joined:
            return
        sids = list(joined)

        async def resend() -> None:
            await asyncio.sleep(REPAIR_DELAY_SECONDS)
            message = current()
            if message is None:
                return
            for sid in sids:
                await self.emit(message, to=sid)

        task = asyncio.ensure_future(resend())
        self._repairs.add(task)
        task.add_done_callback(self._repairs.discard)

    async def settled(self) -> None:
        """Wait for the scheduled repairs (tests)."""
        while self._repairs:
            await asyncio.gather(*list(self._repairs), return_exceptions=True)
