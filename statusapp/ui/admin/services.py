"""Services and groups: create, edit, delete, reorder."""

from __future__ import annotations

import reflex as rx

from statusapp import routes
from statusapp.domain import services as ops
from statusapp.domain.validation import DESCRIPTION_MAX, NAME_MAX, SLUG_MAX, bounded_text, parse_id
from statusapp.ui.admin.layout import console, field
from statusapp.ui.admin.state import AdminState
from statusapp.ui.admin.widgets import empty_state
from statusapp.ui.components import card, confirm_button, move_buttons, status_badge

NO_GROUP = "0"


class ServicesAdmin(AdminState):
    editing_id: int = 0  # 0: the form creates a new service
    name: str = ""
    slug: str = ""
    description: str = ""
    group_id: str = NO_GROUP
    group_name: str = ""

    @rx.event
    def set_name(self, v: str):
        self.name = bounded_text(v, NAME_MAX)

    @rx.event
    def set_slug(self, v: str):
        self.slug = bounded_text(v, SLUG_MAX)

    @rx.event
    def set_description(self, v: str):
        self.description = bounded_text(v, DESCRIPTION_MAX)

    @rx.event
    def set_group_id(self, v: str):
        gid = parse_id(v)
        self.group_id = str(gid) if gid is not None and any(g.id == gid for g in self.groups) else NO_GROUP

    @rx.event
    def set_group_name(self, v: str):
        self.group_name = bounded_text(v, NAME_MAX)

    @rx.event
    def edit(self, service_id: int):
        for svc in self.services:
            if svc.id == service_id:
                self.editing_id, self.name, self.slug = svc.id, svc.name, svc.slug
                self.description, self.group_id = svc.description, str(svc.group_id or 0)
                self.errors = {}

    @rx.event
    def new(self):
        self.editing_id, self.name, self.slug, self.description, self.group_id = 0, "", "", "", NO_GROUP
        self.errors = {}

    @rx.event
    async def save(self):
        gid = parse_id(self.group_id)
        fields = dict(name=self.name, slug=self.slug, description=self.description, group_id=gid)
        if self.editing_id:
            out = await self._call(ops.update_service, done="Service saved.", service_id=self.editing_id, **fields)
        else:
            out = await self._call(ops.create_service, done="Service added.", **fields)
        if out.ok:
            self.notice = f"Service '{self.name}' saved."
            self.editing_id, self.name, self.slug, self.description = 0, "", "", ""
            return out.event
        return out.event

    @rx.event
    async def delete(self, service_id: int):
        out = await self._call(ops.delete_service, done="Service deleted.", service_id=parse_id(service_id))
        return out.event

    @rx.event
    async def move(self, service_id: int, offset: int):
        out = await self._call(ops.move_service, done="Order saved.", service_id=parse_id(service_id), offset=offset)
        return out.event

    @rx.event
    async def add_group(self):
        out = await self._call(ops.create_group, done="Group added.", name=self.group_name)
        if out.ok:
            self.group_name = ""
        return out.event

    @rx.event
    async def rename_group(self, group_id: int, form: dict):
        name = form.get("name", "") if isinstance(form, dict) else ""
        out = await self._call(ops.update_group, done="Group renamed.", group_id=parse_id(group_id), name=bounded_text(name, NAME_MAX + 1))
        if out.ok:
            self.notice = "Group renamed."
        return out.event

    @rx.event
    async def delete_group(self, group_id: int):
        out = await self._call(ops.delete_group, done="Group deleted.", group_id=parse_id(group_id))
        return out.event

    @rx.event
    async def move_group(self, group_id: int, offset: int):
        ids = [g.id for g in self.groups]
        gid = parse_id(group_id)
        if gid not in ids or offset not in (-1, 1):
            return None
        i = ids.index(gid)
        j = max(0, min(len(ids) - 1, i + int(offset)))
        ids.insert(j, ids.pop(i))
        out = await self._call(ops.reorder_groups, done="Order saved.", group_ids=ids)
        return out.event


def service_row(svc) -> rx.Component:
    s = ServicesAdmin
    return rx.table.row(
        rx.table.cell(rx.text(svc.name, weight="medium"), rx.text(svc.slug, size="1", color_scheme="gray")),
        rx.table.cell(svc.group_name),
        rx.table.cell(status_badge(svc.status_label, svc.status_color, svc.status_text_color)),
        rx.table.cell(
            rx.hstack(
                move_buttons(s.move(svc.id, -1), s.move(svc.id, 1)),
                rx.button("Edit", size="1", variant="soft", on_click=s.edit(svc.id)),
                rx.link(rx.button("Monitor", size="1", variant="soft"), href=routes.admin_monitor_path(svc.id)),
                confirm_button("Delete", "Delete " + svc.name + "?",
                               "It leaves every status page. Its status history is kept.", s.delete(svc.id),
                               size="1", variant="soft"),
                spacing="2",
            )
        ),
    )


def group_row(grp) -> rx.Component:
    s = ServicesAdmin
    return rx.hstack(
        rx.form(
            rx.hstack(
                rx.input(name="name", default_value=grp.name, key=grp.id.to_string() + grp.name, size="1",
                         aria_label="Group name"),
                rx.button("Rename", size="1", variant="soft", type="submit"),
            ),
            on_submit=lambda form: s.rename_group(grp.id, form),
        ),
        move_buttons(s.move_group(grp.id, -1), s.move_group(grp.id, 1)),
        confirm_button("Delete", "Delete group " + grp.name + "?", "Its services stay, ungrouped.",
                       s.delete_group(grp.id), size="1", variant="soft"),
        align="center",
    )


def services_page() -> rx.Component:
    s = ServicesAdmin
    return console(
        "Services",
        card(
            rx.vstack(
                rx.heading(rx.cond(s.editing_id == 0, "New service", "Edit service"), size="4"),
                rx.hstack(
                    field("Name", rx.input(value=s.name, on_change=s.set_name, id="service-name", max_length=NAME_MAX), "name"),
                    field("Slug", rx.input(value=s.slug, on_change=s.set_slug, id="service-slug", max_length=SLUG_MAX), "slug",
                          hint="lowercase letters, digits, dashes"),
                    width="100%",
                ),
                field("Description", rx.input(value=s.description, on_change=s.set_description, width="100%",
                                              max_length=DESCRIPTION_MAX), "description"),
                field(
                    "Group",
                    rx.select.root(
                        rx.select.trigger(),
                        rx.select.content(
                            rx.select.item("No group", value=NO_GROUP),
                            rx.foreach(AdminState.groups, lambda g: rx.select.item(g.name, value=g.id.to_string())),
                        ),
                        value=s.group_id,
                        on_change=s.set_group_id,
                    ),
                    "group_id",
                ),
                rx.hstack(
                    rx.button("Save service", on_click=s.save, id="save-service"),
                    rx.cond(s.editing_id != 0, rx.button("Cancel", variant="soft", on_click=s.new)),
                ),
                width="100%",
            )
        ),
        card(
            rx.cond(
                AdminState.services.length() > 0,
                rx.table.root(
                    rx.table.header(rx.table.row(*[rx.table.column_header_cell(h)
                                                   for h in ("Service", "Group", "Status", "")])),
                    rx.table.body(rx.foreach(AdminState.services, service_row)),
                    width="100%",
                ),
                empty_state("No services yet.", "Add the first one above: a name (\"API\") and a slug (\"api\"). "
                            "Then choose which status pages show it."),
            )
        ),
        card(
            rx.vstack(
                rx.heading("Groups", size="4"),
                rx.foreach(AdminState.groups, group_row),
                rx.hstack(
                    field("New group", rx.input(value=s.group_name, on_change=s.set_group_name, id="group-name",
                                                max_length=NAME_MAX), "name"),
                    rx.button("Add group", on_click=s.add_group),
                    align="end",
                ),
            )
        ),
    )
