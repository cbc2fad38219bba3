"""API keys: create one (its token shown once, to copy) and revoke keys of the organization."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt

import reflex as rx

from statusapp.domain import apikeys
from statusapp.domain.validation import parse_id
from statusapp.queries.rest import list_api_keys
from statusapp.ui.admin.layout import console, field
from statusapp.ui.admin.state import AdminState
from statusapp.ui.components import card, confirm_button
from statusapp.ui.format import time_text


@dataclasses.dataclass
class KeyRow:
    id: int = 0
    name: str = ""
    prefix: str = ""
    created_at: str = ""  # ISO 8601 UTC
    revoked: bool = False


def _iso(value: dt.datetime | None) -> str:
    return value.astimezone(dt.timezone.utc).isoformat() if value else ""


class ApiKeysAdmin(AdminState):
    keys: list[KeyRow] = []
    key_name: str = ""
    # The token of the key just created: shown once, dropped when the page is opened again.
    new_token: str = ""

    async def _load_keys(self) -> None:
        actor = await self._actor()
        rows = await asyncio.to_thread(list_api_keys, actor.organization_id) if actor else []
        self.keys = [KeyRow(r.id, r.name, r.prefix, _iso(r.created_at), r.revoked_at is not None) for r in rows]

    @rx.event
    async def open_keys(self):
        self.new_token, self.key_name = "", ""
        redirect = await self.open_console()
        await self._load_keys()
        return redirect

    @rx.event
    def set_key_name(self, value: str):
        self.key_name = value

    @rx.event
    async def create(self):
        out = await self._call(apikeys.create_api_key, done="API key created.", name=self.key_name)
        if out.ok:
            self.new_token, self.key_name = out.value.token, ""
            self.notice = f"Key '{out.value.name}' created. Copy it now: it is not shown again."
            await self._load_keys()
        return out.event

    @rx.event
    async def revoke(self, key_id: int):
        out = await self._call(apikeys.revoke_api_key, done="API key revoked.", api_key_id=parse_id(key_id))
        if out.ok:
            self.new_token = ""
            self.notice = "Key revoked."
            await self._load_keys()
        return out.event


def key_row(k) -> rx.Component:
    return rx.table.row(
        rx.table.cell(k.name),
        rx.table.cell(rx.code(k.prefix + "…")),
        rx.table.cell(time_text(k.created_at, "UTC")),
        rx.table.cell(
            rx.cond(
                k.revoked,
                rx.text("Revoked", color_scheme="gray"),
                confirm_button("Revoke", "Revoke key " + k.name + "?",
                               "Programs using this key get 401 from their next request on.",
                               ApiKeysAdmin.revoke(k.id), size="1", variant="soft"),
            )
        ),
        class_name="api-key",
    )


def api_keys_page() -> rx.Component:
    s = ApiKeysAdmin
    return console(
        "API keys",
        card(
            rx.vstack(
                rx.text("A key lets a program use the admin REST API (/api/v1, docs at /api/docs) for this "
                        "organization. Send it as 'Authorization: Bearer <key>'.", size="2"),
                rx.hstack(
                    field("Name", rx.input(value=s.key_name, on_change=s.set_key_name, placeholder="e.g. deploy bot",
                                           id="api-key-name"), "name"),
                    rx.button("Create key", on_click=s.create, id="create-api-key"),
                    align="end",
                    width="100%",
                ),
                rx.cond(
                    s.new_token != "",
                    rx.callout(
                        rx.vstack(
                            rx.text("Your new key (shown once):", weight="bold"),
                            rx.code(s.new_token, id="new-api-key", style={"word-break": "break-all"}),
                            spacing="1",
                        ),
                        color_scheme="amber",
                        role="status",
                    ),
                ),
                width="100%",
            )
        ),
        card(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("Name", "Key", "Created", "")])),
                rx.table.body(rx.foreach(s.keys, key_row)),
                width="100%",
            )
        ),
    )
