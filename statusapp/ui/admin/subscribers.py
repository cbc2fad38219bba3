"""Subscribers of a page: counts, search, filter by service, remove, reinstate, CSV export and import."""

from __future__ import annotations

import reflex as rx

from statusapp import routes
from statusapp.domain import Actor
from statusapp.domain import subscribers as ops
from statusapp.domain.validation import parse_id
from statusapp.queries import notifications as reads
from statusapp.ui.admin.layout import console, field
from statusapp.ui.admin.state import AdminState
from statusapp.ui.components import card, confirm_button
from statusapp.ui.format import time_text

ALL = "all"
MAX_UPLOAD_BYTES = ops.MAX_IMPORT_BYTES


def _list(*, actor: Actor, page_id: int, search: str, service_id: int | None, after_id: int) -> reads.SubscriberList:
    return reads.list_subscribers(actor.organization_id, page_id, search=search, service_id=service_id,
                                  after_id=after_id)


class SubscribersAdmin(AdminState):
    page_id: str = ""
    search: str = ""
    service_filter: str = ALL
    rows: list[reads.SubscriberRow] = []
    counts: reads.SubscriberCounts = reads.SubscriberCounts()
    matching: int = 0
    next_after: int = 0
    cursors: list[int] = []  # the `after_id` of each page shown so far (for "Previous")
    csv_text: str = ""
    import_summary: str = ""
    import_errors: list[str] = []

    def _page_id(self) -> int | None:
        chosen = parse_id(self.page_id)
        if chosen is not None and any(p.id == chosen for p in self.pages):
            return chosen
        return self.pages[0].id if self.pages else None

    async def _load(self, after_id: int = 0):
        page_id = self._page_id()
        if page_id is None:
            self.rows, self.counts, self.matching, self.next_after = [], reads.SubscriberCounts(), 0, 0
            return None
        self.page_id = str(page_id)
        service_id = parse_id(self.service_filter)
        out = await self._call(_list, page_id=page_id, search=self.search, service_id=service_id, after_id=after_id)
        if out.ok:
            listing: reads.SubscriberList = out.value
            self.rows, self.counts = listing.rows, listing.counts
            self.matching, self.next_after = listing.matching, listing.next_after
        return out.event

    @rx.event
    async def load(self):
        self.cursors = [0]
        return await self._load(0)

    @rx.event
    async def set_page(self, value: str):
        self.page_id, self.service_filter, self.cursors = value, ALL, [0]
        self.import_summary, self.import_errors = "", []
        return await self._load(0)

    @rx.event
    def set_search(self, value: str):
        self.search = value[:200]

    @rx.event
    async def apply_search(self):
        self.cursors = [0]
        return await self._load(0)

    @rx.event
    async def set_service_filter(self, value: str):
        self.service_filter, self.cursors = value, [0]
        return await self._load(0)

    @rx.event
    async def next_page(self):
        if not self.next_after:
            return None
        self.cursors = [*self.cursors, self.next_after]
        return await self._load(self.next_after)

    @rx.event
    async def previous_page(self):
        if len(self.cursors) > 1:
            self.cursors = self.cursors[:-1]
        return await self._load(self.cursors[-1] if self.cursors else 0)

    @rx.event
    async def remove(self, subscriber_id: int):
        out = await self._call(ops.remove_subscriber, done="Removed.", subscriber_id=parse_id(subscriber_id))
        if out.ok:
            self.notice = "Subscriber removed."
            return await self._load(self.cursors[-1] if self.cursors else 0)
        return out.event

    @rx.event
    async def reinstate(self, subscriber_id: int):
        out = await self._call(ops.reinstate_subscriber, done="Subscriber reinstated.", subscriber_id=parse_id(subscriber_id))
        if out.ok:
            self.notice = "Subscriber reinstated."
            return await self._load(self.cursors[-1] if self.cursors else 0)
        return out.event

    @rx.event
    def set_csv_text(self, value: str):
        self.csv_text = value

    async def _import(self, text: str):
        page_id = self._page_id()
        out = await self._call(ops.import_subscribers, done="Import done.", page_id=page_id, csv_text=text)
        if not out.ok:
            self.import_summary, self.import_errors = "", []
            return out.event
        report: ops.ImportReport = out.value
        self.import_summary = (f"Imported {report.added} new subscriber(s); {report.confirmed} confirmed; "
                               f"{report.unchanged} already subscribed; {len(report.errors)} line(s) with problems.")
        self.import_errors = [f"Line {line}: {message}" for line, message in report.errors[:500]]
        if len(report.errors) > 500:
            self.import_errors.append(f"... and {len(report.errors) - 500} more.")
        self.csv_text = ""
        self.cursors = [0]
        return await self._load(0)

    @rx.event
    async def import_text(self):
        return await self._import(self.csv_text)

    @rx.event
    async def import_file(self, files: list[rx.UploadFile]):
        if not files:
            self.errors = {"csv": "Choose a CSV file first."}
            return None
        data = await files[0].read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            self.errors = {"csv": f"At most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB per import."}
            return None
        return await self._import(data.decode("utf-8-sig", errors="replace"))


def subscriber_row(row) -> rx.Component:
    s = SubscribersAdmin
    return rx.table.row(
        rx.table.cell(
            rx.text(row.address, weight="medium", class_name="subscriber-address"),
            rx.cond(row.contact_email != "", rx.text("confirmed by ", row.contact_email, size="1", color_scheme="gray")),
            rx.cond(row.last_error != "", rx.text(row.last_error, size="1", color="var(--red-11)")),
        ),
        rx.table.cell(row.kind_label),
        rx.table.cell(rx.text(row.status_label, class_name="subscriber-status")),
        rx.table.cell(row.services),
        rx.table.cell(time_text(row.created_at, "UTC")),
        rx.table.cell(
            rx.hstack(
                rx.cond(row.status == "quarantined",
                        rx.button("Reinstate", size="1", variant="soft", high_contrast=True, on_click=s.reinstate(row.id))),
                confirm_button("Remove", "Remove " + row.address + "?",
                               "The address gets nothing more from this page. This cannot be undone.",
                               s.remove(row.id), size="1", variant="soft", high_contrast=True),
                spacing="2",
            )
        ),
    )


def _count(label: str, value) -> rx.Component:
    return rx.vstack(rx.text(label, size="1", color_scheme="gray"), rx.heading(value, size="5"), spacing="0")


def subscribers_page() -> rx.Component:
    s = SubscribersAdmin
    return console(
        "Subscribers",
        rx.hstack(
            rx.text("Status page", as_="label", html_for="subscribers-page", size="2", weight="medium"),
            rx.select.root(
                rx.select.trigger(id="subscribers-page", aria_label="Status page"),
                rx.select.content(rx.foreach(AdminState.pages, lambda p: rx.select.item(p.name, value=p.id.to_string()))),
                value=s.page_id,
                on_change=s.set_page,
            ),
            # A document navigation, not the client-side router: the export is an HTTP route
            # (statusapp.web_subscriptions) answering with an attachment.
            rx.link("Export CSV", href=routes.subscribers_csv_path(s.page_id), reload_document=True,
                    id="export-csv"),
            align="center",
            spacing="3",
        ),
        card(
            rx.hstack(
                _count("Confirmed", s.counts.confirmed),
                _count("Waiting for confirmation", s.counts.pending),
                _count("Unsubscribed", s.counts.unsubscribed),
                _count("Quarantined (bounced)", s.counts.quarantined),
                _count("Total", s.counts.total),
                spacing="6",
                wrap="wrap",
                id="subscriber-counts",
            )
        ),
        card(
            rx.vstack(
                rx.hstack(
                    rx.input(value=s.search, on_change=s.set_search, placeholder="Search addresses",
                             aria_label="Search addresses", id="subscriber-search"),
                    rx.button("Search", on_click=s.apply_search, variant="soft", high_contrast=True),
                    rx.select.root(
                        rx.select.trigger(aria_label="Filter by service"),
                        rx.select.content(
                            rx.select.item("Every service", value=ALL),
                            rx.foreach(AdminState.services, lambda svc: rx.select.item(svc.name, value=svc.id.to_string())),
                        ),
                        value=s.service_filter,
                        on_change=s.set_service_filter,
                    ),
                    rx.text(s.matching, " matching", size="2", color_scheme="gray"),
                    align="center",
                    wrap="wrap",
                ),
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in
                                                   ("Address", "By", "Status", "Services", "Since", "")])),
                    rx.table.body(rx.foreach(s.rows, subscriber_row)),
                    width="100%",
                    id="subscriber-table",
                ),
                rx.hstack(
                    rx.button("Previous", variant="soft", high_contrast=True, size="1", on_click=s.previous_page,
                              disabled=s.cursors.length() <= 1),
                    rx.button("Next", variant="soft", high_contrast=True, size="1", on_click=s.next_page, disabled=s.next_after == 0),
                ),
                width="100%",
            )
        ),
        card(
            rx.vstack(
                rx.heading("Import from CSV", size="4"),
                rx.text("One address per line, optionally followed by service slugs separated by ';' "
                        "(e.g. ada@example.com,api;web). Imported addresses are confirmed: import only people who "
                        "agreed to hear from you. Addresses that unsubscribed are not re-added.",
                        size="2", color_scheme="gray"),
                field("CSV", rx.text_area(value=s.csv_text, on_change=s.set_csv_text, rows="6", width="100%",
                                          id="import-csv", placeholder="email,services"), "csv"),
                rx.hstack(
                    rx.button("Import", on_click=s.import_text, id="import-button"),
                    rx.el.label(
                        rx.upload(rx.button("Choose a file", variant="soft", high_contrast=True, type="button"),
                                  id="csv-upload", max_files=1, accept={"text/csv": [".csv"], "text/plain": [".txt"]},
                                  border="none", padding="0"),
                        aria_label="CSV file to import",
                    ),
                    rx.button("Import the file", variant="soft", high_contrast=True,
                              on_click=s.import_file(rx.upload_files(upload_id="csv-upload"))),
                    align="center",
                ),
                rx.cond(s.import_summary != "", rx.callout(s.import_summary, role="status", id="import-summary", high_contrast=True)),
                rx.cond(s.import_errors.length() > 0,
                        rx.el.ul(rx.foreach(s.import_errors, lambda e: rx.el.li(e)), id="import-errors")),
                width="100%",
            )
        ),
    )
