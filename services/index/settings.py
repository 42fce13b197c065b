from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.enrich.signature import NEAR_DUPLICATE_JACCARD
from shared.settings import OpenSearchSettings, ServiceSettings


class IndexSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_INDEX_", extra="ignore")

    # One _bulk per pulled batch: larger batches amortise the request.
    batch_size: int = Field(default=256, ge=1, le=1000)
    opensearch: OpenSearchSettings = Field(default_factory=OpenSearchSettings)
    # Story clusters (services/index/clusters.py): the estimated Jaccard at which an article joins a cluster.
    cluster_similarity: float = Field(default=NEAR_DUPLICATE_JACCARD, gt=0, le=1)
    # How long this worker remembers the signatures it wrote: longer than the index's refresh
    # interval (1 s) plus a bulk request, so a near-duplicate is never missed in between.
    recent_window_s: float = Field(default=3.0, gt=0)
    # ~11 KB per remembered article (its 64 band keys and MinHash): at most ~45 MB, reached only when
    # the stage writes over 1,300 articles/s.
    recent_capacity: int = Field(default=4096, ge=1)
