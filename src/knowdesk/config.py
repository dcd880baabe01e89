"""Settings read from the environment (prefix KNOWDESK_) or a `.env` file.

`DATABASE_URL` is read without the prefix because that is the name every PostgreSQL tool knows.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Waits between attempts, read from the environment as "10,60,300".
BackoffSeconds = Annotated[tuple[int, ...], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KNOWDESK_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"),
        validation_alias=AliasChoices("KNOWDESK_DATA", "KNOWDESK_DATA_DIR"),
        description="Folder for the embedded PostgreSQL server and uploaded files.",
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "KNOWDESK_DATABASE_URL"),
        description="An external PostgreSQL server (with pgvector). Unset: embedded server.",
    )
    secret_key: str = Field(
        default="change-me-in-production-knowdesk-secret",
        description="Signs session tokens and widget identities. Set it in production.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = 50 * 1024 * 1024
    allow_signup: bool = Field(
        default=False,
        description="Let anyone create a user and a workspace through /api/v1/auth/signup.",
    )
    session_hours: int = 12
    run_worker_in_process: bool = Field(
        default=True,
        description="Run background jobs inside the web process (embedded default). Turn off "
        "when `knowdesk worker` processes run them.",
    )
    embedding_threads: int = 2
    llm_base_url: str | None = Field(
        default=None, description="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1"
    )
    llm_api_key: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout_seconds: float = 20.0

    webhook_timeout_seconds: float = 10.0
    handoff_ticket_after_seconds: float = Field(
        default=300.0,
        ge=0,
        description="In business hours, a handed-off chat that no agent has taken after this "
        "long becomes a ticket (outside business hours it becomes one at once).",
    )
    webhook_backoff_seconds: BackoffSeconds = Field(
        default=(10, 60, 300, 1800, 7200),
        description="Waits before each retry of a failed webhook delivery; their number is the "
        "number of retries.",
    )
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    smtp_from: str = Field(
        default="knowdesk <knowdesk@localhost>", description="Sender of outgoing mail."
    )
    smtp_timeout_seconds: float = 20.0
    mail_reply_address: str | None = Field(
        default=None,
        description="Address that receives replies, e.g. support@example.com; outgoing mail asks "
        "for replies to support+<token>@example.com. Unset: the sender's address.",
    )
    mail_backoff_seconds: BackoffSeconds = Field(
        default=(60, 300, 1800, 7200),
        description="Waits before each retry of mail the SMTP server did not take.",
    )
    mail_listener_host: str = "127.0.0.1"
    mail_listener_port: int = 2525

    @field_validator("webhook_backoff_seconds", "mail_backoff_seconds", mode="before")
    @classmethod
    def _comma_separated_seconds(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = tuple(int(part) for part in value.split(",") if part.strip())
        if any(seconds < 0 for seconds in value):
            raise ValueError("waits are seconds, 0 or more")
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
