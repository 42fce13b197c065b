"""Saved searches (alerts): stored as percolator queries, matched by the alerts stage as articles arrive.

An alert is written in the filter language of ``newsflow search`` (shared/search/queries.py): its
percolator query *is* the query part of ``search_body`` for the same request, so an alert matches
exactly the articles the same search would find, plus two conditions a search has no flag for:
a verified source, and a story of at least N articles (counted when the article arrives, by the
alerts stage, because a percolator sees one document at a time).

The alerts live in their own versioned index behind an alias (``alerts`` -> ``alerts-v1``). Its
mapping is the articles' mapping plus a percolator field (deploy/opensearch/alerts-template.json),
so a query is parsed against the fields it will match; ``migrate_alerts`` (run by ``newsflow
reindex``) rebuilds every query from the alert as the user wrote it into a new versioned index.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConflictError, NotFoundError, RequestError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.messages import utcnow
from shared.search.indices import index_template, template_name, versioned_index
from shared.search.queries import FILTER_FIELDS, SearchRequest, search_body

ALERTS_TEMPLATE_FILE = Path(__file__).resolve().parents[2] / "deploy" / "opensearch" / "alerts-template.json"
# Alerts are read in pages of this many (listing, migration, percolation hits).
PAGE_SIZE = 1000
FilterName = Literal["topic", "source", "entity", "handle", "sentiment", "language"]
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def new_alert_id() -> str:
    return f"al-{secrets.token_hex(6)}"


class AlertExists(ValueError):
    """An alert with this id is stored already."""


class AlertRefused(ValueError):
    """OpenSearch refused the alert's query: it does not parse against the article fields."""


class AlertSpec(BaseModel):
    """An alert as its owner writes it (on the command line or as the API's request body); the
    percolator query is derived from it, never edited by hand. ``saved()`` gives it an id and a date."""

    model_config = ConfigDict(extra="forbid")

    alert_id: str | None = Field(default=None, description="Chosen by the owner, else a new one")
    name: str = Field(min_length=1, max_length=200)
    text: str = Field(default="", max_length=500, description="Full text, as `q` of /v1/articles")
    filters: dict[FilterName, list[str]] = Field(
        default_factory=dict, description="Any of these values, per filter; an @handle in `entity` is a handle"
    )
    more_on: str | None = Field(default=None, description="An entity (@handle or its id) and its story")
    more_in: str | None = Field(default=None, description="A topic with its subtopics")
    verified_source: bool = False
    min_story_size: int = Field(default=1, ge=1, description="Fire once the article's story has this many")
    once_per_story: bool = Field(default=False, description="Fire for the first matching article of a story only")
    webhook_url: str | None = Field(default=None, description="POST each match here, signed (HMAC-SHA256)")
    webhook_secret: str | None = Field(default=None, description="The signing key (default: a new random one)")

    @field_validator("alert_id")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        # Part of NATS message ids and key-value keys: letters, digits, '-' and '_' only.
        if value is not None and not _TOKEN.fullmatch(value):
            raise ValueError("an alert id is 1-64 letters, digits, '-' or '_'")
        return value

    @field_validator("filters")
    @classmethod
    def _handles_apart(cls, filters: dict[FilterName, list[str]]) -> dict[FilterName, list[str]]:
        """``entity: ["@deepseek"]`` means the handle, as in ``newsflow search`` and /v1/articles."""
        entities = filters.get("entity", [])
        handles = [value[1:] for value in entities if value.startswith("@")]
        if not handles:
            return filters
        ids = [value for value in entities if not value.startswith("@")]
        moved: dict[FilterName, list[str]] = {**filters, "handle": [*filters.get("handle", []), *handles]}
        if ids:
            moved["entity"] = ids
        else:
            del moved["entity"]
        return moved

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"a webhook is an http(s) URL with a host, not {value[:200]!r}")
        return value

    def saved(self) -> SavedSearch:
        """This alert as stored: its id (a new one unless chosen), its creation time and, with a webhook,
        a signing secret (a new random one unless given)."""
        fields = self.model_dump(exclude={"alert_id"} if self.alert_id is None else set())
        if self.webhook_url and not self.webhook_secret:
            fields["webhook_secret"] = secrets.token_urlsafe(32)
        return SavedSearch.model_validate(fields)


class SavedSearch(AlertSpec):
    """A stored alert."""

    alert_id: str = Field(default_factory=new_alert_id)
    created_at: datetime = Field(default_factory=utcnow)

    def search_request(self) -> SearchRequest:
        return SearchRequest(
            text=self.text,
            filters={name: values for name, values in self.filters.items() if values},
            more_on=self.more_on,
            more_in=self.more_in,
        )

    def percolator_query(self) -> dict[str, Any]:
        query: dict[str, Any] = search_body(self.search_request())["query"]
        if self.verified_source:
            query["bool"]["filter"].append({"term": {"source.verified": True}})
        return query

    def public(self) -> dict[str, Any]:
        """What listing and showing print: everything but the secret."""
        shown = self.model_dump(mode="json")
        if shown["webhook_secret"]:
            shown["webhook_secret"] = "***"
        return shown


def matched_fields(alert: SavedSearch, document: Mapping[str, Any]) -> dict[str, list[str]]:
    """The article's values that satisfied each of the alert's conditions, keyed by article field."""
    matched: dict[str, list[str]] = {}

    def keep(field: str, values: list[str]) -> None:
        if values:
            matched.setdefault(field, []).extend(value for value in values if value not in matched.get(field, []))

    for name, wanted in alert.filters.items():
        field = FILTER_FIELDS[name]
        folded = {value.casefold() for value in wanted}
        keep(field, [value for value in field_values(document, field) if value.casefold() in folded])
    if alert.more_on:
        handle = alert.more_on.removeprefix("@").casefold()
        field = "entity_handles" if alert.more_on.startswith("@") else "entity_ids"
        keep(field, [value for value in field_values(document, field) if value.casefold() == handle])
    if alert.more_in:
        key = alert.more_in.lstrip("#")
        keep("topic_keys", [t for t in field_values(document, "topic_keys") if t == key or t.startswith(f"{key}/")])
    if alert.verified_source:
        keep("source.verified", [str(value).lower() for value in field_values(document, "source.verified")])
    return matched


def field_values(document: Mapping[str, Any], dotted: str) -> list[str]:
    """A document's values at a dotted path, as strings (a single value becomes a list of one)."""
    value: Any = document
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


# -- the alerts index ------------------------------------------------------------------


def alerts_index_template(articles_alias: str, alerts_alias: str) -> dict[str, Any]:
    """The articles' template (settings and field mappings) plus the alert's own fields, for ``<alerts_alias>-v*``."""
    template = index_template(articles_alias)
    own = json.loads(ALERTS_TEMPLATE_FILE.read_text())
    properties = template["template"]["mappings"]["properties"]
    clash = set(properties) & set(own["mappings"]["properties"])
    if clash:
        raise ValueError(f"the article mapping now has fields named like the alert's own: {sorted(clash)}")
    properties.update(own["mappings"]["properties"])
    template["index_patterns"] = [f"{alerts_alias}-v*"]
    template["_meta"] = {**own["_meta"], "articles_template": template["_meta"]["description"]}
    return template


def alert_document(alert: SavedSearch) -> dict[str, Any]:
    return {"alert_id": alert.alert_id, "alert": alert.model_dump(mode="json"), "query": alert.percolator_query()}


class AlertStore:
    """Saved searches in OpenSearch, for the command line (and the API): add, list, show, remove, test."""

    def __init__(self, client: OpenSearch, articles_alias: str, alerts_alias: str) -> None:
        self.client = client
        self.articles_alias = articles_alias
        self.alias = alerts_alias

    def ensure(self) -> str:
        """Apply the template and make sure the alias points at a versioned index; return that index."""
        template = alerts_index_template(self.articles_alias, self.alias)
        self.client.indices.put_index_template(name=template_name(self.alias), body=template)
        if self.client.indices.exists_alias(name=self.alias):
            return str(next(iter(self.client.indices.get_alias(name=self.alias))))
        first = versioned_index(self.alias, 1)
        try:
            self.client.indices.create(index=first, body={"aliases": {self.alias: {"is_write_index": True}}})
        except RequestError as error:
            if error.error != "resource_already_exists_exception":
                raise
        return first

    def add(self, spec: AlertSpec) -> SavedSearch:
        """Store the alert; OpenSearch parses its query against the article fields.

        Raises ``AlertExists`` if its id is taken, ``AlertRefused`` if OpenSearch cannot parse its query."""
        self.ensure()
        alert = spec.saved()
        try:
            self.client.index(
                index=self.alias, id=alert.alert_id, body=alert_document(alert), op_type="create", refresh="wait_for"
            )
        except ConflictError:
            raise AlertExists(f"an alert {alert.alert_id!r} exists already") from None
        except RequestError as error:
            raise AlertRefused(f"OpenSearch refused the alert: {str(error.info)[:500]}") from error
        return alert

    def get(self, alert_id: str) -> SavedSearch | None:
        try:
            found = self.client.get(index=self.alias, id=alert_id)
        except NotFoundError:
            return None
        return SavedSearch.model_validate(found["_source"]["alert"])

    def remove(self, alert_id: str) -> bool:
        try:
            self.client.delete(index=self.alias, id=alert_id, refresh="wait_for")
        except NotFoundError:
            return False
        return True

    def all(self) -> Iterator[SavedSearch]:
        """Every alert, oldest id first, a page at a time."""
        for hit in self.pages(self.alias):
            yield SavedSearch.model_validate(hit["_source"]["alert"])

    def test(self, alert: SavedSearch, size: int = 10) -> tuple[int, list[dict[str, Any]]]:
        """How many already indexed articles the alert matches, and the newest of them (with their ``_id``).

        The story size condition is left out: it is counted when an article arrives."""
        body = {
            "size": size,
            "query": alert.percolator_query(),
            "sort": [{"dated_at": {"order": "desc"}}],
            "_source": ["article_id", "title", "url", "source.name", "dated_at", "story_id"],
            "track_total_hits": True,
        }
        response = self.client.search(index=self.articles_alias, body=body)
        hits = [{**hit["_source"], "_id": hit["_id"]} for hit in response["hits"]["hits"]]
        return int(response["hits"]["total"]["value"]), hits

    def pages(self, index: str) -> Iterator[dict[str, Any]]:
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {"size": PAGE_SIZE, "sort": [{"alert_id": "asc"}], "_source": ["alert"]}
            if after is not None:
                body["search_after"] = after
            try:
                hits = self.client.search(index=index, body=body)["hits"]["hits"]
            except NotFoundError:
                return
            yield from hits
            if len(hits) < PAGE_SIZE:
                return
            after = hits[-1]["sort"]


def migrate_alerts(client: OpenSearch, articles_alias: str, alerts_alias: str) -> tuple[str, str, int] | None:
    """Rebuild every alert's query into a new versioned alerts index with the current article mapping,
    then swap the alias. None when there are no alerts. Alerts added during the copy are copied after the swap."""
    if not client.indices.exists_alias(name=alerts_alias):
        return None
    store = AlertStore(client, articles_alias, alerts_alias)
    source = str(next(iter(client.indices.get_alias(name=alerts_alias))))
    client.indices.put_index_template(
        name=template_name(alerts_alias), body=alerts_index_template(articles_alias, alerts_alias)
    )
    version = int(source.rsplit("-v", 1)[1]) + 1
    target = versioned_index(alerts_alias, version)
    client.indices.create(index=target)
    copied = _copy_alerts(store, source, target)
    client.indices.update_aliases(
        body={
            "actions": [
                {"remove": {"index": source, "alias": alerts_alias}},
                {"add": {"index": target, "alias": alerts_alias, "is_write_index": True}},
            ]
        }
    )
    client.indices.refresh(index=source)
    copied += _copy_alerts(store, source, target)
    return source, target, copied


def _copy_alerts(store: AlertStore, source: str, target: str) -> int:
    copied = 0
    for hit in store.pages(source):
        alert = SavedSearch.model_validate(hit["_source"]["alert"])
        try:
            store.client.index(index=target, id=alert.alert_id, body=alert_document(alert), op_type="create")
        except ConflictError:  # copied by the first pass
            continue
        except RequestError as error:
            problem = f"alert {alert.alert_id} no longer parses against the article mapping: {error}"
            raise RuntimeError(problem) from error
        copied += 1
    store.client.indices.refresh(index=target)
    return copied
