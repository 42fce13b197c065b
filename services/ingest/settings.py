from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.ingest.collect.fetch import FetchLimits
from shared.settings import ServiceSettings

_DEFAULT_LIMITS = FetchLimits()


class IngestSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_INGEST_", extra="ignore")

    # Pages of one host are fetched one at a time, fetch_per_host_delay_s apart: a batch must finish
    # well inside ack_wait_s even when all its pages come from one site (a feed's entries).
    batch_size: int = Field(default=16, ge=1, le=1000)

    # State (dedupe, poll state, leases) lives in the NATS KV bucket ``Topology.kv_bucket``; offline, in memory.
    state_ttl_days: float = Field(default=30.0, gt=0, description="how long a seen article or URL is remembered")

    # The source registry; the poller runs only when it is set.
    sources_file: Path | None = None
    poll_tick_s: float = Field(default=5.0, gt=0)
    poll_lease_s: float = Field(default=120.0, gt=0)
    poll_max_backoff_s: float = Field(default=6 * 3600.0, gt=0)
    poll_max_entries: int = Field(default=100, ge=1)

    # Fetching. Private, loopback and link-local addresses are refused unless listed here (CIDR networks).
    fetch_allowed_networks: list[str] = Field(default_factory=list)
    fetch_max_redirects: int = Field(default=_DEFAULT_LIMITS.max_redirects, ge=0, le=20)
    fetch_max_response_bytes: int = Field(default=_DEFAULT_LIMITS.max_response_bytes, gt=0)
    fetch_max_decompressed_bytes: int = Field(default=_DEFAULT_LIMITS.max_decompressed_bytes, gt=0)
    fetch_connect_timeout_s: float = Field(default=_DEFAULT_LIMITS.connect_timeout_s, gt=0)
    fetch_read_timeout_s: float = Field(default=_DEFAULT_LIMITS.read_timeout_s, gt=0)
    fetch_total_timeout_s: float = Field(default=_DEFAULT_LIMITS.total_timeout_s, gt=0)
    fetch_per_host_delay_s: float = Field(default=_DEFAULT_LIMITS.per_host_delay_s, ge=0)
    # robots.txt of every site is fetched (cached a day) and obeyed, pages and feeds alike.
    fetch_respect_robots: bool = True
    fetch_concurrency: int = Field(default=8, ge=1, description="pages fetched at once by one worker")

    def fetch_limits(self) -> FetchLimits:
        return FetchLimits(
            max_redirects=self.fetch_max_redirects,
            max_response_bytes=self.fetch_max_response_bytes,
            max_decompressed_bytes=self.fetch_max_decompressed_bytes,
            connect_timeout_s=self.fetch_connect_timeout_s,
            read_timeout_s=self.fetch_read_timeout_s,
            total_timeout_s=self.fetch_total_timeout_s,
            per_host_delay_s=self.fetch_per_host_delay_s,
        )
