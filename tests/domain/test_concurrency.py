"""Concurrent writers: two admins (or an admin and the checker) changing the inputs of one
service's status at the same moment still leave the status and its history right.

Two threads are released together by a barrier, round after round, on SQLite and PostgreSQL.
Without the row locks (PostgreSQL) / write locks (SQLite) each transaction derives the shown
status from rows the other is changing (write skew) and both record the same `from_status`.
"""

from __future__ import annotations

import threading

import pytest

from statusapp.domain import incidents, services
from tests.domain.helpers import DEG, MAJOR, OP, PART, assert_history_chain, declare, new_service, status_of

ROUNDS = 50


def _race(first, second, timeout: float = 30) -> None:
    """Run both callables at the same moment in two threads; re-raise what either raised."""
    barrier = threading.Barrier(2, timeout=timeout)
    errors: list[BaseException] = []

    def run(fn):
        try:
            barrier.wait()
            fn()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(fn,)) for fn in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a writer hung"
    if errors:
        raise errors[0]


def test_resolving_an_incident_while_the_manual_status_is_set(org):
    """Issue 13: 20 of 20 rounds ended 'Operational' with no open incident."""
    svc = new_service(org, "api")
    wrong = 0
    for _ in range(ROUNDS):
        services.set_manual_status(actor=org, service_id=svc.id, status=OP)
        inc = declare(org, {svc.id: MAJOR}, impact="critical")
        assert status_of(svc.id) == MAJOR
        _race(
            lambda: incidents.resolve_incident(actor=org, incident_id=inc.id),
            lambda: services.set_manual_status(actor=org, service_id=svc.id, status=DEG),
        )
        wrong += status_of(svc.id) != DEG  # manual degraded, no active incident
    assert wrong == 0, f"{wrong} of {ROUNDS} rounds left the wrong status"
    assert_history_chain(svc.id)


@pytest.mark.parametrize(("a", "b"), [(PART, MAJOR), (DEG, OP)])
def test_two_changes_to_one_service_keep_the_history_chain(org, a, b):
    """Issue 13: 18 of 45 rounds broke the chain (both rows carried the same from_status)."""
    svc = new_service(org, "api")
    for i in range(ROUNDS):
        _race(
            lambda: services.set_manual_status(actor=org, service_id=svc.id, status=a if i % 2 else b),
            lambda: declare(org, {svc.id: b if i % 2 else a}, impact="major"),
        )
    assert_history_chain(svc.id)


def test_two_incident_updates_and_a_manual_change_never_deadlock(org):
    """Lock order (incident, then services by id) keeps three writers on two services moving."""
    s1, s2 = new_service(org, "one"), new_service(org, "two")
    for _ in range(20):
        i1 = declare(org, {s1.id: PART, s2.id: PART}, impact="major")
        i2 = declare(org, {s2.id: MAJOR, s1.id: DEG}, impact="critical")
        _race(
            lambda: incidents.resolve_incident(actor=org, incident_id=i1.id),
            lambda: incidents.resolve_incident(actor=org, incident_id=i2.id),
        )
        assert (status_of(s1.id), status_of(s2.id)) == (OP, OP)
    assert_history_chain(s1.id)
    assert_history_chain(s2.id)
