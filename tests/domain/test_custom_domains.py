"""Custom domains serve only once proven by DNS, and `/` never shows another organization's
page on a host it does not own. DNS answers come from a real server on loopback. Every test
runs on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pytest

from statusapp.domain import NotFound, ValidationError, pages
from statusapp.domain.domains import record_name, record_value, verify_custom_domain
from statusapp.models import StatusPage
from statusapp.queries import public as queries
from statusapp.settings import get_settings
from tests.domain.helpers import fresh, load
from tests.support.dns_server import DnsServer

DOMAIN = "status.acme.com"


@pytest.fixture
def dns(monkeypatch):
    with DnsServer() as server:
        monkeypatch.setattr(get_settings(), "dns_servers", server.address)
        yield server


@pytest.fixture
def public_url(monkeypatch):
    monkeypatch.setattr(get_settings(), "public_url", "https://status.ourhost.example")
    monkeypatch.setattr(get_settings(), "default_page", "")


def root(host):
    with fresh() as s:
        page = queries.find_root_page(s, host)
        return page.slug if page is not None else None


def prove(server: DnsServer, page_id: int, domain: str = DOMAIN) -> None:
    server.records[record_name(domain)] = [record_value(load(StatusPage, page_id).domain_token)]


def test_a_claimed_domain_serves_only_after_its_txt_record_is_checked(org, dns, public_url):
    page = pages.create_page(actor=org, name="Acme", slug="acme", custom_domain=DOMAIN)
    claimed = load(StatusPage, page.id)
    assert len(claimed.domain_token) == 32 and claimed.verified_domain is None
    assert root(DOMAIN) is None  # claimed, not proven: not routed

    check = verify_custom_domain(actor=org, page_id=page.id)
    assert not check.verified
    assert check.message == f"No TXT record statusapp-verify={claimed.domain_token} at _statusapp-verify.{DOMAIN}."
    assert root(DOMAIN) is None

    dns.records[record_name(DOMAIN)] = ["some-other=thing", "statusapp-verify=not-the-token"]
    assert not verify_custom_domain(actor=org, page_id=page.id).verified

    prove(dns, page.id)
    check = verify_custom_domain(actor=org, page_id=page.id)
    assert check.verified and check.message == "Verified: the domain serves this page."
    assert root("Status.Acme.com:443") == "acme"
    assert dns.queries[-1] == f"_statusapp-verify.{DOMAIN}"
    shown = load(StatusPage, page.id)
    assert shown.verified_domain == DOMAIN and shown.domain_checked_at is not None

    # The record is removed: the next check (the jobs runner's, or a click) takes the domain down.
    del dns.records[record_name(DOMAIN)]
    assert not verify_custom_domain(actor=org, page_id=page.id).verified
    assert root(DOMAIN) is None


def test_a_failed_lookup_changes_nothing_but_the_message(org, dns, public_url, monkeypatch):
    monkeypatch.setattr("statusapp.domain.domains.LOOKUP_TIMEOUT_SECONDS", 0.5)
    page = pages.create_page(actor=org, name="Acme", slug="acme", custom_domain=DOMAIN)
    prove(dns, page.id)
    assert verify_custom_domain(actor=org, page_id=page.id).verified
    dns.drop = True
    started = time.monotonic()
    check = verify_custom_domain(actor=org, page_id=page.id)
    assert time.monotonic() - started < 3
    assert check.verified and check.message.startswith("DNS lookup failed")
    assert root(DOMAIN) == "acme"


def test_changing_the_domain_needs_a_new_proof(org, dns, public_url):
    page = pages.create_page(actor=org, name="Acme", slug="acme", custom_domain=DOMAIN)
    prove(dns, page.id)
    verify_custom_domain(actor=org, page_id=page.id)
    old_token = load(StatusPage, page.id).domain_token
    pages.update_page(actor=org, page_id=page.id, custom_domain="status.acme.org")
    moved = load(StatusPage, page.id)
    assert moved.verified_domain is None and moved.domain_token != old_token
    assert root(DOMAIN) is None and root("status.acme.org") is None
    pages.update_page(actor=org, page_id=page.id, custom_domain="")
    assert load(StatusPage, page.id).domain_token == ""
    with pytest.raises(ValidationError) as err:
        verify_custom_domain(actor=org, page_id=page.id)
    assert err.value.errors == {"custom_domain": "Set a custom domain first."}


def test_a_domain_cannot_be_squatted_or_taken_by_another_organization(org, other_org, dns, public_url):
    # The other organization types the domain first: a claim only, which blocks nobody.
    squatter = pages.create_page(actor=other_org, name="Squat", slug="squat", custom_domain=DOMAIN)
    mine = pages.create_page(actor=org, name="Acme", slug="acme", custom_domain=DOMAIN)
    prove(dns, mine.id)
    assert not verify_custom_domain(actor=other_org, page_id=squatter.id).verified
    assert verify_custom_domain(actor=org, page_id=mine.id).verified
    assert root(DOMAIN) == "acme"
    # Checking another organization's page is "not found".
    with pytest.raises(NotFound):
        verify_custom_domain(actor=other_org, page_id=mine.id)
    # The domain really moves to the other organization (its record replaces ours): it follows.
    prove(dns, squatter.id)
    assert verify_custom_domain(actor=other_org, page_id=squatter.id).verified
    assert root(DOMAIN) == "squat"
    assert load(StatusPage, mine.id).verified_domain is None
    # Both records present: whoever proved it first keeps it.
    dns.records[record_name(DOMAIN)].append(record_value(load(StatusPage, mine.id).domain_token))
    check = verify_custom_domain(actor=org, page_id=mine.id)
    assert not check.verified and "Another status page has proven this domain too" in check.message
    assert root(DOMAIN) == "squat"


def test_root_page_rules_with_two_organizations(org, other_org, dns, public_url, monkeypatch):
    ours = pages.create_page(actor=org, name="Ours", slug="ours")
    theirs = pages.create_page(actor=other_org, name="Theirs", slug="theirs", custom_domain="status.theirs.com")
    private = pages.create_page(actor=other_org, name="Secret", slug="secret", custom_domain="status.secret.com",
                                is_public=False)
    for page, domain in ((theirs, "status.theirs.com"), (private, "status.secret.com")):
        prove(dns, page.id, domain)
        assert verify_custom_domain(actor=other_org, page_id=page.id).verified

    # No default page: our own host shows the first public page, unknown hosts nothing.
    assert root("status.ourhost.example") == "ours"
    assert root("status.ourhost.example:8443") == "ours"
    assert root("status.theirs.com") == "theirs"
    assert root("unknown.example.net") is None
    assert root("") is None
    # A private page's verified domain shows nothing, and never another page.
    assert root("status.secret.com") is None

    monkeypatch.setattr(get_settings(), "default_page", "theirs")
    assert root("unknown.example.net") == "theirs"
    assert root("status.ourhost.example") == "theirs"
    assert root("status.secret.com") is None  # a known domain never falls back
    monkeypatch.setattr(get_settings(), "default_page", "secret")  # a private default shows nothing
    assert root("unknown.example.net") is None
    assert ours.id  # (the first public page is not used when a default is set)


def test_slug_taken_message_does_not_reveal_whose_or_private(org, other_org):
    pages.create_page(actor=other_org, name="Hidden", slug="hidden", is_public=False)
    pages.create_page(actor=org, name="Mine", slug="mine")
    messages = []
    for slug in ("hidden", "mine"):
        with pytest.raises(ValidationError) as err:
            pages.create_page(actor=org, name="New", slug=slug)
        messages.append(err.value.errors["slug"].replace(slug, "<slug>"))
    assert messages == ["The slug '<slug>' is taken."] * 2
