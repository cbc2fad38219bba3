"""One Settings object read from the environment (prefix STATUSAPP_, plus REDIS_URL/DATABASE_URL)."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import AliasChoices, Field
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

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'statusapp.db'}"


@functools.cache
def get_settings() -> Settings:
    return Settings()
