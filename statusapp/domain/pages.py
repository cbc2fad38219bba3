"""Operations on status pages: create, edit (branding, domain), choose services, delete."""

from __future__ import annotations

from typing import Any

from sqlmodel import delete, select

from statusapp.domain.base import Actor, unit_of_work
from statusapp.domain.domains import new_domain_token
from statusapp.domain.errors import NotFound
from statusapp.domain.events import PageCreated, PageDeleted, PageUpdated
from statusapp.domain.validation import (
    NAME_MAX,
    PAGE_DESCRIPTION_MAX,
    Errors,
    clean_color,
    clean_domain,
    clean_id,
    clean_slug,
    clean_text,
    clean_timezone,
    clean_url,
    parse_id,
)
from statusapp.models import Service, StatusPage, StatusPageService, utcnow

# Field -> cleaner for the editable settings of a page (slug handled apart: uniqueness).
_CLEANERS = {
    "name": lambda e, v: clean_text(e, "name", v, max_len=NAME_MAX, required=True),
    "description": lambda e, v: clean_text(e, "description", v, max_len=PAGE_DESCRIPTION_MAX),
    "is_public": lambda e, v: v if isinstance(v, bool) else str(v).strip().lower() in ("1", "true", "yes", "on"),
    "custom_domain": lambda e, v: clean_domain(e, "custom_domain", v),
    "logo_url": lambda e, v: clean_url(e, "logo_url", v),
    "favicon_url": lambda e, v: clean_url(e, "favicon_url", v),
    "brand_color": lambda e, v: clean_color(e, "brand_color", v),
    "background_color": lambda e, v: clean_color(e, "background_color", v, allow_empty=True),
    "time_zone": lambda e, v: clean_timezone(e, "time_zone", v),
    "show_response_times": lambda e, v: v if isinstance(v, bool) else str(v).strip().lower() in ("1", "true", "yes", "on"),
}


def _get_page(session, actor: Actor, page_id: int) -> StatusPage:
    key = parse_id(page_id)
    page = session.get(StatusPage, key) if key is not None else None
    if page is None or page.organization_id != actor.organization_id:
        raise NotFound("status page", page_id)
    return page


def _apply_fields(session, page: StatusPage, errors: Errors, fields: dict[str, Any]) -> None:
    old_domain = page.custom_domain
    for key, value in fields.items():
        if key == "slug":
            slug = clean_slug(errors, "slug", value)
            if "slug" not in errors.errors and slug != page.slug:
                # The same words whoever holds the slug (a private page, another organization).
                if session.exec(select(StatusPage).where(StatusPage.slug == slug)).first():
                    errors.conflict("slug", f"The slug '{slug}' is taken.")
            page.slug = slug
        elif key in _CLEANERS:
            setattr(page, key, _CLEANERS[key](errors, value))
        else:
            errors.add(str(key)[:40], "Unknown field.")
    if page.custom_domain != old_domain:
        # A new claim proves nothing yet: it serves only after its own DNS check.
        page.domain_token = new_domain_token() if page.custom_domain else ""
        page.verified_domain = None
        page.domain_checked_at = None
        page.domain_check_result = ""


def _set_services(session, actor: Actor, errors: Errors, page_id: int, service_ids: list[int]) -> None:
    if not isinstance(service_ids, (list, tuple)):
        errors.add("service_ids", "Service ids must be a list.")
        return
    ids = [parse_id(i) for i in service_ids]
    if None in ids:
        errors.add("service_ids", "Service ids must be numbers.")
        return
    if len(set(ids)) != len(ids):
        errors.add("service_ids", "A service is listed twice.")
        return
    found = {
        s.id
        for s in session.exec(
            select(Service).where(Service.id.in_(ids), Service.organization_id == actor.organization_id)
        )
    } if ids else set()
    missing = [i for i in ids if i not in found]
    if missing:
        errors.add("service_ids", f"Unknown service id(s): {', '.join(map(str, missing))}.")
        return
    session.exec(delete(StatusPageService).where(StatusPageService.page_id == page_id))
    for pos, sid in enumerate(ids):
        session.add(StatusPageService(page_id=page_id, service_id=sid, position=pos))


def create_page(*, actor: Actor, name: str, slug: str, service_ids: list[int] | None = None, **fields: Any) -> StatusPage:
    errors = Errors()
    with unit_of_work() as uow:
        page = StatusPage(organization_id=actor.organization_id, name="", slug="")
        page.slug = ""
        _apply_fields(uow.session, page, errors, {"name": name, "slug": slug, **fields})
        errors.raise_if_any()
        uow.session.add(page)
        uow.session.flush()
        if service_ids is not None:
            _set_services(uow.session, actor, errors, page.id, service_ids)
            errors.raise_if_any()
        uow.announce(actor.organization_id, PageCreated(page_id=page.id))
    return page


def update_page(*, actor: Actor, page_id: int, service_ids: list[int] | None = None, **fields: Any) -> StatusPage:
    """Change any of a page's settings (name, slug, branding, domain...) and/or its services."""
    errors = Errors()
    with unit_of_work() as uow:
        page = _get_page(uow.session, actor, page_id)
        old_slug = page.slug
        # No autoflush while checking: a query must not write a half-validated page
        # (e.g. a taken slug or domain) and fail with IntegrityError instead of field errors.
        with uow.session.no_autoflush:
            _apply_fields(uow.session, page, errors, fields)
            if service_ids is not None:
                _set_services(uow.session, actor, errors, page.id, service_ids)
            errors.raise_if_any()
        page.updated_at = utcnow()
        uow.session.add(page)
        uow.announce(actor.organization_id, PageUpdated(page_id=page.id, old_slug=old_slug))
    return page


def delete_page(*, actor: Actor, page_id: int) -> None:
    with unit_of_work() as uow:
        page = _get_page(uow.session, actor, page_id)
        slug = page.slug
        uow.session.exec(delete(StatusPageService).where(StatusPageService.page_id == page_id))
        uow.session.delete(page)
        uow.announce(actor.organization_id, PageDeleted(page_id=page_id, old_slug=slug))
