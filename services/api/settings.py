from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import OpenSearchSettings


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    opensearch: OpenSearchSettings = Field(default_factory=OpenSearchSettings)
    # SHA-256 hex digests of the API keys (`newsflow`-style: never the keys themselves). When any is set,
    # /v1 requires one in the X-API-Key header; the reader pages stay public, as published pages are.
    key_hashes: list[str] = Field(default_factory=list)
    # Per key (or per client address without one): a bucket of `rate_burst` requests refilled at this rate.
    rate_per_minute: int = Field(default=600, ge=1)
    rate_burst: int = Field(default=60, ge=1)
    # Origins allowed to call the API from a browser; none (no CORS headers) unless configured.
    cors_origins: list[str] = Field(default_factory=list)
    max_query_bytes: int = Field(default=4096, ge=256)
    max_body_bytes: int = Field(default=16_384, ge=0)
    # Relevance-ranked pages read a point in time shared by the searches of this many seconds
    # (services/api/snapshots.py); a cursor stays valid this long after its page was read.
    snapshot_every_s: float = Field(default=10.0, gt=0)
    cursor_keep_alive: str = Field(default="5m", pattern=r"^\d+[smh]$")
    # An export reads this many articles per request to OpenSearch: its memory bound.
    export_page_size: int = Field(default=500, ge=1, le=10_000)
    # What a client is told to wait when OpenSearch is unreachable.
    retry_after_s: int = Field(default=5, ge=1)
