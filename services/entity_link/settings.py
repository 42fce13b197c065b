from pathlib import Path

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

DEFAULT_KB = Path(__file__).parent / "data" / "kb-small.json"


class EntityLinkSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_ENTITY_LINK_", extra="ignore")

    kb_path: Path = DEFAULT_KB
