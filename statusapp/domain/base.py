"""The unit of work every operation runs in, and the after-commit event hook.

An operation writes its rows, the status history and an outbox row (DomainEvent) in one
transaction; only after that transaction commits are the listeners called (live pages,
and later notifications). A failed operation writes nothing and announces nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable, Iterator
from typing import Any

from sqlmodel import Session

from statusapp.db import get_engine
from statusapp.enums import ChangeCause
from statusapp.models import DomainEvent

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who or what makes a change: a user in the console or API, the monitor, the system."""

    organization_id: int
    user_id: int | None = None
    source: ChangeCause = ChangeCause.manual


@dataclasses.dataclass(frozen=True)
class Change:
    """What a committed operation announces to listeners."""

    organization_id: int
    kind: str
    payload: dict[str, Any]
    event_id: int | None = None  # the DomainEvent (outbox) row written with the change


Listener = Callable[[Change], None]
_listeners: list[Listener] = []


def add_listener(fn: Listener) -> None:
    """Register `fn` to be called (in the committing thread) after each committed change."""
    if fn not in _listeners:
        _listeners.append(fn)


def remove_listener(fn: Listener) -> None:
    if fn in _listeners:
        _listeners.remove(fn)


class UnitOfWork:
    def __init__(self, session: Session):
        self.session = session
        self.events: list[DomainEvent] = []

    def announce(self, organization_id: int, kind: str, **payload: Any) -> None:
        """Record the change in the outbox now; listeners hear of it after commit."""
        row = DomainEvent(organization_id=organization_id, kind=kind, payload=payload)
        self.session.add(row)
        self.events.append(row)


@contextlib.contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    with Session(get_engine(), expire_on_commit=False) as session:
        uow = UnitOfWork(session)
        try:
            yield uow
            session.commit()
        except BaseException:
            session.rollback()
            raise
    for row in uow.events:
        change = Change(row.organization_id, row.kind, row.payload, row.id)
        for fn in list(_listeners):
            try:
                fn(change)
            except Exception:  # a listener must never undo a committed change
                log.exception("listener %r failed for %s", fn, change.kind)
