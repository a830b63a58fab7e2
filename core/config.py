"""One settings object for every process (API, worker, eval), read from `CC_*` environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "contact-center"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CC_", env_file=".env", extra="ignore")

    # HTTP API
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    max_message_chars: int = Field(default=4000, ge=1)

    # Temporal
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_port: int = 8233
    temporal_db_file: Path = Field(default_factory=lambda: _default_cache_dir() / "temporal.sqlite")
    workflow_task_queue: str = "cc-workflows"
    llm_task_queue: str = "cc-llm"
    # Which pools this worker process serves: scale the LLM pool separately in production.
    worker_roles: set[Literal["workflows", "llm"]] = {"workflows", "llm"}
    # Seconds the API waits for the classification update before answering 202 with the case still running.
    classification_wait_seconds: float = 30.0

    # Database (PostgreSQL in production/CI; SQLite file is the zero-setup default for `make run`)
    database_url: str = Field(
        default_factory=lambda: f"sqlite+aiosqlite:///{_default_cache_dir() / 'cases.sqlite'}"
    )

    # LLM
    llm_backend: Literal["llamacpp", "ollama", "fake"] = "llamacpp"
    model_cache_dir: Path = Field(default_factory=lambda: _default_cache_dir() / "models")
    model_variant: Literal["qwen2.5-coder-1.5b", "qwen2.5-0.5b"] = "qwen2.5-coder-1.5b"
    llm_threads: int = Field(default=2, ge=1)
    # Per slot: ~1,240 tokens of fixed prompt prefix + up to ~1,300 for a 4,000-character message.
    llm_context_tokens: int = Field(default=4096, ge=2048)
    ollama_host: str = "http://127.0.0.1:11434"
    ollama_model: str = "cc-qwen2.5-coder-1.5b"
    llm_timeout_seconds: float = Field(default=20.0, gt=0)
    # Concurrent classifications per worker process (one llama.cpp slot each).
    llm_max_concurrent: int = Field(default=1, ge=1)

    # Acceptance policy: see docs/classifier.md; thresholds written by `python -m eval calibrate`.
    policy_file: Path = Path(__file__).resolve().parent.parent / "config" / "acceptance_policy.json"

    # Observability
    log_level: str = "INFO"
    log_json: bool = True
    worker_metrics_port: int = 9464

    # Payload encryption (core/codec.py). Keys: JSON {key_id: base64 AES key}; the active one
    # encrypts, the others only decrypt (rotation). Unset: a local dev keyring file (0600).
    payload_keys: dict[str, SecretStr] = Field(default_factory=dict)
    payload_active_key: str | None = None
    payload_keyring_file: Path = Field(default_factory=lambda: _default_cache_dir() / "payload-keys.json")
    # Codec server for the Temporal Web UI (api/codec_server.py).
    codec_server_host: str = "127.0.0.1"
    codec_server_port: int = 8089
    # Origin of the Web UI allowed to call the codec server from the browser (CORS).
    codec_ui_origin: str = "http://127.0.0.1:8233"

    # Case identity: equal message ids of different tenants/channels are different cases.
    tenant_id: str = Field(default="default", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")

    # Retention: personal data (message text, notes) of cases closed longer ago is purged.
    retention_days: int = Field(default=365, ge=1)
    retention_schedule_id: str = "cc-retention-purge"
    retention_interval_hours: int = Field(default=24, ge=1)



@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
