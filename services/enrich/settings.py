from pathlib import Path

from pydantic_settings import SettingsConfigDict

from services.enrich.topics import DEFAULT_TAXONOMY, DEFAULT_TOPIC_MODEL
from shared.background import DEFAULT_BACKGROUND
from shared.settings import ServiceSettings


class EnrichSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_ENRICH_", extra="ignore")

    # An operator's own taxonomy (see services/enrich/taxonomy.yaml for the format).
    taxonomy_path: Path = DEFAULT_TAXONOMY
    topic_model_path: Path = DEFAULT_TOPIC_MODEL
    background_path: Path = DEFAULT_BACKGROUND
