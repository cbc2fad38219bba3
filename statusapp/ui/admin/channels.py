"""Webhook, Slack and Discord channels of a page: add (a webhook's signing secret is shown
once), send a test, remove; each with how its latest delivery went."""

from __future__ import annotations

import reflex as rx

from statusapp.domain import Actor
from statusapp.domain import subscribers as ops
from statusapp.domain.validation import parse_id
from statusapp.queries import notifications as reads
from statusapp.ui.admin.layout import console, field
from statusapp.ui.admin.state import AdminState
from statusapp.ui.components import card, confirm_button
from statusapp.ui.format import time_text

KINDS = ["slack", "discord", "webhook"]


def _channels(*, actor: Actor) -> list[reads.ChannelRow]:
    return reads.channels(actor.organization_id)


class ChannelsAdmin(AdminState):
    channels: list[reads.ChannelRow] = []
    page_id: str = ""
    kind: str = "slack"
    name: str = ""
    url: str = ""
    secret_once: str = ""  # a new webhook's signing secret, until dismissed

    @rx.event
    async def load(self):
        out = await self._call(_channels)
        if out.ok:
            self.channels = out.value
            if not self.page_id and self.pages:
                self.page_id = str(self.pages[0].id)
        return out.event

    @rx.event
    def set_page_id(self, value: str):
        self.page_id = value

    @rx.event
    def set_kind(self, value: str):
        self.kind = value if value in KINDS else "slack"

    @rx.event
    def set_name(self, value: str):
        self.name = value[:200]

    @rx.event
    def set_url(self, value: str):
        self.url = value[:1200]

    @rx.event
    async def add(self):
        out = await self._call(ops.create_channel, done="Channel added.", page_id=self.page_id, kind=self.kind, url=self.url, name=self.name)
        if not out.ok:
            return out.event
        self.secret_once = out.value.secret
        self.notice = f"{self.kind.capitalize()} channel added."
        self.name, self.url = "", ""
        return await self.load()

    @rx.event
    def dismiss_secret(self):
        self.secret_once = ""

    @rx.event
    async def send_test(self, subscriber_id: int):
        out = await self._call(ops.request_channel_test, done="Test message queued.", subscriber_id=parse_id(subscriber_id))
        if out.ok:
            self.notice = "Test queued: it goes out within seconds. Refresh to see how it went."
        return out.event

    @rx.event
    async def remove(self, subscriber_id: int):
        out = await self._call(ops.remove_subscriber, done="Removed.", subscriber_id=parse_id(subscriber_id))
        if out.ok:
            self.notice = "Channel removed."
            return await self.load()
        return out.event


def channel_row(c) -> rx.Component:
    s = ChannelsAdmin
    return rx.table.row(
        rx.table.cell(rx.text(c.kind_label, weight="medium"), rx.text(c.name, size="1", color_scheme="gray")),
        rx.table.cell(c.page_name),
        rx.table.cell(rx.text(c.target, size="1")),
        rx.table.cell(
            rx.text(c.last_status_label, class_name="channel-status",
                    color=rx.cond(c.last_status == "failed", "var(--red-11)", "")),
            rx.cond(c.last_error != "", rx.text(c.last_error, size="1")),
            rx.cond(c.last_at != "", rx.text(time_text(c.last_at, "UTC"), size="1", color_scheme="gray")),
        ),
        rx.table.cell(
            rx.hstack(
                rx.button("Send test", size="1", variant="soft", on_click=s.send_test(c.id), class_name="send-test"),
                confirm_button("Remove", "Remove this channel?", "It gets nothing more.", s.remove(c.id),
                               size="1", variant="soft"),
            )
        ),
    )


def channels_page() -> rx.Component:
    s = ChannelsAdmin
    return console(
        "Channels",
        rx.cond(
            s.secret_once != "",
            rx.callout(
                rx.vstack(
                    rx.text("The webhook's signing secret, shown only now. Its receiver checks "
                            "X-Statusapp-Signature: t=<time>,v1=HMAC-SHA256(secret, \"<t>.<body>\")."),
                    rx.code(s.secret_once, id="channel-secret"),
                    rx.button("I have stored it", size="1", variant="soft", on_click=s.dismiss_secret),
                ),
                color_scheme="amber",
                role="alert",
            ),
        ),
        card(
            rx.vstack(
                rx.heading("Add a channel", size="4"),
                rx.hstack(
                    field("Status page", rx.select.root(
                        rx.select.trigger(),
                        rx.select.content(rx.foreach(AdminState.pages,
                                                     lambda p: rx.select.item(p.name, value=p.id.to_string()))),
                        value=s.page_id, on_change=s.set_page_id), "page_id"),
                    field("Kind", rx.select(KINDS, value=s.kind, on_change=s.set_kind, id="channel-kind"), "kind"),
                    field("Name (optional)", rx.input(value=s.name, on_change=s.set_name, id="channel-name"), "name"),
                    width="100%",
                ),
                field("Incoming webhook URL", rx.input(value=s.url, on_change=s.set_url, width="100%", id="channel-url",
                                                       placeholder="https://hooks.slack.com/services/..."), "url",
                      hint="Slack and Discord: the channel's incoming-webhook URL. Webhook: any https endpoint; "
                           "it gets Statuspage's subscriber JSON, signed."),
                rx.button("Add channel", on_click=s.add, id="add-channel"),
                width="100%",
            )
        ),
        card(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                               ("Channel", "Page", "Posts to", "Last delivery", "")])),
                rx.table.body(rx.foreach(s.channels, channel_row)),
                width="100%",
                id="channel-table",
            ),
            rx.button("Refresh", size="1", variant="soft", on_click=s.load, margin_top="0.5em"),
        ),
    )
