"""Custom domains: a page's domain serves it only once its DNS proves the claim.

Typing a domain into a page is a claim, open to anyone, so nobody can squat a domain by
typing it first or take over another organization's. Ownership is proven by a TXT record:

    _statusapp-verify.<domain>  TXT  "statusapp-verify=<the page's token>"

`verify_custom_domain` looks it up (on demand from the console; the jobs runner calls the same
operation periodically). Found: the domain is the page's `verified_domain`, the only column
routing reads (queries.public.find_root_page). Gone (the name or the record no longer
exists): the page stops serving it. A lookup that fails (timeout, server failure) changes
nothing but the check's result, so a DNS hiccup does not take a page down.
"""

from __future__ import annotations

import dataclasses
import secrets

import dns.exception
import dns.nameserver
import dns.resolver
from sqlmodel import select

from statusapp.domain.base import Actor, unit_of_work
from statusapp.domain.errors import NotFound, ValidationError
from statusapp.domain.events import PageUpdated
from statusapp.domain.validation import parse_id
from statusapp.models import StatusPage, utcnow
from statusapp.settings import get_settings

RECORD_PREFIX = "_statusapp-verify."
VALUE_PREFIX = "statusapp-verify="
LOOKUP_TIMEOUT_SECONDS = 3.0
RESULT_MAX = 300


def new_domain_token() -> str:
    return secrets.token_hex(16)


def record_name(domain: str) -> str:
    return RECORD_PREFIX + domain


def record_value(token: str) -> str:
    return VALUE_PREFIX + token


class LookupFailed(Exception):
    """The DNS answer could not be had (timeout, server failure): nothing is known."""


def _resolver() -> dns.resolver.Resolver:
    """The system's resolver, or the servers of STATUSAPP_DNS_SERVERS ("ip" or "ip:port")."""
    servers = [s.strip() for s in get_settings().dns_servers.split(",") if s.strip()]
    resolver = dns.resolver.Resolver(configure=not servers)
    if servers:
        nameservers = []
        for server in servers:
            host, port = server, 53
            if server.startswith("["):  # [::1]:5353
                host, _, rest = server[1:].partition("]")
                port = int(rest.lstrip(":") or 53)
            elif server.count(":") == 1:  # 127.0.0.1:5353
                host, port_text = server.split(":")
                port = int(port_text)
            nameservers.append(dns.nameserver.Do53Nameserver(host, port))
        resolver.nameservers = nameservers
    resolver.timeout = resolver.lifetime = LOOKUP_TIMEOUT_SECONDS
    resolver.cache = None
    return resolver


def txt_values(name: str) -> set[str]:
    """Every TXT string at `name` (each record's strings joined); empty when there is none."""
    try:
        answer = _resolver().resolve(name, "TXT", raise_on_no_answer=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return set()
    except dns.exception.DNSException as exc:  # timeout, no server answered, a malformed answer
        raise LookupFailed(type(exc).__name__) from exc
    values = set()
    for rdata in answer.rrset or []:
        values.add(b"".join(rdata.strings).decode("utf-8", "replace").strip())
    return values


@dataclasses.dataclass(frozen=True)
class DomainCheck:
    domain: str
    verified: bool
    message: str


def verify_custom_domain(*, actor: Actor, page_id: int) -> DomainCheck:
    """Check the page's custom domain against its TXT record; record and return the outcome.

    Another page that proved the same domain earlier loses it when its own record is no
    longer there (the domain moved); if both records are present, the earlier page keeps it.
    """
    key = parse_id(page_id)
    with unit_of_work() as uow:
        page = uow.session.get(StatusPage, key) if key is not None else None
        if page is None or page.organization_id != actor.organization_id:
            raise NotFound("status page", page_id)
        domain, token = page.custom_domain, page.domain_token
    if not domain or not token:
        raise ValidationError.one("custom_domain", "Set a custom domain first.")
    expected = record_value(token)
    try:
        values = txt_values(record_name(domain))
        lookup_error = None
    except LookupFailed as exc:
        values, lookup_error = set(), str(exc)
    with unit_of_work() as uow:
        page = uow.session.get(StatusPage, key)
        if page is None or page.custom_domain != domain or page.domain_token != token:
            raise ValidationError.one("custom_domain", "The domain changed during the check: check again.")
        holder = uow.session.exec(
            select(StatusPage).where(StatusPage.verified_domain == domain, StatusPage.id != page.id)
        ).first()
        if lookup_error is not None:
            verified = page.verified_domain == domain
            message = f"DNS lookup failed ({lookup_error}); nothing changed. Try again later."
        elif expected not in values:
            verified = False
            message = f"No TXT record {expected} at {record_name(domain)}."
        elif holder is not None and record_value(holder.domain_token) in values:
            verified = False
            message = "Another status page has proven this domain too: remove its TXT record first."
        else:
            verified = True
            message = "Verified: the domain serves this page."
            if holder is not None:
                holder.verified_domain = None
                holder.domain_check_result = "Another page proved this domain; its TXT record here is gone."
                uow.session.add(holder)
                uow.session.flush()  # free the unique domain before this page takes it
                uow.announce(holder.organization_id, PageUpdated(page_id=holder.id, old_slug=holder.slug))
        if lookup_error is None:
            page.verified_domain = domain if verified else None
        page.domain_checked_at = utcnow()
        page.domain_check_result = message[:RESULT_MAX]
        uow.session.add(page)
        uow.announce(actor.organization_id, PageUpdated(page_id=page.id, old_slug=page.slug))
    return DomainCheck(domain, verified, message)
