"""The only writers of state: each operation validates, writes rows + history + outbox in one
transaction, then (after commit) announces the change to listeners (live pages, notifications).

No Reflex or FastAPI imports here: the console, the API, the checker and webhooks call these.
"""

from statusapp.domain.base import Actor, Change, add_listener, remove_listener
from statusapp.domain.errors import AuthError, DomainError, NotFound, ValidationError

__all__ = [
    "Actor",
    "AuthError",
    "Change",
    "DomainError",
    "NotFound",
    "ValidationError",
    "add_listener",
    "remove_listener",
]
