"""AdminState: the signed-in user's console data, and the one way handlers call the domain.

Any websocket client can call any handler by name, so a page guard is cosmetic: each
handler goes through `_call`, which resolves the HttpOnly session cookie of the socket's
handshake to a user on the server, or does nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import reflex as rx

from statusapp import access, routes
from statusapp.db import is_outage
from statusapp.domain import Actor, DomainError, ValidationError
from statusapp.live import admin_room, hub
from statusapp.queries.admin import AdminGroup, AdminIncident, AdminMaintenance, AdminPage, AdminService, load_admin_data

DATABASE_UNAVAILABLE = "Database unavailable: not saved. Try again."


def failure_text(errors: dict[str, str]) -> str:
    """A failed form's toast: its one message, or a pointer to the messages by the fields."""
    if set(errors) == {"_"}:
        return errors["_"]
    return "Not saved: " + (next(iter(errors.values())) if len(errors) == 1 else
                            f"{len(errors)} fields need a fix (see the messages by them).")


@dataclasses.dataclass
class Outcome:
    ok: bool
    value: Any = None
    event: Any = None


class AdminState(rx.State):
    user_email: str = ""
    signed_in: bool = False
    services: list[AdminService] = []
    groups: list[AdminGroup] = []
    pages: list[AdminPage] = []
    incidents: list[AdminIncident] = []
    maintenances: list[AdminMaintenance] = []
    # Field -> message of the last failed form, shown next to each field.
    errors: dict[str, str] = {}
    notice: str = ""
    # The last confirmation or failure, shown briefly as a toast; seq restarts its animation.
    toast_text: str = ""
    toast_kind: str = "success"
    toast_seq: int = 0
    _room: str = ""

    @rx.var
    def open_incidents(self) -> list[AdminIncident]:
        return [i for i in self.incidents if i.active]

    async def _actor(self) -> Actor | None:
        """The signed-in user of this websocket, resolved on the server, or None. A socket
        opened by another site's page is refused (cross-site websocket hijacking)."""
        if not access.same_origin(self.router.headers.origin, self.router.headers.host):
            self.signed_in = False
            return None
        token = access.session_token_from_cookie_header(self.router.headers.cookie)
        user = await asyncio.to_thread(access.session_user, token)
        if user is None:
            # Signed out or expired: drop what this tab was shown.
            self.signed_in, self.user_email = False, ""
            self.services, self.groups, self.pages, self.incidents = [], [], [], []
            self.maintenances = []
            return None
        self.user_email = user.email
        self.signed_in = True
        return access.actor_for(user)

    async def _call(self, operation: Callable[..., Any], *, done: str | None = None, **kwargs: Any) -> Outcome:
        """Run a domain operation as the signed-in user; field errors land in `errors`.

        Every change confirms itself with a short toast (`done`, for operations that change
        something), and every failure says why in one (field errors also show by their fields).
        A handler returns `outcome.event` (the sign-in redirect, or nothing): never the
        operation's value, which is a database row Reflex cannot send.
        """
        try:
            actor = await self._actor()
            if actor is None:
                return Outcome(False, None, self._to_sign_in())
            value = await asyncio.to_thread(operation, actor=actor, **kwargs)
        except ValidationError as exc:
            self.errors, self.notice = exc.errors, ""
            self._toast("error", failure_text(exc.errors))
            return Outcome(False)
        except DomainError as exc:  # NotFound, AuthError...
            self.errors, self.notice = {"_": str(exc)}, ""
            self._toast("error", str(exc))
            return Outcome(False)
        except Exception as exc:
            if not is_outage(exc):
                raise
            self.errors, self.notice = {"_": DATABASE_UNAVAILABLE}, ""
            self._toast("error", DATABASE_UNAVAILABLE)
            return Outcome(False)
        self.errors = {}
        if done:
            self._toast("success", done)
        await self._reload_if_reachable(actor)
        return Outcome(True, value)

    def _toast(self, kind: str, text: str) -> None:
        """Show a short message in the corner (ui/admin/layout.py `toast`). Plain state, not
        Reflex's rx.toast: that runs through eval, which the Content-Security-Policy forbids."""
        self.toast_kind, self.toast_text, self.toast_seq = kind, text, self.toast_seq + 1

    async def _reload_if_reachable(self, actor: Actor) -> None:
        try:
            await self._reload(actor)
        except Exception as exc:
            if not is_outage(exc):
                raise
            self.errors = {"_": "Database unavailable: the lists below may be out of date."}

    async def _reload(self, actor: Actor) -> None:
        data = await asyncio.to_thread(load_admin_data, actor.organization_id)
        self.services, self.groups, self.pages, self.incidents = data.services, data.groups, data.pages, data.incidents
        self.maintenances = data.maintenances

    def _to_sign_in(self):
        """To the sign-in page, which brings the admin back to this console page afterwards."""
        return rx.redirect(routes.login_path(next_path=self.router.url.path))

    def _client_address(self) -> str:
        """This socket's client address, through the trusted proxies (access.client_address)."""
        headers = self.router.headers
        return access.client_address(self.router.session.client_ip, headers.raw_headers.get("x-forwarded-for"))

    @rx.event
    async def open_console(self):
        """on_load of every admin page: sign-in check, data, live updates from other admins."""
        try:
            actor = await self._actor()
        except Exception as exc:
            if not is_outage(exc):
                raise
            self.errors, self.notice = {"_": "Database unavailable: cannot check your session. Retry in a moment."}, ""
            return None
        if actor is None:
            return self._to_sign_in()
        self.errors, self.notice = {}, ""
        room = admin_room(actor.organization_id)
        sid = self.router.session.session_id
        if self._room != room:
            await hub.join(sid, room)
            self._room = room
        else:
            await hub.join(sid, room)  # a reconnect has a new socket id
        await self._reload_if_reachable(actor)

    @rx.event
    async def refresh(self):
        """Sent by the server (statusapp.live) to every console of the organization on a change."""
        try:
            actor = await self._actor()
        except Exception as exc:
            if is_outage(exc):
                return
            raise
        if actor is not None:
            await self._reload_if_reachable(actor)

    @rx.event
    def clear_errors(self):
        self.errors = {}
        self.notice = ""
