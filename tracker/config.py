"""Settings, read once from the environment (``TRACKER_*``) by the bootstrap."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything that differs between a laptop demo and a service's production host."""

    model_config = SettingsConfigDict(env_prefix="TRACKER_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///tracker.db",
        description="SQLAlchemy URL; default is an SQLite file in the working directory",
    )
    master_key: str | None = Field(
        default=None,
        description="base64 of 32 random bytes that wraps every child's data key",
    )
    master_key_file: Path | None = Field(
        default=None,
        description="file holding the master key; on SQLite it is created beside the database",
    )
    redis_url: str | None = Field(default=None, description="Redis for workers; none = in-process")
    redis_namespace: str = Field(default="tracker", description="prefix of every Redis key")
    policy_file: Path | None = Field(default=None, description="a service's policy overrides")
    log_level: str = "INFO"
    log_json: bool = True
    environment: str = Field(default="development", description="'production' makes keys mandatory")
