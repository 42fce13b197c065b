"""Settings every service shares. Each service subclasses ``ServiceSettings``
with its own env prefix (``NEWSFLOW_ENRICH_...``) and loads it in its factory."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

from shared.topology import Topology


def split_urls(urls: str) -> list[str]:
    """``"http://a:9200, http://b:9200"`` -> both URLs: how a setting names the nodes of a cluster."""
    found = [url.strip() for url in urls.split(",") if url.strip()]
    if not found:
        raise ValueError(f"no URL in {urls!r}")
    return found


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", extra="ignore")

    environment: str = "development"
    # One URL, or several separated by commas (the servers of a cluster): the client fails over between them.
    nats_url: str = "nats://127.0.0.1:4222"
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    namespace: str = "newsflow"
    # Copies JetStream keeps of the stream (dead letters included) and of every key-value bucket:
    # 1 on one server, 3 on a three-server cluster (a majority survives one server's loss).
    stream_replicas: int = Field(default=1, ge=1, le=5)
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
    # On SIGTERM: how long the batches in hand may take to finish, then how long the NATS connection may take
    # to flush what they published. Together they bound a stop (compose's stop_grace_period is longer).
    graceful_timeout_s: float = 20.0
    drain_timeout_s: int = 10

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
    def nats_servers(self) -> list[str]:
        return split_urls(self.nats_url)

    @property
    def topology(self) -> Topology:
        return Topology(namespace=self.namespace, replicas=self.stream_replicas)

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> ServiceSettings:
        if self.environment != "development" and self.nats_user and not self.nats_password:
            raise ValueError("nats_password must be set outside development when nats_user is set")
        return self


class OpenSearchSettings(BaseSettings):
    """Where OpenSearch is; shared by the index service and the CLI."""

    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_OPENSEARCH_", extra="ignore")

    # One URL, or the nodes of a cluster separated by commas: requests go round them, skipping dead ones.
    url: str = "http://127.0.0.1:9200"
    username: str | None = None
    password: SecretStr | None = None
    verify_certs: bool = True
    # The CA that signed the nodes' certificates (a deployment's own); unset, the system's trust store.
    ca_certs: str | None = None
    alias: str = "articles"
    # The stories stage's index (services/stories), read by the story queries.
    stories_alias: str = "stories"
    alerts_alias: str = "alerts"  # saved searches (shared/search/alerts.py)
    request_timeout_s: float = 30.0
    # Override the template's number_of_shards / number_of_replicas (unset: the file's 1 and 0) for every
    # new versioned index; `newsflow setup` also applies replicas to the current one. A replica needs a
    # second node; shards change only through `newsflow reindex`.
    shards: int | None = Field(default=None, ge=1, le=64)
    replicas: int | None = Field(default=None, ge=0, le=5)

    @property
    def hosts(self) -> list[str]:
        return split_urls(self.url)
