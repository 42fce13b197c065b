from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import OpenSearchSettings, ServiceSettings
from shared.signature import NEAR_DUPLICATE_JACCARD


class IndexSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_INDEX_", extra="ignore")

    # A pulled batch costs one _msearch and ``bulk_requests`` _bulk requests: larger batches amortise them.
    batch_size: int = Field(default=256, ge=1, le=1000)
    # Concurrent _bulk requests per batch: OpenSearch indexes each on its own write thread, so even a
    # one-shard index uses every core (bench/index_speed.py).
    bulk_requests: int = Field(default=2, ge=1, le=16)
    # ...but never a request of fewer documents than this: at a low arrival rate a batch is small, and
    # a request costs both sides about as much as ~20 documents (bench/pipeline.py), so it is sent whole.
    bulk_min_documents: int = Field(default=64, ge=1)
    # The next batch is decoded and its clusters looked up while the last one's _bulk is in OpenSearch.
    # Clusters stay whole: each batch's assignment runs without a pause and sees the batches before it
    # in the worker's memory of recent writes (services/index/clusters.py).
    batches_in_flight: int = Field(default=2, ge=1, le=8)
    # A batch smaller than this means the stage keeps up: its articles are made searchable at once by a
    # refresh, at most one every ``prompt_refresh_gap_s``, instead of within the index's 1 s interval
    # (services/index/refresh.py). 0: never.
    prompt_refresh_below: int = Field(default=32, ge=0)
    prompt_refresh_gap_s: float = Field(default=0.2, ge=0)
    opensearch: OpenSearchSettings = Field(default_factory=OpenSearchSettings)
    # Story clusters (services/index/clusters.py): the estimated Jaccard at which an article joins a cluster.
    cluster_similarity: float = Field(default=NEAR_DUPLICATE_JACCARD, gt=0, le=1)
    # How long this worker remembers the signatures it wrote: longer than the index's refresh
    # interval (1 s, deploy/opensearch/index-template.json) plus a bulk request or two, so a
    # near-duplicate is never missed in between.
    recent_window_s: float = Field(default=3.0, gt=0)
    # ~7 KB per remembered article (its 64 band keys and MinHash): at most ~30 MB, reached only when
    # the stage writes over 1,300 articles/s.
    recent_capacity: int = Field(default=4_096, ge=1)
