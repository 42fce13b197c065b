"""The message contract: every event that crosses NATS, as pydantic v2 models.

Events are named in the past tense and carry ``schema_version``. Each stage's
event extends the previous one, so a message is the article so far plus what
earlier stages added and the indexer writes each article once. The open
``enrichments`` map lets a new enrichment service add a key without a change
here or in any other service.

``contract/`` at the repository root holds the JSON Schema generated from
these models (``make contract``); a unit test fails when they drift apart.
"""

from __future__ import annotations

import functools
from array import array
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar, cast

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from shared.signature import band_keys, pack_minhash, unpack_minhash

SchemaVersion = Literal[1]
SCHEMA_VERSION: SchemaVersion = 1

# The largest article body the pipeline carries. Ingest truncates longer bodies
# (and marks them) so that a whole ArticleLinked message stays well under the
# NATS max_payload the local stack and compose set (deploy: 4 MB).
MAX_BODY_CHARS = 400_000
MAX_MESSAGE_BYTES = 4 * 1024 * 1024


def utcnow() -> datetime:
    return datetime.now(UTC)


class Model(BaseModel):
    # Unknown keys are refused: a typo in a producer must fail loudly, not vanish.
    # NaN and infinity are not JSON: refuse them where the event is built, not a stage later.
    model_config = ConfigDict(extra="forbid", frozen=False, allow_inf_nan=False)


class Stamp(Model):
    """One stage's pass over the article: which service, which code version, when (the stamps give
    per-stage latency)."""

    service: str
    version: str
    at: datetime = Field(default_factory=utcnow)


class FieldSource(Model):
    """Who wrote one field: the stage and the version of the model or data behind it (a content hash),
    so an operator can find and re-run what an old model or KB wrote. The stage's code version is its
    stamp's: repeating it in every field was a fifth of a message's provenance."""

    stage: str
    model: str | None = None
    # Written before the code version moved to the stamps alone: still read, never written.
    version: str | None = Field(default=None, exclude=True)


class Provenance(Model):
    stamps: list[Stamp] = Field(default_factory=list)
    fields: dict[str, FieldSource] = Field(default_factory=dict)

    def detached(self) -> Provenance:
        """A copy the next stage can stamp without touching this one (stamps and sources are never
        changed once made, so sharing them is safe and far cheaper than a deep copy)."""
        return Provenance.model_construct(stamps=list(self.stamps), fields=dict(self.fields))


class Source(Model):
    name: str
    domain: str | None = None
    verified: bool | None = None


class OriginalSource(Model):
    """The outlet an article says it was taken from ("via X", "Original source: X")."""

    name: str
    url: str | None = None


DocumentKind = Literal["text", "markdown", "html", "record", "url", "feed"]


class DocumentSubmitted(Model):
    """Raw material handed to the ingest stage: a file's content, a JSONL record, a URL or a feed.

    ``hints`` are facts the submitter already knows (title, source, url,
    published_at, author, language, verified); ingest trusts them over what
    it reads from the text.
    """

    schema_version: SchemaVersion = SCHEMA_VERSION
    event: Literal["DocumentSubmitted"] = "DocumentSubmitted"
    submission_id: str
    kind: DocumentKind
    content: str | None = None
    url: str | None = None
    filename: str | None = None
    hints: dict[str, JsonValue] = Field(default_factory=dict)
    submitted_at: datetime = Field(default_factory=utcnow)


class Heading(Model):
    """An in-body section heading: a structural label, not a sentence (and not a name to link)."""

    text: str
    start: Annotated[int, Field(ge=0)]  # character offset of ``text`` in the article body


class ArticleFields(Model):
    """What every article event carries from ingest on."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    article_id: str
    url: str | None = None
    canonical_url: str | None = None
    title: str
    # The deck or standfirst under the headline, when the page has one.
    subtitle: str | None = None
    body: str
    # Section headings inside ``body``, in order; each is also a line of the body.
    headings: list[Heading] = Field(default_factory=list)
    source: Source
    author: str | None = None
    published_at: datetime | None = None
    ingested_at: datetime = Field(default_factory=utcnow)
    language_hint: str | None = None
    original_source: OriginalSource | None = None
    # Facts read from aggregator padding (e.g. a topic label), kept as fields, not body text.
    metadata: dict[str, JsonValue] = Field(default_factory=dict)
    body_truncated: bool = False
    provenance: Provenance = Field(default_factory=Provenance)
    enrichments: dict[str, JsonValue] = Field(default_factory=dict)


class ArticleIngested(ArticleFields):
    event: Literal["ArticleIngested"] = "ArticleIngested"


class Sentiment(Model):
    label: Literal["positive", "neutral", "negative"]
    score: Annotated[float, Field(ge=-1.0, le=1.0)]


class TopicScore(Model):
    key: str  # a taxonomy key such as "technology/artificial-intelligence"
    score: float
    iptc: str | None = None  # its IPTC Media Topic code, e.g. "medtop:13000000", when the taxonomy gives one


class Signature(Model):
    """What near-duplicate detection and story grouping compare: the MinHash of the article's word
    shingles (the scheme is in shared/signature.py). It travels packed (``pack_minhash``): a third of the
    bytes of a list of numbers, and one decode instead of 192 at every hop. The LSH band keys are derived
    from it where they are needed (``band_keys``)."""

    minhash: str

    @model_validator(mode="before")
    @classmethod
    def _from_unpacked(cls, data: Any) -> Any:
        # The form written before the packing (a list of numbers beside the band keys) is still read, so
        # messages in flight across an upgrade, and dead letters replayed after it, are not refused.
        if isinstance(data, dict) and "lsh_bands" in data:
            minhash = data.get("minhash", "")
            return {"minhash": pack_minhash(minhash) if isinstance(minhash, list) else minhash}
        return data

    @field_validator("minhash")
    @classmethod
    def _packed(cls, value: str) -> str:
        unpack_minhash(value)  # refused here, at the door, rather than in the stage that compares it
        return value

    @functools.cached_property
    def values(self) -> array[int]:
        """The MinHash's values, decoded once per message (the index reads them in three places)."""
        return unpack_minhash(self.minhash)

    @functools.cached_property
    def band_keys(self) -> list[str]:
        return band_keys(self.values)


class EnrichedFields(Model):
    language: str | None = None
    language_confidence: float | None = None
    word_count: int = 0
    reading_time_minutes: int = 1
    sentiment: Sentiment | None = None
    topics: list[TopicScore] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    summary: str | None = None
    takeaways: list[str] = Field(default_factory=list)
    signature: Signature | None = None
    # Enrichments that could not read the article's language (their fields above are left empty).
    unsupported_language: list[str] = Field(default_factory=list)


class ArticleEnriched(ArticleFields, EnrichedFields):
    event: Literal["ArticleEnriched"] = "ArticleEnriched"


EntityType = Literal["ORG", "PER", "LOC", "PRODUCT", "EVENT", "MISC"]


class Entity(Model):
    id: str  # a Wikidata QID, or a stable local id such as "nf:org:donghai-securities"
    name: str
    type: EntityType
    handle: str
    mentions: int = 1
    salience: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    confidence: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    spans: list[tuple[int, int]] = Field(default_factory=list)
    # "demonym": the entity is named only by its adjective ("German" for Germany): a facet, not a mention of it.
    kind: Literal["demonym"] | None = None


class ArticleLinked(ArticleFields, EnrichedFields):
    event: Literal["ArticleLinked"] = "ArticleLinked"
    entities: list[Entity] = Field(default_factory=list)
    # The story the article tells (the stories stage, services/stories): a ``stories`` index document id.
    story_id: str | None = None


class ArticleIndexed(ArticleLinked):
    """An article OpenSearch accepted, with the near-duplicate cluster the index stage gave it."""

    event: Literal["ArticleIndexed"] = "ArticleIndexed"  # type: ignore[assignment]
    cluster_id: str


class AlertMatched(Model):
    """A saved search matched an indexed article: one per (alert, article), or per (alert, story)."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    event: Literal["AlertMatched"] = "AlertMatched"
    alert_id: str
    alert_name: str
    article_id: str
    story_id: str
    title: str
    url: str | None = None
    source: Source
    published_at: datetime | None = None
    # The article's values on the fields the alert filters on (entity_handles, sentiment.label, ...),
    # and the highlighted passages of its text query, so a reader sees at once why it fired.
    matched: dict[str, list[str]] = Field(default_factory=dict)
    highlights: dict[str, list[str]] = Field(default_factory=dict)
    matched_at: datetime = Field(default_factory=utcnow)


FailureKind = Literal["permanent", "exhausted"]


class DeadLettered(Model):
    """A message a stage gave up on, with everything needed to understand and replay it."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    event: Literal["DeadLettered"] = "DeadLettered"
    stage: str
    subject: str  # where the original was read from, and where a replay sends it
    reason: str  # a short, groupable reason, e.g. "validation", "mapping_rejected"
    error: str
    kind: FailureKind
    attempts: int
    article_id: str | None = None
    original: str  # the original message bytes, decoded as UTF-8 with replacement
    original_truncated: bool = False  # only the head of a very large original is kept
    original_headers: dict[str, str] = Field(default_factory=dict)
    at: datetime = Field(default_factory=utcnow)


ARTICLE_EVENTS: tuple[type[ArticleFields], ...] = (ArticleIngested, ArticleEnriched, ArticleLinked, ArticleIndexed)
ALL_EVENTS: tuple[type[Model], ...] = (DocumentSubmitted, *ARTICLE_EVENTS, AlertMatched, DeadLettered)


ArticleT = TypeVar("ArticleT", bound=ArticleFields)


@functools.cache
def _defaults(event: type[ArticleFields]) -> tuple[tuple[str, Callable[[], Any] | None, Any], ...]:
    """``event``'s optional fields: name, default factory (the contract's take no arguments) and plain
    default (immutable here, so it can be shared)."""
    return tuple(
        (name, cast(Callable[[], Any] | None, info.default_factory), info.default)
        for name, info in event.model_fields.items()
        if not info.is_required()
    )


def promote(article: ArticleFields, target: type[ArticleT], **fields: Any) -> ArticleT:
    """Carry an article into the next stage's event, keeping everything it already holds.

    What the article holds was validated when it was built or received, so it is carried as it is
    (a dump and a re-validation cost a stage ~0.1 ms an article); only the new ``fields`` are
    validated. The provenance is copied, so stamping the new event leaves the old one as it was."""
    carried = {name: getattr(article, name) for name in type(article).model_fields if name != "event"}
    carried["provenance"] = article.provenance.detached()
    missing = [
        name
        for name, info in target.model_fields.items()
        if info.is_required() and name not in carried and name not in fields
    ]
    if missing:
        raise ValueError(f"{target.__name__} needs {', '.join(missing)}")
    # The target's own defaults are passed in: left to ``model_construct``, each default factory costs an
    # ``inspect.signature`` call (pydantic 2.14), which was 15% of the enrich stage's CPU.
    defaults = {name: make() if make else value for name, make, value in _defaults(target) if name not in carried}
    promoted = target.model_construct(**defaults, **carried)
    for name, value in fields.items():
        target.__pydantic_validator__.validate_assignment(promoted, name, value)
    return promoted
