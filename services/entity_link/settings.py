from pathlib import Path

from pydantic_settings import SettingsConfigDict

from shared.settings import ServiceSettings

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_KB = DATA_DIR / "kb.tsv.xz"
DEFAULT_NER_MODEL = DATA_DIR / "ner.npz"
# When a link is trusted (bench/link_confidence.py fits it); None emits every pick.
DEFAULT_CONFIDENCE = DATA_DIR / "link_confidence.json"
# The operators' corrections, read at start-up (no rebuild): deploy/kb-overlay.yaml in the repository.
DEFAULT_OVERLAY = Path(__file__).resolve().parents[2] / "deploy" / "kb-overlay.yaml"


class EntityLinkSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_ENTITY_LINK_", extra="ignore")

    kb_path: Path = DEFAULT_KB
    ner_model_path: Path = DEFAULT_NER_MODEL
    confidence_path: Path | None = DEFAULT_CONFIDENCE
    # Skipped when the file is absent, so a deployment without the repo's deploy/ folder still starts.
    overlay_path: Path | None = DEFAULT_OVERLAY
