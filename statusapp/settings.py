"""One Settings object read from the environment (prefix STATUSAPP_, plus REDIS_URL/DATABASE_URL)."""

from __future__ import annotations

import functools
import os
import secrets
from pathlib import Path

import ipaddress

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every knob of the app; each one is documented in README.md."""

    model_config = SettingsConfigDict(env_prefix="STATUSAPP_", extra="ignore")

    data_dir: Path = PROJECT_ROOT / "data"
    database_url: str = Field(
        default="",
        validation_alias=AliasChoices("STATUSAPP_DATABASE_URL", "DATABASE_URL"),
    )
    redis_url: str = Field(
        default="",
        validation_alias=AliasChoices("STATUSAPP_REDIS_URL", "REDIS_URL"),
    )
    public_url: str = "http://localhost:3000"
    secret_key: str = ""
    resend_api_key: str = Field(
        default="",
        validation_alias=AliasChoices("STATUSAPP_RESEND_API_KEY", "RESEND_API_KEY"),
    )
    admin_email: str = ""
    admin_password: str = ""
    demo: bool = True
    session_hours: int = 12
    login_max_failures: int = 5
    login_window_seconds: int = 900
    # Run the background jobs (checker, sender, maintenance clock) inside the web app, leader-
    # elected across workers; 0 when a separate `statusapp worker` process runs them.
    jobs_in_app: bool = True
    api_rate_per_minute: int = 300  # REST API requests per key and worker (token bucket)
    # Comma-separated IPs or CIDRs of the reverse proxies in front of the app: X-Forwarded-For
    # is believed only for hops through them (see access.client_address).
    trusted_proxies: str = ""
    # Slug of the page `/` shows on a host that is not a verified custom domain.
    default_page: str = ""
    # Bearer token that lets monitoring read /healthz's per-page counts (empty: admins only).
    ops_token: str = ""
    # Live (websocket) connections one client address may hold open in one worker process.
    max_sockets_per_ip: int = 50
    # Monitors may check private addresses (internal services) unless this is set.
    monitor_public_only: bool = False
    # DNS servers for the custom-domain check ("ip" or "ip:port", comma-separated); empty: the system's.
    dns_servers: str = ""

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        """A typo must stop the app, not silently trust nobody (or everybody)."""
        for item in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @property
    def public_origin(self) -> str:
        """scheme://host[:port] of the public URL (what browsers send as Origin)."""
        scheme, _, rest = self.public_url.partition("://")
        return f"{scheme.lower()}://{rest.split('/', 1)[0].lower()}"

    @property
    def public_hostname(self) -> str:
        """The host name of the public URL (no port): the app's own host."""
        netloc = self.public_origin.split("://", 1)[1].rsplit("@", 1)[-1]
        if netloc.startswith("["):
            return netloc[1:].split("]", 1)[0]
        return netloc.split(":", 1)[0]
    # ---- subscriber notifications (statusapp/notify, statusapp/jobs/notifications.py)
    # The sender address of every email; with a display name or without (then the page's name
    # is shown). Resend accepts only addresses on a domain verified in the account.
    email_from: str = "status@example.com"
    # Resend's default limit is 2 requests per second per team; 0 sends as fast as it answers.
    resend_max_rps: float = 2.0
    # Batch calls to Resend in flight at once (each up to 100 emails).
    email_concurrency: int = 4
    # Webhook, Slack and Discord posts in flight at once (each waits at most 10 s).
    webhook_concurrency: int = 32
    # Look up the MX of a subscriber's domain (needs DNS on the server).
    email_check_deliverability: bool = False
    # Also tell subscribers of a service status change made without an incident.
    notify_service_changes: bool = False
    confirm_link_hours: int = 48
    subscribe_max_per_ip: int = 20  # subscription requests per client address per hour
    subscribe_max_per_address: int = 3  # confirmation emails per address per hour
    bounce_quarantine: int = 3  # permanent failures before an address is quarantined
    # Signing secret of Resend's webhook (whsec_...): bounces and complaints reach /hooks/resend.
    resend_webhook_secret: str = ""
    # Monitors may check private addresses (internal services) unless this is set.
    monitor_public_only: bool = False
    # Raw monitor check results are kept this many days (daily rollups and status history stay).
    check_retention_days: int = 30
    # Monitor checks run at once by the checker (a check waits for a slot before its timeout starts).
    checker_concurrency: int = 100

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'statusapp.db'}"

    @property
    def effective_secret_key(self) -> str:
        """STATUSAPP_SECRET_KEY, else one generated once into data/secret_key (mode 0600).

        It signs the confirmation, manage and unsubscribe links sent to subscribers: changing
        it invalidates every link already sent. Several processes may start at once: the file
        is created exclusively, and a process that loses the race reads the winner's key.
        """
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path in _file_secrets:  # every link of a 100,000-email fan-out is signed with it
            return _file_secrets[path]
        try:
            key = path.read_text().strip()
        except FileNotFoundError:
            key = ""
        if not key:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key = secrets.token_urlsafe(48)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                key = _read_when_written(path)
            else:
                with os.fdopen(fd, "w") as fh:
                    fh.write(key)
        _file_secrets[path] = key
        return key


_file_secrets: dict[Path, str] = {}


def _read_when_written(path: Path) -> str:
    """The key another process is writing right now (bounded wait)."""
    import time

    for _ in range(50):
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.02)
    raise RuntimeError(f"{path} exists but is empty: delete it or set STATUSAPP_SECRET_KEY")


@functools.cache
def get_settings() -> Settings:
    return Settings()
