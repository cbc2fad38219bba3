"""Status pages: create, edit (branding with a live preview, domain), pick and order services, delete."""

from __future__ import annotations

import reflex as rx

from statusapp import routes
from statusapp.domain import domains as domain_ops
from statusapp.domain import pages as ops
from statusapp.domain import validation as limits
from statusapp.domain.validation import bounded_text, parse_id
from statusapp.enums import PageIndicator
from statusapp.queries.admin import AdminPage, AdminService
from statusapp.settings import get_settings
from statusapp.ui.admin.embeds import embed_section, embed_snippets
from statusapp.ui.admin.layout import console, field
from statusapp.ui.admin.state import AdminState
from statusapp.ui.admin.widgets import empty_state
from statusapp.ui.components import card, confirm_button, move_buttons
from statusapp.ui.format import time_text

# The form's text fields and the longest value each may hold (the domain's limits).
FIELD_LIMITS = {
    "name": limits.NAME_MAX,
    "slug": limits.SLUG_MAX,
    "description": limits.PAGE_DESCRIPTION_MAX,
    "custom_domain": limits.DOMAIN_MAX,
    "logo_url": limits.URL_MAX,
    "favicon_url": limits.URL_MAX,
    "brand_color": limits.COLOR_MAX,
    "background_color": limits.COLOR_MAX,
    "time_zone": limits.TIME_ZONE_MAX,
}
TEXT_FIELDS = tuple(FIELD_LIMITS)


class PagesAdmin(AdminState):
    editing_id: int = 0
    form: dict[str, str] = {k: "" for k in TEXT_FIELDS}
    is_public: bool = True
    show_response_times: bool = True
    selected: list[int] = []

    @rx.var
    def selected_services(self) -> list[AdminService]:
        by_id = {s.id: s for s in self.services}
        return [by_id[i] for i in self.selected if i in by_id]

    @rx.var
    def available_services(self) -> list[AdminService]:
        return [s for s in self.services if s.id not in self.selected]

    @rx.var
    def saved_slug(self) -> str:
        """The slug of the page being edited as saved (embed snippets must work as shown)."""
        return next((p.slug for p in self.pages if p.id == self.editing_id), "")

    @rx.var
    def snippets(self) -> list[list[str]]:
        page = next((p for p in self.pages if p.id == self.editing_id), None)
        return embed_snippets(get_settings().public_url, page.slug, page.name) if page else []

    @rx.var
    def editing(self) -> AdminPage:
        """The saved page being edited (its domain check), or an empty one."""
        for p in self.pages:
            if p.id == self.editing_id:
                return p
        return AdminPage()

    @rx.event
    def set_field(self, key: str, value: str):
        if isinstance(key, str) and key in FIELD_LIMITS:
            self.form = {**self.form, key: bounded_text(value, FIELD_LIMITS[key])}

    @rx.event
    def set_is_public(self, value: bool):
        self.is_public = bool(value)

    @rx.event
    def set_show_response_times(self, value: bool):
        self.show_response_times = bool(value)

    @rx.event
    def new(self):
        self.editing_id = 0
        self.form = {k: "" for k in TEXT_FIELDS} | {"brand_color": "#2563eb", "time_zone": "UTC"}
        self.is_public = True
        self.show_response_times = True
        self.selected = [s.id for s in self.services]
        self.errors = {}

    @rx.event
    def edit(self, page_id: int):
        for p in self.pages:
            if p.id == page_id:
                self.editing_id = p.id
                self.form = {k: str(getattr(p, k) or "") for k in TEXT_FIELDS}
                self.is_public = p.is_public
                self.show_response_times = p.show_response_times
                self.selected = list(p.service_ids)
                self.errors = {}

    @rx.event
    def add_service(self, service_id: str):
        sid = parse_id(service_id)
        if sid is not None and sid not in self.selected and any(s.id == sid for s in self.services):
            self.selected = [*self.selected, sid]

    @rx.event
    def remove_service(self, service_id: int):
        self.selected = [i for i in self.selected if i != service_id]

    @rx.event
    def move_service(self, service_id: int, offset: int):
        ids = list(self.selected)
        if service_id not in ids or offset not in (-1, 1):
            return
        i = ids.index(service_id)
        j = max(0, min(len(ids) - 1, i + int(offset)))
        ids.insert(j, ids.pop(i))
        self.selected = ids

    @rx.event
    async def save(self):
        fields = {k: self.form.get(k, "") for k in TEXT_FIELDS}
        fields["is_public"] = self.is_public
        fields["show_response_times"] = self.show_response_times
        if self.editing_id:
            out = await self._call(ops.update_page, done="Page saved.", page_id=self.editing_id, service_ids=self.selected, **fields)
        else:
            out = await self._call(ops.create_page, done="Page created.", service_ids=self.selected, **fields)
        if out.ok:
            self.notice = f"Page '{self.form.get('name', '')}' saved."
            self.editing_id = out.value.id
        return out.event

    @rx.event
    async def delete(self, page_id: int):
        out = await self._call(ops.delete_page, done="Page deleted.", page_id=parse_id(page_id))
        if out.ok and self.editing_id == page_id:
            self.editing_id = 0
        return out.event

    @rx.event
    async def check_domain(self):
        """Look up the edited page's TXT record now (the jobs runner re-checks it later)."""
        if not self.editing_id:
            return None
        out = await self._call(domain_ops.verify_custom_domain, page_id=self.editing_id)
        if out.ok:
            self.notice = out.value.message
        return out.event


def text_field(label: str, key: str, hint: str = "", **props) -> rx.Component:
    return field(
        label,
        rx.input(value=PagesAdmin.form[key], on_change=lambda v: PagesAdmin.set_field(key, v), width="100%",
                 id=f"page-{key}", max_length=FIELD_LIMITS[key], **props),
        key,
        hint,
    )


def preview() -> rx.Component:
    f = PagesAdmin.form
    return rx.box(
        rx.hstack(
            rx.cond(f["logo_url"] != "", rx.image(src=f["logo_url"], height="2em", alt="")),
            rx.heading(rx.cond(f["name"] != "", f["name"], "Page name"), size="5", color=f["brand_color"]),
            align="center",
        ),
        rx.box(
            rx.text("All Systems Operational", color="white", weight="bold"),
            background_color=PageIndicator.none.color,
            padding="0.6em 1em",
            border_radius="var(--radius-3)",
            margin_top="0.75em",
        ),
        rx.foreach(
            PagesAdmin.selected_services,
            lambda s: rx.hstack(rx.text(s.name), rx.text(s.status_label, color=s.status_text_color), justify="between",
                                width="100%", padding_y="0.3em"),
        ),
        padding="1em",
        border="1px solid var(--gray-6)",
        border_radius="var(--radius-3)",
        background_color=rx.cond(f["background_color"] != "", f["background_color"], "var(--color-panel)"),
        width="100%",
        id="page-preview",
    )


def services_picker() -> rx.Component:
    s = PagesAdmin
    return rx.vstack(
        rx.foreach(
            s.selected_services,
            lambda svc: rx.hstack(
                rx.text(svc.name, min_width="12em"),
                move_buttons(s.move_service(svc.id, -1), s.move_service(svc.id, 1)),
                rx.button("Remove", size="1", variant="soft", color_scheme="red", on_click=s.remove_service(svc.id)),
                align="center",
            ),
        ),
        rx.cond(
            s.available_services.length() > 0,
            rx.select.root(
                rx.select.trigger(placeholder="Add a service…", aria_label="Add a service to this page"),
                rx.select.content(
                    rx.foreach(s.available_services, lambda svc: rx.select.item(svc.name, value=svc.id.to_string()))
                ),
                value="",
                on_change=s.add_service,
            ),
        ),
        spacing="1",
    )


def domain_check() -> rx.Component:
    """The saved domain's proof: the TXT record to add, its status in words, a button to check."""
    p = PagesAdmin.editing
    return rx.cond(
        p.custom_domain != "",
        rx.box(
            rx.hstack(
                rx.badge(rx.cond(p.domain_verified, "Verified", "Not verified"),
                         color_scheme=rx.cond(p.domain_verified, "green", "amber"), id="domain-status"),
                rx.button("Check DNS now", size="1", variant="soft", on_click=PagesAdmin.check_domain,
                          id="check-domain"),
                align="center",
            ),
            rx.text("Add this TXT record, then check:", size="1", margin_top="0.4em"),
            rx.code(p.domain_record_name, size="1"),
            rx.code(p.domain_record_value, size="1", id="domain-record-value"),
            rx.cond(
                p.domain_check_result != "",
                rx.text(p.domain_check_result, " (", time_text(p.domain_checked_at, "UTC"), ")", size="1",
                        color_scheme="gray"),
            ),
            rx.text("The domain serves this page only while verified.", size="1", color_scheme="gray"),
            padding="0.5em",
            border="1px solid var(--gray-6)",
            border_radius="var(--radius-2)",
            width="100%",
        ),
    )


def page_row(p) -> rx.Component:
    s = PagesAdmin
    return rx.table.row(
        rx.table.cell(rx.link(p.name, href=routes.page_path(p.slug), is_external=True)),
        rx.table.cell(routes.page_path(p.slug)),
        rx.table.cell(rx.cond(p.is_public, "Public", "Private")),
        rx.table.cell(
            rx.hstack(
                rx.button("Edit", size="1", variant="soft", on_click=s.edit(p.id)),
                confirm_button("Delete", "Delete page " + p.name + "?",
                               "Visitors will get a 404. Services and incidents are kept.", s.delete(p.id),
                               size="1", variant="soft"),
            )
        ),
    )


def pages_page() -> rx.Component:
    s = PagesAdmin
    return console(
        "Status pages",
        card(
            rx.cond(
                AdminState.pages.length() > 0,
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h)
                                                   for h in ("Page", "URL", "Visibility", "")])),
                    rx.table.body(rx.foreach(AdminState.pages, page_row)),
                    width="100%",
                ),
                empty_state("No status page yet.", "Create one with New page: a name, an address (slug), the "
                            "services it shows, and your colours."),
            ),
            rx.button("New page", on_click=s.new, variant="soft", margin_top="0.75em"),
        ),
        card(
            rx.vstack(
                rx.heading(rx.cond(s.editing_id == 0, "New page", "Edit page"), size="4"),
                rx.grid(
                    rx.vstack(
                        text_field("Name", "name"),
                        text_field("Slug", "slug", "lowercase letters, digits, dashes: /status/<slug>"),
                        text_field("Description", "description"),
                        rx.checkbox("Public", checked=s.is_public, on_change=s.set_is_public, id="page-is-public"),
                        rx.checkbox("Show response-time charts of monitored services",
                                    checked=s.show_response_times, on_change=s.set_show_response_times,
                                    id="page-show-response-times"),
                        text_field("Custom domain", "custom_domain", "e.g. status.example.com (optional)"),
                        domain_check(),
                        text_field("Logo URL", "logo_url"),
                        text_field("Favicon URL", "favicon_url"),
                        text_field("Brand colour", "brand_color", "#rrggbb"),
                        text_field("Background colour", "background_color", "#rrggbb, empty for the theme's"),
                        text_field("Time zone", "time_zone", "e.g. UTC, Europe/Paris"),
                        width="100%",
                    ),
                    rx.vstack(
                        rx.heading("Preview", size="3"),
                        preview(),
                        rx.heading("Services on this page", size="3"),
                        field("Services", services_picker(), "service_ids"),
                        width="100%",
                    ),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="5",
                    width="100%",
                ),
                rx.button("Save page", on_click=s.save, id="save-page"),
                width="100%",
            )
        ),
        embed_section(s.saved_slug, s.snippets),
    )
