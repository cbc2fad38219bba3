"""The unit of work every operation runs in, and the after-commit event hook.

An operation writes its rows, the status history and an outbox row (DomainEvent) in one
transaction; only after that transaction commits are the listeners called. A failed
operation writes nothing and announces nothing.

Who listens: the live hub (`statusapp.live`) registers itself in each web worker's lifespan,
and tests register recorders. Listeners run synchronously IN THE COMMITTING THREAD, right
after commit, so a listener must only hand the change over (schedule work on its own loop)
and return. Senders of email or webhooks must never be listeners: they read the durable
outbox rows instead, so a crash between commit and send loses nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import logging
from collections.abc import Callable, Iterator

from sqlmodel import Session, update

from statusapp.db import WRITE_UNIT, get_engine
from statusapp.domain.events import EventKind, EventPayload, payload_to_json
from statusapp.enums import ChangeCause
from statusapp.models import DomainEvent, Organization

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who or what makes a change: a user in the console, an API key, the monitor, the system."""

    organization_id: int
    user_id: int | None = None
    source: ChangeCause = ChangeCause.manual
    api_key_id: int | None = None  # the REST API key the change came through


@dataclasses.dataclass(frozen=True)
class Change:
    """What a committed operation announces to listeners."""

    organization_id: int
    payload: EventPayload
    event_id: int | None = None  # the DomainEvent (outbox) row written with the change

    @property
    def kind(self) -> EventKind:
        return self.payload.kind


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
        self.events: list[tuple[DomainEvent, EventPayload]] = []

    def announce(self, organization_id: int, payload: EventPayload) -> None:
        """Record the change in the outbox now; listeners hear of it after commit."""
        row = DomainEvent(organization_id=organization_id, kind=payload.kind.value, payload=payload_to_json(payload))
        self.session.add(row)
        self.events.append((row, payload))


_current: contextvars.ContextVar[UnitOfWork | None] = contextvars.ContextVar("statusapp_uow", default=None)


@contextlib.contextmanager
def unit_of_work() -> Iterator[UnitOfWork]:
    """One write transaction. On SQLite it holds the database's write lock from its start; on
    PostgreSQL an operation that derives a status locks the rows it derives from first
    (`servicestatus.lock_services`). Before commit, each organization that announced a change
    gets its `change_seq` bumped: under that row's lock, so the count follows commit order.

    An operation called inside another's unit of work joins it (the monitor opening an
    incident with `incidents.create_incident` while it records a verdict): one transaction,
    committed and announced by the outermost unit; an error anywhere undoes all of it.
    """
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    with Session(get_engine(), expire_on_commit=False) as session:
        session.connection(execution_options={WRITE_UNIT: True})
        uow = UnitOfWork(session)
        token = _current.set(uow)
        try:
            yield uow
            session.flush()
            for org_id in sorted({row.organization_id for row, _payload in uow.events}):
                session.exec(
                    update(Organization).where(Organization.id == org_id).values(change_seq=Organization.change_seq + 1)
                )
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            _current.reset(token)
    for row, payload in uow.events:
        change = Change(row.organization_id, payload, row.id)
        for fn in list(_listeners):
            try:
                fn(change)
            except Exception:  # a listener must never undo a committed change
                log.exception("listener %r failed for %s", fn, change.kind)
