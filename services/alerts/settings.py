from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import OpenSearchSettings, ServiceSettings


class AlertsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_ALERTS_", extra="ignore")

    opensearch: OpenSearchSettings = Field(default_factory=OpenSearchSettings)
    # How long a fired (alert, article) or (alert, story) pair is remembered, so that a re-ingested
    # article or a late member of a story does not fire again. A story that runs longer fires anew.
    fired_memory_days: float = Field(default=30.0, gt=0)
