"""Helpers of the notification tests: a page with services, subscribers, and a sender run."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import parse_qs, urlsplit

from sqlmodel import Session, func, select

from statusapp.db import get_engine
from statusapp.domain import Actor, pages, services, subscribers
from statusapp.jobs.notifications import Sender, SenderConfig
from statusapp.models import Delivery, DevMail, StatusPage, Subscriber


def make_page(actor: Actor, slug: str = "acme", service_slugs=("api", "web"), **fields):
    """A public page showing new services; returns (page, {slug: service})."""
    made = {s: services.create_service(actor=actor, name=s.upper(), slug=f"{slug}-{s}") for s in service_slugs}
    page = pages.create_page(actor=actor, name=fields.pop("name", slug.capitalize() + " Status"), slug=slug,
                             service_ids=[s.id for s in made.values()], **fields)
    return page, made


def import_confirmed(actor: Actor, page_id: int, lines: list[str]) -> subscribers.ImportReport:
    return subscribers.import_subscribers(actor=actor, page_id=page_id, csv_text="\n".join(lines))


def fast_config(**kw) -> SenderConfig:
    base = dict(lease_seconds=30.0, backoff_base_s=0.05, backoff_max_s=0.2, expand_every_s=0.05, hook_timeout_s=2.0)
    base.update(kw)
    return SenderConfig(**base)


def allow_loopback(ip, port):
    """Tests post to receivers on 127.0.0.1: the guard's policy is swapped, not switched off."""
    return None


def mailbox_sender(**kw) -> Sender:
    return Sender(email=None, config=fast_config(**kw), policy=allow_loopback)


def run_sender(sender: Sender, rounds: int = 1, timeout: float = 60) -> None:
    async def main():
        try:
            for _ in range(rounds):
                await sender.run_once()
        finally:
            await sender.aclose()
    asyncio.run(asyncio.wait_for(main(), timeout))


def fresh() -> Session:
    return Session(get_engine(), expire_on_commit=False)


def mails(to: str | None = None) -> list[DevMail]:
    with fresh() as s:
        q = select(DevMail).order_by(DevMail.id)
        if to is not None:
            q = q.where(DevMail.to_address == to)
        return list(s.exec(q))


def deliveries(status: str | None = None) -> list[Delivery]:
    with fresh() as s:
        q = select(Delivery).order_by(Delivery.id)
        if status:
            q = q.where(Delivery.status == status)
        return list(s.exec(q))


def find_subscriber(address: str) -> Subscriber | None:
    with fresh() as s:
        return s.exec(select(Subscriber).where(Subscriber.address == address)).first()


def subscriber(address: str) -> Subscriber:
    found = find_subscriber(address)
    assert found is not None, f"no subscriber {address}"
    return found


def count(model) -> int:
    with fresh() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def link_in(text: str, path: str) -> str:
    """The first absolute link to `path` in an email's text."""
    match = re.search(r"https?://\S*" + re.escape(path) + r"\?token=[^\s\"<>]+", text)
    assert match, f"no link to {path} in:\n{text}"
    return match.group(0)


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def page_of(slug: str) -> StatusPage:
    with fresh() as s:
        return s.exec(select(StatusPage).where(StatusPage.slug == slug)).one()


