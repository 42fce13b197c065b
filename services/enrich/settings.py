from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class EnrichSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_ENRICH_", extra="ignore")
