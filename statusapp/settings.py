"""One Settings object read from the environment (prefix STATUSAPP_, plus REDIS_URL/DATABASE_URL)."""

from __future__ import annotations

import functools
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

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'statusapp.db'}"


@functools.cache
def get_settings() -> Settings:
    return Settings()
