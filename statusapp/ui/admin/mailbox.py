"""The dev mailbox: with no Resend key, every email the app sends is kept in the database and
read here. The HTML is shown in a sandboxed iframe (srcdoc, no scripts, no same-origin), never
put into the console's own page."""

from __future__ import annotations

import reflex as rx

from statusapp.domain import Actor
from statusapp.domain.validation import parse_id
from statusapp.queries import notifications as reads
from statusapp.settings import get_settings
from statusapp.ui.admin.layout import console
from statusapp.ui.admin.state import AdminState
from statusapp.ui.components import card
from statusapp.ui.format import time_text


def _list(*, actor: Actor, search: str) -> list[reads.MailRow]:
    return reads.dev_mails(actor.organization_id, search=search)


def _one(*, actor: Actor, mail_id: int) -> reads.Mail | None:
    return reads.dev_mail(actor.organization_id, mail_id)


class MailboxAdmin(AdminState):
    mails: list[reads.MailRow] = []
    search: str = ""
    mail: reads.Mail = reads.Mail()
    resend_configured: bool = False

    @rx.event
    async def load(self):
        self.resend_configured = bool(get_settings().resend_api_key)
        out = await self._call(_list, search=self.search)
        if out.ok:
            self.mails = out.value
        return out.event

    @rx.event
    def set_search(self, value: str):
        self.search = value[:200]

    @rx.event
    async def open_mail(self, mail_id: int):
        out = await self._call(_one, mail_id=parse_id(mail_id))
        if out.ok:
            self.mail = out.value or reads.Mail()
        return out.event


def mail_row(m) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(m.subject, href="#mail", on_click=MailboxAdmin.open_mail(m.id), class_name="mail-link")),
        rx.table.cell(m.to_address, class_name="mail-to"),
        rx.table.cell(time_text(m.created_at, "UTC")),
    )


def mailbox_page() -> rx.Component:
    s = MailboxAdmin
    return console(
        "Dev mailbox",
        rx.cond(
            s.resend_configured,
            rx.callout("A Resend key is configured: emails go out through Resend. This mailbox shows only what was "
                       "kept while no key was set.", color_scheme="blue", high_contrast=True),
            rx.callout("No Resend key is configured (STATUSAPP_RESEND_API_KEY): every email is kept here instead of "
                       "being sent. Emails older than 7 days are deleted.", color_scheme="amber", high_contrast=True),
        ),
        rx.hstack(
            rx.input(value=s.search, on_change=s.set_search, placeholder="Search address or subject",
                     aria_label="Search the mailbox"),
            rx.button("Search", variant="soft", high_contrast=True, on_click=s.load),
            rx.button("Refresh", variant="soft", high_contrast=True, on_click=s.load, id="refresh-mailbox"),
        ),
        card(
            rx.table.root(
                rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in ("Subject", "To", "Kept")])),
                rx.table.body(rx.foreach(s.mails, mail_row)),
                width="100%",
                id="mail-list",
            )
        ),
        rx.cond(
            s.mail.id != 0,
            card(
                rx.vstack(
                    rx.heading(s.mail.subject, size="4", id="mail-subject"),
                    rx.text("To: ", s.mail.to_address, size="2"),
                    rx.foreach(s.mail.headers, lambda h: rx.text(h, size="1", color_scheme="gray")),
                    # sandbox="" : no scripts, no forms, no same-origin access to the console.
                    rx.el.iframe(src_doc=s.mail.html, sandbox="", title="Email preview", id="mail-html",
                                 width="100%", height="640px",
                                 style={"border": "1px solid var(--gray-6)", "background": "white"}),
                    rx.el.details(rx.el.summary("Plain-text part"),
                                  rx.el.pre(s.mail.text, white_space="pre-wrap", id="mail-text")),
                    width="100%",
                ),
                id="mail",
            ),
        ),
    )
