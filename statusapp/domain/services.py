"""Operations on services (Statuspage components) and their groups."""

from __future__ import annotations

from sqlmodel import func, select

from statusapp.domain.base import Actor, unit_of_work
from statusapp.domain.errors import NotFound, ValidationError
from statusapp.domain.servicestatus import lock_services, recompute_services
from statusapp.domain.events import (
    GroupCreated,
    GroupDeleted,
    GroupsReordered,
    GroupUpdated,
    ServiceCreated,
    ServiceDeleted,
    ServicesReordered,
    ServiceStatusSet,
    ServiceUpdated,
)
from statusapp.domain.validation import (
    DESCRIPTION_MAX,
    NAME_MAX,
    UNSET,
    Errors,
    clean_enum,
    clean_slug,
    clean_text,
    parse_id,
)
from statusapp.enums import ChangeCause, ServiceStatus
from statusapp.models import Service, ServiceGroup, ServiceStatusChange, utcnow

def _get_service(session, actor: Actor, service_id: int) -> Service:
    key = parse_id(service_id)
    svc = session.get(Service, key) if key is not None else None
    if svc is None or svc.organization_id != actor.organization_id:
        raise NotFound("service", service_id)
    return svc


def _get_group(session, actor: Actor, group_id: int) -> ServiceGroup:
    key = parse_id(group_id)
    grp = session.get(ServiceGroup, key) if key is not None else None
    if grp is None or grp.organization_id != actor.organization_id:
        raise NotFound("group", group_id)
    return grp


def _check_group(session, actor: Actor, errors: Errors, group_id: int | None) -> int | None:
    if group_id in (None, "", 0, "0"):
        return None
    key = parse_id(group_id)
    grp = session.get(ServiceGroup, key) if key is not None else None
    if grp is None or grp.organization_id != actor.organization_id:
        errors.add("group_id", "Unknown group.")
        return None
    return grp.id


def create_group(*, actor: Actor, name: str, description: str = "") -> ServiceGroup:
    errors = Errors()
    name = clean_text(errors, "name", name, max_len=NAME_MAX, required=True)
    description = clean_text(errors, "description", description, max_len=DESCRIPTION_MAX)
    errors.raise_if_any()
    with unit_of_work() as uow:
        pos = uow.session.exec(
            select(func.coalesce(func.max(ServiceGroup.position), -1)).where(
                ServiceGroup.organization_id == actor.organization_id
            )
        ).one()
        grp = ServiceGroup(organization_id=actor.organization_id, name=name, description=description, position=pos + 1)
        uow.session.add(grp)
        uow.session.flush()
        uow.announce(actor.organization_id, GroupCreated(group_id=grp.id))
    return grp


def update_group(*, actor: Actor, group_id: int, name: str = UNSET, description: str = UNSET) -> ServiceGroup:
    errors = Errors()
    with unit_of_work() as uow:
        grp = _get_group(uow.session, actor, group_id)
        if name is not UNSET:
            grp.name = clean_text(errors, "name", name, max_len=NAME_MAX, required=True)
        if description is not UNSET:
            grp.description = clean_text(errors, "description", description, max_len=DESCRIPTION_MAX)
        errors.raise_if_any()
        uow.session.add(grp)
        uow.announce(actor.organization_id, GroupUpdated(group_id=grp.id))
    return grp


def delete_group(*, actor: Actor, group_id: int) -> None:
    """Delete a group; its services stay, ungrouped."""
    with unit_of_work() as uow:
        grp = _get_group(uow.session, actor, group_id)
        for svc in uow.session.exec(select(Service).where(Service.group_id == grp.id)):
            svc.group_id = None
            uow.session.add(svc)
        uow.session.delete(grp)
        uow.announce(actor.organization_id, GroupDeleted(group_id=group_id))


def reorder_groups(*, actor: Actor, group_ids: list[int]) -> None:
    """Put the organization's groups in this order (each listed once; one read whatever the list)."""
    with unit_of_work() as uow:
        owned = {
            g.id: g
            for g in uow.session.exec(select(ServiceGroup).where(ServiceGroup.organization_id == actor.organization_id))
        }
        ids = [parse_id(g) for g in group_ids] if isinstance(group_ids, (list, tuple)) else [None]
        if len(ids) > len(owned) or len(set(ids)) != len(ids) or any(i not in owned for i in ids):
            raise ValidationError.one("group_ids", "List each of your groups at most once.")
        groups = [owned[i] for i in ids]
        for pos, grp in enumerate(groups):
            grp.position = pos
            uow.session.add(grp)
        uow.announce(actor.organization_id, GroupsReordered(group_ids=ids))


def create_service(
    *,
    actor: Actor,
    name: str,
    slug: str,
    description: str = "",
    group_id: int | None = None,
    manual_status: str = ServiceStatus.operational.value,
) -> Service:
    errors = Errors()
    name = clean_text(errors, "name", name, max_len=NAME_MAX, required=True)
    slug = clean_slug(errors, "slug", slug)
    description = clean_text(errors, "description", description, max_len=DESCRIPTION_MAX)
    status = clean_enum(errors, "manual_status", manual_status, ServiceStatus)
    with unit_of_work() as uow:
        s = uow.session
        gid = _check_group(s, actor, errors, group_id)
        if slug and "slug" not in errors.errors and s.exec(
            select(Service).where(Service.organization_id == actor.organization_id, Service.slug == slug)
        ).first():
            errors.conflict("slug", f"A service with slug '{slug}' already exists.")
        errors.raise_if_any()
        pos = s.exec(
            select(func.coalesce(func.max(Service.position), -1)).where(Service.organization_id == actor.organization_id)
        ).one()
        svc = Service(
            organization_id=actor.organization_id,
            name=name,
            slug=slug,
            description=description,
            group_id=gid,
            position=pos + 1,
            manual_status=status.value,
            status=status.value,  # a new service has no incident yet: shown = manual
        )
        s.add(svc)
        s.flush()
        # The first history row: the service exists from now, in this status.
        s.add(
            ServiceStatusChange(
                organization_id=actor.organization_id,
                service_id=svc.id,
                service_name=svc.name,
                from_status=None,
                to_status=svc.status,
                cause=ChangeCause.manual.value,
                actor_user_id=actor.user_id,
                actor_api_key_id=actor.api_key_id,
            )
        )
        uow.announce(actor.organization_id, ServiceCreated(service_id=svc.id))
    return svc


def update_service(
    *,
    actor: Actor,
    service_id: int,
    name: str = UNSET,
    slug: str = UNSET,
    description: str = UNSET,
    group_id: int | None = UNSET,
) -> Service:
    errors = Errors()
    with unit_of_work() as uow:
        s = uow.session
        svc = _get_service(s, actor, service_id)
        # No autoflush while checking: the group lookup must not write a taken slug first.
        with s.no_autoflush:
            if name is not UNSET:
                svc.name = clean_text(errors, "name", name, max_len=NAME_MAX, required=True)
            if slug is not UNSET:
                new_slug = clean_slug(errors, "slug", slug)
                if new_slug != svc.slug and "slug" not in errors.errors and s.exec(
                    select(Service).where(Service.organization_id == actor.organization_id, Service.slug == new_slug)
                ).first():
                    errors.conflict("slug", f"A service with slug '{new_slug}' already exists.")
                svc.slug = new_slug
            if description is not UNSET:
                svc.description = clean_text(errors, "description", description, max_len=DESCRIPTION_MAX)
            if group_id is not UNSET:
                svc.group_id = _check_group(s, actor, errors, group_id)
            errors.raise_if_any()
        svc.updated_at = utcnow()
        s.add(svc)
        uow.announce(actor.organization_id, ServiceUpdated(service_id=svc.id))
    return svc


def set_manual_status(*, actor: Actor, service_id: int, status: str) -> Service:
    """Set the status an admin (or the monitor, via actor.source) declares for a service.

    The displayed status stays the worst of this and every active incident's impact.
    """
    errors = Errors()
    new = clean_enum(errors, "status", status, ServiceStatus)
    errors.raise_if_any()
    with unit_of_work() as uow:
        key = parse_id(service_id)
        svc = lock_services(uow.session, [key]).get(key) if key is not None else None
        if svc is None or svc.organization_id != actor.organization_id:
            raise NotFound("service", service_id)
        svc.manual_status = new.value
        uow.session.add(svc)
        changes = recompute_services(uow, [svc], actor=actor, cause=actor.source)
        uow.announce(
            actor.organization_id, ServiceStatusSet(service_id=svc.id, manual_status=new.value, changes=changes)
        )
    return svc


def delete_service(*, actor: Actor, service_id: int) -> None:
    """Delete a service; its status history is kept (service_id set null, name kept)."""
    with unit_of_work() as uow:
        svc = _get_service(uow.session, actor, service_id)
        uow.session.delete(svc)
        uow.announce(actor.organization_id, ServiceDeleted(service_id=service_id))


def move_service(*, actor: Actor, service_id: int, offset: int) -> None:
    """Move a service up (-1) or down (+1) among the services of its group."""
    if isinstance(offset, bool) or not isinstance(offset, int) or offset not in (-1, 1):
        raise ValidationError.one("offset", "Move by -1 (up) or 1 (down).")
    with unit_of_work() as uow:
        svc = _get_service(uow.session, actor, service_id)
        same_group = (
            Service.group_id.is_(None) if svc.group_id is None else Service.group_id == svc.group_id
        )
        siblings = list(
            uow.session.exec(
                select(Service)
                .where(Service.organization_id == actor.organization_id, same_group)
                .order_by(Service.position, Service.id)
            )
        )
        idx = next(i for i, x in enumerate(siblings) if x.id == svc.id)
        j = max(0, min(len(siblings) - 1, idx + offset))
        siblings.insert(j, siblings.pop(idx))
        for pos, x in enumerate(siblings):
            x.position = pos
            uow.session.add(x)
        uow.announce(actor.organization_id, ServicesReordered(service_ids=[x.id for x in siblings]))
