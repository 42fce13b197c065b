from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import OpenSearchSettings, ServiceSettings


class AlertsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_ALERTS_", extra="ignore")

    opensearch: OpenSearchSettings = Field(default_factory=OpenSearchSettings)
    # The next batch is fetched and percolated while the last one's matches are being published: most of a
    # batch's time is waiting on OpenSearch or NATS. The fired-pairs claims keep each pair once either way.
    batches_in_flight: int = Field(default=2, ge=1, le=8)
    # How long a fired (alert, article) or (alert, story) pair is remembered, so that a re-ingested
    # article or a late member of a story does not fire again. A story that runs longer fires anew.
    fired_memory_days: float = Field(default=30.0, gt=0)
    # Highlight the words of an alert's text in the title and summary of each match (``AlertMatched.highlights``).
    # They are about half of OpenSearch's percolation CPU (bench/alerts_speed.py: 16.7 against 9.8 ms per
    # article with 1,000 saved searches, 61.6 against 30.0 with 10,000): turn them off when alerts fall behind.
    highlights: bool = True
