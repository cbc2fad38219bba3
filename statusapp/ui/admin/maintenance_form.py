"""What the maintenance console pages share: the form's local times (entered in a named IANA
zone, converted to UTC here), recurrence presets, built-in templates, the service checkboxes.

The functions taking `actor` are thin adapters called through AdminState._call: they read the
form, turn wall-clock times into UTC and hand everything to domain.maintenance, which
validates and writes; any bad field comes back as a ValidationError keyed by the form's field.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import reflex as rx

from statusapp import clock
from statusapp.domain import Actor, ValidationError
from statusapp.domain import maintenance as ops
from statusapp.domain.validation import TITLE_MAX, Errors, clean_text, clean_timezone
from statusapp.ui.admin.state import AdminState

WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
RECURRENCES = {"none": "Does not repeat", "daily": "Every day", "weekly": "Every week on the start's weekday",
               "custom": "Custom rule (RRULE)"}
ZONES = sorted(available_timezones() | {"UTC"})
LOCAL_INPUT = "%Y-%m-%dT%H:%M"


@dataclasses.dataclass(frozen=True)
class Template:
    name: str
    title: str
    description: str
    minutes: int


# Built-in starting points for a new window (the incident form's "templates" are its per-status
# messages; maintenance has no stored templates, so a few common ones live here).
TEMPLATES = [
    Template("Database upgrade", "Database upgrade",
             "We are upgrading our database servers.\n\n- Writes may be unavailable for a few minutes.\n"
             "- Reads continue as usual.", 60),
    Template("Network maintenance", "Network maintenance",
             "Our network provider is performing planned maintenance. Short interruptions of "
             "connectivity are possible during the window.", 120),
    Template("Deploy", "Deploy of a new version",
             "We are deploying a new version. No downtime is expected; some requests may be slower "
             "for a few minutes.", 30),
]
TEMPLATE_NAMES = [t.name for t in TEMPLATES]


def template_named(name: str) -> Template | None:
    return next((t for t in TEMPLATES if t.name == name), None)


def zone_or_utc(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name in ZONES else ZoneInfo("UTC")
    except Exception:  # pragma: no cover - tzdata without the zone
        return ZoneInfo("UTC")


def to_local_input(iso: str, zone: str) -> str:
    """An ISO 8601 UTC time as a datetime-local input's value in `zone` ("" for "")."""
    if not iso:
        return ""
    try:
        return dt.datetime.fromisoformat(iso).astimezone(zone_or_utc(zone)).strftime(LOCAL_INPUT)
    except ValueError:
        return ""


def next_hour_local(zone: str, hours: int = 1) -> str:
    """The start of the hour after next in `zone`: a sensible default start for a new window."""
    now = clock.now().astimezone(zone_or_utc(zone))
    return (now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=hours + 1)).strftime(LOCAL_INPUT)


def plus_minutes(local: str, minutes: int) -> str:
    try:
        return (dt.datetime.fromisoformat(local) + dt.timedelta(minutes=minutes)).strftime(LOCAL_INPUT)
    except ValueError:
        return ""


def _local(errors: Errors, field: str, value: object) -> dt.datetime | None:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        errors.add(field, "A date and time is required.")
        return None
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        errors.add(field, "Use a date and time like 2026-12-01 02:00.")
        return None
    return parsed.replace(tzinfo=None, microsecond=0)


def _window(errors: Errors, start_local: object, end_local: object, time_zone: object):
    """The form's start and end as naive local times, and the zone's name (errors by field)."""
    zone_name = clean_timezone(errors, "time_zone", time_zone)
    start = _local(errors, "scheduled_for", start_local)
    end = _local(errors, "scheduled_until", end_local)
    if start is not None and end is not None and end <= start:
        errors.add("scheduled_until", "The end must be after the start.")
    return start, end, zone_name


def _utc(local: dt.datetime, zone_name: str) -> dt.datetime:
    return local.replace(tzinfo=ZoneInfo(zone_name)).astimezone(dt.timezone.utc)


def rule_for(recurrence: str, custom: str, start: dt.datetime | None) -> str | None:
    """The RRULE of a preset (None: a one-off window)."""
    if recurrence == "daily":
        return "FREQ=DAILY"
    if recurrence == "weekly":
        return "FREQ=WEEKLY;BYDAY=" + WEEKDAYS[start.weekday() if start else 0]
    if recurrence == "custom":
        return custom
    return None


# Series errors named after the form's fields.
_SERIES_FIELDS = {"dtstart_local": "scheduled_for", "duration_minutes": "scheduled_until"}


def _renamed(exc: ValidationError) -> ValidationError:
    return ValidationError({_SERIES_FIELDS.get(k, k): v for k, v in exc.errors.items()}, exc.conflicts)


def create_from_form(
    *, actor: Actor, title: str, description: str, services: list[str], start_local: str, end_local: str,
    time_zone: str, remind: str, notify_on_create: bool, recurrence: str, custom_rrule: str,
) -> tuple[str, int]:
    """A one-off window (("maintenance", id)) or a recurring series (("series", id))."""
    errors = Errors()
    start, end, zone_name = _window(errors, start_local, end_local, time_zone)
    if recurrence not in RECURRENCES:
        errors.add("rrule", "Choose how the window repeats.")
    elif recurrence == "custom" and not (custom_rrule or "").strip():
        errors.add("rrule", "Write a rule, e.g. FREQ=WEEKLY;BYDAY=SU.")
    if errors.errors:
        clean_text(errors, "title", title, max_len=TITLE_MAX, required=True)
        errors.raise_if_any()
    rule = rule_for(recurrence, custom_rrule, start)
    if rule is None:
        m = ops.create_maintenance(
            actor=actor, title=title, description=description, services=services,
            scheduled_for=_utc(start, zone_name), scheduled_until=_utc(end, zone_name),
            remind_minutes_before=remind, notify_on_create=notify_on_create,
        )
        return "maintenance", m.id
    try:
        series = ops.create_series(
            actor=actor, title=title, description=description, services=services, rrule=rule,
            dtstart_local=start.strftime("%Y-%m-%dT%H:%M:%S"), time_zone=zone_name,
            duration_minutes=int((end - start).total_seconds() // 60), remind_minutes_before=remind,
        )
    except ValidationError as exc:
        raise _renamed(exc) from None
    return "series", series.id


def edit_from_form(
    *, actor: Actor, maintenance_id: int, title: str, description: str, services: list[str], start_local: str,
    end_local: str, start_before: str, end_before: str, time_zone: str, remind: str,
) -> Any:
    """Edit one window (an occurrence of a series is detached from it). The start and end are
    sent only when changed: a window in progress keeps its start."""
    errors = Errors()
    start, end, zone_name = _window(errors, start_local, end_local, time_zone)
    errors.raise_if_any()
    changes: dict[str, Any] = {}
    if start_local != start_before:
        changes["scheduled_for"] = _utc(start, zone_name)
    if end_local != end_before:
        changes["scheduled_until"] = _utc(end, zone_name)
    return ops.edit_maintenance(actor=actor, maintenance_id=maintenance_id, title=title, description=description,
                                services=services, remind_minutes_before=remind, **changes)


def extend_from_form(*, actor: Actor, maintenance_id: int, end_local: str, time_zone: str) -> Any:
    errors = Errors()
    zone_name = clean_timezone(errors, "time_zone", time_zone)
    end = _local(errors, "extend_until", end_local)
    errors.raise_if_any()
    try:
        return ops.extend_maintenance(actor=actor, maintenance_id=maintenance_id, scheduled_until=_utc(end, zone_name))
    except ValidationError as exc:
        raise ValidationError({("extend_until" if k == "scheduled_until" else k): v for k, v in exc.errors.items()}) \
            from None


def edit_series_from_form(*, actor: Actor, series_id: int, title: str, description: str, services: list[str],
                          rrule: str) -> Any:
    try:
        return ops.edit_series(actor=actor, series_id=series_id, title=title, description=description,
                               services=services, rrule=rrule)
    except ValidationError as exc:
        raise ValidationError({("series_" + k if k in ("title", "description", "services") else k): v
                               for k, v in exc.errors.items()}) from None


def toggled(chosen: list[str], services, service_id: object, on: object) -> list[str]:
    """`chosen` with one service ticked or not; only the organization's services count."""
    key = str(service_id) if isinstance(service_id, (str, int)) else ""
    if key not in {str(s.id) for s in services}:
        return chosen
    rest = [c for c in chosen if c != key]
    return rest + [key] if on is True else rest


def service_checkboxes(legend: str, chosen_var, on_toggle, id_prefix: str, error_key: str) -> rx.Component:
    """One checkbox per service of the organization (the window affects the ticked ones), in a
    fieldset named by its legend, with the field's error below."""
    return rx.el.fieldset(
        rx.el.legend(rx.text(legend, size="2", weight="medium")),
        rx.vstack(
            rx.foreach(
                AdminState.services,
                lambda svc: rx.el.label(
                    rx.checkbox(checked=chosen_var.contains(svc.id.to_string()),
                                on_change=lambda v: on_toggle(svc.id.to_string(), v),
                                id=id_prefix + svc.id.to_string(), aria_label=svc.name),
                    rx.text(svc.name, size="2"),
                    style={"display": "flex", "gap": "0.5em", "align_items": "center"},
                    class_name="maintenance-service",
                ),
            ),
            rx.cond(AdminState.services.length() == 0,
                    rx.text("No services yet: the window is shown on every page.", size="1", color_scheme="gray")),
            spacing="1",
        ),
        rx.cond(
            AdminState.errors.contains(error_key),
            rx.text(AdminState.errors[error_key], color="var(--red-11)", size="1", role="alert",
                    class_name="field-error", data_field=error_key),
        ),
        style={"border": "none", "padding": "0", "margin": "0", "width": "100%"},
    )


def zone_input(value, on_change, input_id: str) -> rx.Component:
    """An IANA zone name with suggestions (`zone_datalist`, once per page); an unknown zone is
    a field error."""
    return rx.input(value=value, on_change=on_change, id=input_id, width="100%", max_length=64,
                    custom_attrs={"list": "time-zones"}, auto_complete="off")


def zone_datalist() -> rx.Component:
    return rx.el.datalist(*[rx.el.option(value=z) for z in ZONES], id="time-zones")
