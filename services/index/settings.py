from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import OpenSearchSettings, ServiceSettings


class IndexSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_INDEX_", extra="ignore")

    # One _bulk per pulled batch: larger batches amortise the request.
    batch_size: int = Field(default=256, ge=1, le=1000)
    opensearch: OpenSearchSettings = Field(default_factory=OpenSearchSettings)
