"""Errors a domain operation raises; adapters turn them into field messages or 4xx answers."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error an operation raises on purpose; nothing was written."""


class ValidationError(DomainError):
    """Bad input. `errors` maps a field name to a message a person can act on; `conflicts`
    names the fields whose value is well-formed but taken (a slug, a domain): the REST API
    answers those with 409 instead of 422."""

    def __init__(self, errors: dict[str, str], conflicts: frozenset[str] = frozenset()):
        self.errors = dict(errors)
        self.conflicts = frozenset(conflicts) & set(self.errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))

    @classmethod
    def one(cls, field: str, message: str) -> "ValidationError":
        return cls({field: message})


class NotFound(DomainError):
    def __init__(self, what: str, ident: object = None):
        self.what = what
        # Only a real id is echoed: the ident may be whatever a client sent.
        shown = ident if isinstance(ident, int) and not isinstance(ident, bool) else None
        super().__init__(f"{what} not found" if shown is None else f"{what} {shown} not found")


class AuthError(DomainError):
    """Wrong credentials, expired session, or too many attempts.

    `code` names the reason for adapters that must not echo text (the sign-in page maps it
    to a fixed message): "credentials" or "locked".
    """

    def __init__(self, message: str, code: str = "credentials"):
        self.code = code
        super().__init__(message)
