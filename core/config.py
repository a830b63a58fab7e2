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
    # The agent console links each case to its workflow in this Temporal Web UI.
    temporal_ui_base_url: str = "http://127.0.0.1:8233"
    temporal_db_file: Path = Field(default_factory=lambda: _default_cache_dir() / "temporal.sqlite")
    workflow_task_queue: str = "cc-workflows"
    llm_task_queue: str = "cc-llm"
    # Which pools this worker process serves: scale the LLM pool separately in production.
    worker_roles: set[Literal["workflows", "llm"]] = {"workflows", "llm"}
    # Seconds the API waits for the classification update before answering 202 with the case still running.
    classification_wait_seconds: float = 30.0
    # Admission (api/admission.py): answer 202 + Retry-After at once, without waiting for the
    # decision, when this many requests already wait in one API process or the LLM queue's
    # backlog (read from Temporal, cached this long) exceeds the limit; refuse (429/503) only
    # when Temporal cannot start the case within the start timeout.
    admission_max_waiting: int = Field(default=20, ge=0)
    admission_max_llm_backlog: int = Field(default=50, ge=0)
    admission_backlog_cache_seconds: float = Field(default=1.0, gt=0)
    admission_start_timeout_seconds: float = Field(default=60.0, gt=0)
    admission_max_concurrent_starts: int = Field(default=16, ge=1)
    admission_max_retry_after_seconds: int = Field(default=60, ge=1)
    # Agent actions (decision, triage, ticket update; api/routes/agent.py): how long the API waits
    # for the case's workflow. Accepted but not finished by then: 202 + Location; not accepted: 504.
    agent_action_timeout_seconds: float = Field(default=5.0, gt=0)

    # Database (PostgreSQL in production/CI; SQLite file is the zero-setup default for `make run`)
    database_url: str = Field(
        default_factory=lambda: f"sqlite+aiosqlite:///{_default_cache_dir() / 'cases.sqlite'}"
    )

    # LLM
    # fixed_latency: the fake's answers after `llm_fixed_latency_ms` (capacity benchmarks only).
    llm_backend: Literal["llamacpp", "ollama", "fake", "fixed_latency"] = "llamacpp"
    llm_fixed_latency_ms: float = Field(default=100.0, ge=0)
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

    # Sizing (docs/design.md "Sizing rule", checked at worker start by worker/sizing.py):
    # every case activity holds at most one database connection, so a workflow worker's
    # activity slots <= db_pool_size + db_max_overflow, and a connection wait gives up before
    # the activity's start-to-close timeout; LLM slots x replicas <= the model server's slots.
    workflow_max_concurrent_activities: int = Field(default=20, ge=1)
    workflow_max_concurrent_workflow_tasks: int = Field(default=50, ge=2)
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    # Classifications started per second across all LLM workers (Temporal enforces it on the
    # LLM task queue); None = bounded only by the workers' slots.
    llm_task_queue_rate_limit: float | None = Field(default=None, gt=0)
    # Local runs migrate at worker start; deployments run the migration job once instead.
    migrate_on_start: bool = True
    # On SIGTERM: stop polling, let running activities finish this long, then cancel them.
    worker_graceful_shutdown_seconds: float = Field(default=30.0, ge=0)

    # Acceptance policy: see docs/classifier.md; thresholds written by `python -m eval calibrate`.
    policy_file: Path = Path(__file__).resolve().parent.parent / "config" / "acceptance_policy.json"

    # Authentication (docs/security.md): OIDC bearer JWTs from an identity provider's JWKS URL or
    # a JWKS file; with neither, a local signing key is created under `auth_local_key_dir`.
    auth_issuer: str = "urn:contact-center:local"
    auth_audience: str = "contact-center-api"
    auth_jwks_url: str | None = None
    auth_jwks_file: Path | None = None
    auth_algorithms: list[Literal["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]] = ["RS256", "ES256"]
    auth_roles_claim: str = "roles"
    auth_local_key_dir: Path = Field(default_factory=lambda: _default_cache_dir() / "auth")
    auth_jwks_timeout_seconds: float = Field(default=5.0, gt=0)
    auth_clock_skew_seconds: int = Field(default=30, ge=0)

    # API hardening
    max_request_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Per credential (token subject or API key), `limits` notation; off for load tests if needed.
    rate_limit_enabled: bool = True
    rate_limit_bearer: str = "300/minute"
    rate_limit_api_key: str = "1200/minute"
    # Browser origins allowed to call the API; empty = CORS closed.
    cors_allowed_origins: list[str] = []

    # Observability
    log_level: str = "INFO"
    log_json: bool = True
    # Temporal SDK metrics (schedule-to-start latency = backlog) and the worker's own metrics;
    # bind 0.0.0.0 in containers so Prometheus in another container can scrape them.
    metrics_bind_host: str = "127.0.0.1"
    worker_metrics_port: int = 9464
    worker_app_metrics_port: int = 9465
    # OpenTelemetry tracing (API -> workflow -> activities): off unless an OTLP/HTTP endpoint
    # is set, e.g. http://otel-collector:4318 (docs/monitoring.md).
    otel_endpoint: str | None = None
    # How often the workflow worker reads queue depth, ages and SLA breaches from the case store.
    queue_metrics_interval_seconds: float = Field(default=30.0, gt=0)
    # The daily quality report (Temporal schedule; docs/monitoring.md): when, and where the
    # newly agent-labelled cases are exported as evaluation JSON Lines.
    quality_schedule_cron: str = "15 0 * * *"
    quality_export_dir: Path = Field(default_factory=lambda: _default_cache_dir() / "quality")

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

    # Pseudonymisation: customer_id is replaced by an HMAC-SHA256 of it under this key before the
    # workflow starts (core/pseudonym.py). Unset: a local dev key file (0600) is created.
    pseudonym_key: SecretStr | None = None
    pseudonym_key_file: Path = Field(default_factory=lambda: _default_cache_dir() / "pseudonym.key")

    # Agent console production sign-in (api/console/oidc.py): OpenID Connect authorization code
    # with PKCE against the identity provider that issues the API's tokens. Off while no client
    # id is set. The secret is optional (a public client is protected by PKCE alone); the
    # redirect URL defaults to /console/oidc/callback on the request's own host (set it behind a
    # proxy that rewrites scheme or host); discovery defaults to
    # `<auth_issuer>/.well-known/openid-configuration`.
    console_oidc_client_id: str | None = None
    console_oidc_client_secret: SecretStr | None = None
    console_oidc_scopes: str = "openid profile"
    console_oidc_redirect_url: str | None = None
    console_oidc_discovery_url: str | None = None
    # Per request to the identity provider (discovery, keys, code exchange); no retries.
    console_oidc_timeout_seconds: float = Field(default=5.0, gt=0)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
