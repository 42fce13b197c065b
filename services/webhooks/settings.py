from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import OpenSearchSettings, ServiceSettings


class WebhooksSettings(ServiceSettings):
    # Retries: NEWSFLOW_WEBHOOKS_MAX_DELIVER attempts, NEWSFLOW_WEBHOOKS_RETRY_BACKOFF_S between them.
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_WEBHOOKS_", extra="ignore")

    opensearch: OpenSearchSettings = Field(default_factory=OpenSearchSettings)
    # Networks a webhook may reach although they are not public (loopback, private): the operator's
    # explicit choice, e.g. '["10.0.0.0/8"]'. Everything else is refused as ingest refuses it.
    allowed_networks: list[str] = Field(default_factory=list)
    # One attempt's whole budget (connect, send, answer): a slow endpoint costs at most this per try.
    timeout_s: float = Field(default=5.0, gt=0)
    # Requests in flight at once, over all endpoints, and to any one endpoint (URL): a hanging
    # endpoint occupies at most ``endpoint_concurrency`` slots, each for at most ``timeout_s``.
    concurrency: int = Field(default=32, ge=1, le=1024)
    endpoint_concurrency: int = Field(default=4, ge=1, le=64)
    # How long an alert's webhook URL and secret are reused before they are read again.
    alert_cache_s: float = Field(default=30.0, ge=0)
