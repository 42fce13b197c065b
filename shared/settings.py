"""Settings every service shares. Each service subclasses ``ServiceSettings``
with its own env prefix (``NEWSFLOW_ENRICH_...``) and loads it in its factory."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from shared.topology import Topology


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", extra="ignore")

    environment: str = "development"
    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    namespace: str = "newsflow"
    log_level: str = "INFO"
    # Pull batch: bounded in size and time so a backlog never floods memory.
    batch_size: int = Field(default=64, ge=1, le=1000)
    batch_timeout_s: float = Field(default=0.1, gt=0)
    max_deliver: int = Field(default=5, ge=1)
    ack_wait_s: float = Field(default=60.0, gt=0)
    max_ack_pending: int = Field(default=1024, ge=1)
    # Batches worked on at once: above 1, the next batch is fetched and decoded while the last one
    # waits on a server (the index stage's _bulk); a stage whose work is all its own CPU gains nothing.
    batches_in_flight: int = Field(default=1, ge=1, le=8)
    # Delay before the n-th redelivery of a transiently failed message (the last repeats).
    retry_backoff_s: list[float] = Field(default_factory=lambda: [1.0, 5.0, 15.0, 30.0])
    metrics_port: int | None = Field(default=None, description="Prometheus metrics and health; off if unset")
    # Loopback unless an operator opts in (compose binds 0.0.0.0 inside its private network).
    metrics_host: str = "127.0.0.1"
    graceful_timeout_s: float = 20.0

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """A service's own prefix (NEWSFLOW_ENRICH_NATS_URL) wins over the shared one (NEWSFLOW_NATS_URL),
        so an operator sets what all services share once."""
        shared_env = EnvSettingsSource(settings_cls, env_prefix="NEWSFLOW_")
        return init_settings, env_settings, shared_env, dotenv_settings, file_secret_settings

    @property
    def topology(self) -> Topology:
        return Topology(namespace=self.namespace)

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> ServiceSettings:
        if self.environment != "development" and self.nats_user and not self.nats_password:
            raise ValueError("nats_password must be set outside development when nats_user is set")
        return self


class OpenSearchSettings(BaseSettings):
    """Where OpenSearch is; shared by the index service and the CLI."""

    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_OPENSEARCH_", extra="ignore")

    url: str = "http://127.0.0.1:9200"
    username: str | None = None
    password: SecretStr | None = None
    verify_certs: bool = True
    alias: str = "articles"
    alerts_alias: str = "alerts"  # saved searches (shared/search/alerts.py)
    request_timeout_s: float = 30.0
