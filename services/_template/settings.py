from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings


class ReadabilitySettings(ServiceSettings):
    # Every field below can be set as NEWSFLOW_READABILITY_<FIELD> (lists as JSON, e.g. '["en"]').
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_READABILITY_", extra="ignore")

    # Flesch's formulas are calibrated on English; other languages get no score rather than a wrong one.
    languages: list[str] = Field(default_factory=lambda: ["en"])
    # The opening of a body reads like the rest of it; scoring only this much bounds the cost of
    # a 400k-character body (shared.messages.MAX_BODY_CHARS) at no visible loss.
    sample_chars: int = Field(default=20_000, ge=1)
