"""The source registry (``deploy/sources.yaml``): which feeds and pages to poll, how often, how far to trust them.

Every entry is validated and every bad one reported, with its position and name,
in one error, so an operator fixes the file in one pass. The poller re-reads
the file when it changes; a broken edit keeps the last good registry running.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, field_validator

from shared.ids import domain_of

_INTERVAL = re.compile(r"^\s*(?P<amount>\d+(?:\.\d+)?)\s*(?P<unit>s|m|h|d)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_POLL_INTERVAL_S = 60.0


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200)
    url: str
    kind: Literal["feed", "page"] = "feed"
    poll_interval_s: float = Field(default=900.0, alias="poll_interval")
    verified: bool = False
    language: str | None = None
    outlet: str | None = None  # the publisher's name when the source is one of its feeds

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value.strip(), re.IGNORECASE):
            raise ValueError("must be an http:// or https:// URL")
        return value.strip()

    @field_validator("poll_interval_s", mode="before")
    @classmethod
    def _interval(cls, value: Any) -> float:
        """Seconds as a number, or a duration such as "90s", "15m", "2h", "1d"."""
        if isinstance(value, bool):
            raise ValueError("must be a duration such as 15m")
        if isinstance(value, int | float):
            seconds = float(value)
        else:
            match = _INTERVAL.match(str(value))
            if not match:
                raise ValueError("must be a duration such as 90s, 15m, 2h or 1d")
            seconds = float(match.group("amount")) * _UNIT_SECONDS[match.group("unit") or "s"]
        if seconds < MIN_POLL_INTERVAL_S:
            raise ValueError(f"must be at least {MIN_POLL_INTERVAL_S:.0f} s: polling faster is impolite")
        return seconds

    @field_validator("language")
    @classmethod
    def _language_code(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z]{2,3}", value):
            raise ValueError("must be an ISO 639 code such as en or de")
        return value

    @property
    def key(self) -> str:
        """A stable id for state keys: survives renaming the source, changes with its URL."""
        return hashlib.blake2b(self.url.encode(), digest_size=10).hexdigest()

    @property
    def host(self) -> str:
        return domain_of(self.url) or ""

    def hints(self) -> dict[str, JsonValue]:
        """What every submission from this source tells ingest."""
        hints: dict[str, JsonValue] = {"source": self.outlet or self.name, "verified": self.verified}
        if self.language:
            hints["language"] = self.language
        return hints


class SourcesError(ValueError):
    def __init__(self, path: Path | str, problems: list[str]) -> None:
        super().__init__(f"{path}: {len(problems)} problem(s)\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


def load_sources(path: Path) -> list[SourceConfig]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SourcesError(path, [f"cannot read the file: {error.strerror}"]) from error
    return parse_sources(text, path)


def parse_sources(text: str, origin: Path | str = "sources") -> list[SourceConfig]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SourcesError(origin, [f"not valid YAML: {error}"]) from error
    entries = document.get("sources") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise SourcesError(origin, ["the file needs a top-level 'sources:' list"])
    sources: list[SourceConfig] = []
    problems: list[str] = []
    for position, entry in enumerate(entries, start=1):
        label = _label(position, entry)
        if not isinstance(entry, dict):
            problems.append(f"{label}: must be a mapping of fields, not {type(entry).__name__}")
            continue
        try:
            sources.append(SourceConfig.model_validate(entry))
        except ValidationError as error:
            problems.extend(f"{label}: {_field_problem(detail)}" for detail in error.errors())
    problems.extend(_duplicates(sources))
    if problems:
        raise SourcesError(origin, problems)
    return sources


def _label(position: int, entry: Any) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    return f"source #{position}" + (f" ({name!r})" if isinstance(name, str) and name else "")


def _field_problem(detail: Any) -> str:
    location = ".".join(str(part) for part in detail.get("loc", ())) or "entry"
    message = str(detail.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{location}: {message}"


def _duplicates(sources: list[SourceConfig]) -> list[str]:
    problems = []
    for attribute in ("name", "url"):
        seen: set[str] = set()
        for source in sources:
            value = getattr(source, attribute)
            if value in seen:
                problems.append(f"{attribute} {value!r} is listed more than once")
            seen.add(value)
    return problems
