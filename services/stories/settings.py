from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import OpenSearchSettings, ServiceSettings


class StoriesSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_STORIES_", extra="ignore")

    # A pulled batch costs one _msearch (placements and candidates) and one _bulk: larger batches amortise them.
    batch_size: int = Field(default=128, ge=1, le=1000)
    # Writes ``opensearch.stories_alias``.
    opensearch: OpenSearchSettings = Field(default_factory=OpenSearchSettings)
    # How long this worker keeps the stories it wrote in memory: beyond the index's refresh interval
    # (1 s) so the next batches see them before a search can, and longer so a busy story is not
    # read back from the index for every batch. Another replica's write to one of them is caught by
    # optimistic concurrency (a 409), never overwritten.
    memory_window_s: float = Field(default=300.0, gt=0)
    # ~10 KB per remembered story (its centroid and member ids).
    memory_capacity: int = Field(default=20_000, ge=1)
    # How long a replica's turn at grouping lasts if it never gives it back (killed): the other
    # replicas wait at most twice this. Far above a batch's search, grouping and _bulk.
    turn_lease_s: float = Field(default=15.0, gt=0)
