"""Organizations and their admin users (passwords hashed with argon2)."""

from __future__ import annotations

from argon2 import PasswordHasher
from email_validator import EmailNotValidError, validate_email
from sqlmodel import func, select

from statusapp.domain.base import unit_of_work
from statusapp.domain.events import OrganizationCreated, UserCreated
from statusapp.domain.validation import NAME_MAX, Errors, clean_text
from statusapp.models import Organization, User

password_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


def create_organization(*, name: str) -> Organization:
    errors = Errors()
    name = clean_text(errors, "name", name, max_len=NAME_MAX, required=True)
    errors.raise_if_any()
    with unit_of_work() as uow:
        org = Organization(name=name)
        uow.session.add(org)
        uow.session.flush()
        uow.announce(org.id, OrganizationCreated(name=org.name))
    return org


def normalize_email(errors: Errors, field: str, value: str) -> str:
    try:
        return validate_email(str(value or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        errors.add(field, str(exc))
        return ""


def create_user(*, organization_id: int, email: str, password: str, name: str = "") -> User:
    errors = Errors()
    email = normalize_email(errors, "email", email)
    name = clean_text(errors, "name", name, max_len=NAME_MAX)
    if len(password or "") < MIN_PASSWORD_LENGTH:
        errors.add("password", f"At least {MIN_PASSWORD_LENGTH} characters.")
    errors.raise_if_any()
    with unit_of_work() as uow:
        if uow.session.get(Organization, organization_id) is None:
            errors.add("organization_id", "Unknown organization.")
        if email and uow.session.exec(select(User).where(User.email == email)).first():
            errors.add("email", "A user with this email already exists.")
        errors.raise_if_any()
        user = User(organization_id=organization_id, email=email, name=name, password_hash=password_hasher.hash(password))
        uow.session.add(user)
        uow.session.flush()
        uow.announce(organization_id, UserCreated(user_id=user.id))
    return user


def count_users() -> int:
    from statusapp.db import session_scope

    with session_scope() as session:
        return session.exec(select(func.count()).select_from(User)).one()
