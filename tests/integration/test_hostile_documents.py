"""Hostile documents, against a real nats-server with the ingest stage running in this process.

A page larger than NATS accepts is refused to its publisher; a large one that fits
is truncated and marked; deeply nested HTML, entity bombs and external entities in
a feed, and random text and HTML soup are each settled (an article, or a dead
letter with a reason) without crashing or stalling the stage. Fetch hostility
(private addresses, redirect loops, compression bombs) is tested in test_ingest_fetch.py.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from rich.console import Console

from cli.dlq import read_letters
from cli.publish import publish_files, publish_submissions
from services.ingest.app import create_app as ingest_app
from services.ingest.settings import IngestSettings
from shared.messages import (
    MAX_BODY_CHARS,
    MAX_MESSAGE_BYTES,
    ArticleIngested,
    DeadLettered,
    DocumentKind,
    DocumentSubmitted,
)
from shared.nats import ensure_stream
from shared.settings import ServiceSettings
from shared.topology import Topology
from tests.chaos.faults import NatsServer
from tests.support import running, wait_until

pytestmark = pytest.mark.integration

PARAGRAPH = (
    "The {label} harbour committee met again on {n} and approved the plan for the new quay, after a debate "
    "about costs, dates and the noise the works will make for the people who live by the water."
)
# Bad input must be refused at once: a stage that retried it would show it as "exhausted" quickly.
FAST_RETRY: dict[str, Any] = {"max_deliver": 2, "retry_backoff_s": [0.2]}


def article_text(paragraphs: int, label: str) -> str:
    """Text of our own; the label keeps documents apart, so ingest never drops one as another's duplicate."""
    return "\n\n".join(PARAGRAPH.format(n=number, label=label) for number in range(paragraphs))


def article_html(paragraphs: int, label: str) -> str:
    body = "".join(f"<p>{PARAGRAPH.format(n=number, label=label)}</p>" for number in range(paragraphs))
    head = "<head><title>Harbour plan</title></head>"
    return f"<html>{head}<body><article><h1>Harbour plan</h1>{body}</article></body></html>"


@dataclass
class Ingest:
    """The ingest stage's inbox, its output (the enrich inbox) and its dead letters."""

    topology: Topology
    js: JetStreamContext

    async def submit(self, *submissions: DocumentSubmitted) -> None:
        await publish_submissions(self.js, self.topology.entry_subject, list(submissions))

    async def articles(self) -> list[ArticleIngested]:
        subscription = await self.js.pull_subscribe(
            self.topology.inbox("enrich"),
            stream=self.topology.stream,
            config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=10),
        )
        found: list[ArticleIngested] = []
        try:
            while True:
                found += [
                    ArticleIngested.model_validate_json(m.data) for m in await subscription.fetch(256, timeout=0.5)
                ]
        except TimeoutError:  # nats-py raises the builtin one, not only nats.errors.TimeoutError: nothing more
            pass
        finally:
            await subscription.unsubscribe()
        return found

    async def letters(self) -> list[DeadLettered]:
        return [item.letter for item in await read_letters(self.js, self.topology, "ingest")]

    async def settled(self, submission: DocumentSubmitted, timeout_s: float = 30) -> ArticleIngested | DeadLettered:
        """The article a submission became (found by its URL), or its dead letter."""
        found: list[ArticleIngested | DeadLettered] = []

        async def either() -> bool:
            found[:] = [a for a in await self.articles() if a.url == submission.url] + [
                letter for letter in await self.letters() if submission.submission_id in letter.original
            ]
            return bool(found)

        await wait_until(either, timeout_s, f"submission {submission.submission_id} to be settled")
        return found[0]


@pytest.fixture(scope="module")
async def ingest(own_nats: NatsServer) -> AsyncIterator[Ingest]:
    namespace = f"d{uuid.uuid4().hex[:10]}"
    client = await nats.connect(own_nats.url)
    topology = Topology(namespace)
    await ensure_stream(client.jetstream(), topology)
    async with running(ingest_app(IngestSettings(nats_url=own_nats.url, namespace=namespace, **FAST_RETRY))):
        yield Ingest(topology, client.jetstream())
    await client.close()


def submission(kind: DocumentKind, content: str, label: str) -> DocumentSubmitted:
    marker = f"{label}-{uuid.uuid4().hex[:10]}"
    url = f"https://hostile.example.test/{marker}"
    # Ingest reads a text document's address from its hints only, an HTML page's from either.
    return DocumentSubmitted(submission_id=marker, kind=kind, content=content, url=url, hints={"url": url})


def assert_refused_with_a_reason(outcome: ArticleIngested | DeadLettered) -> None:
    if isinstance(outcome, DeadLettered):
        assert outcome.kind == "permanent" and outcome.reason and outcome.error, outcome.model_dump(
            exclude={"original"}
        )


async def test_a_page_over_the_nats_payload_limit_is_refused_to_its_publisher(ingest: Ingest) -> None:
    page = submission("html", "<p>" + "a" * (50 * 1024 * 1024) + "</p>", "fifty-megabytes")
    with pytest.raises(ValueError, match=f"over the {MAX_MESSAGE_BYTES}-byte message limit"):
        await ingest.submit(page)  # the CLI's publisher checks before sending
    with pytest.raises(nats.errors.MaxPayloadError, match="maximum payload exceeded"):
        await ingest.js.publish(ingest.topology.entry_subject, page.model_dump_json().encode())


async def test_newsflow_ingest_reports_a_file_over_the_message_limit_as_a_problem(
    own_nats: NatsServer, tmp_path: Path
) -> None:
    big = tmp_path / "big.txt"
    big.write_text(article_text(30_000, "big file"))  # about 6 MB of text
    problems = await publish_files([big], ServiceSettings(nats_url=own_nats.url, namespace="dbig"), Console())
    assert [problem.path for problem in problems] == [str(big)]


@pytest.mark.parametrize("kind", ["text", "html"])
async def test_a_large_page_under_the_limit_is_truncated_and_marked(ingest: Ingest, kind: DocumentKind) -> None:
    paragraphs = 12_000  # about 2.4 MB: over the body limit, under the message limit
    content = article_text(paragraphs, "large") if kind == "text" else article_html(paragraphs, "large")
    assert len(content) > MAX_BODY_CHARS and len(content.encode()) < MAX_MESSAGE_BYTES
    large = submission(kind, content, f"large-{kind}")
    await ingest.submit(large)
    article = await ingest.settled(large)
    assert isinstance(article, ArticleIngested), article
    assert article.body_truncated and len(article.body) <= MAX_BODY_CHARS
    assert article.body.endswith(".")  # cut at a paragraph break, not mid-word
    assert len(article.model_dump_json().encode()) < MAX_MESSAGE_BYTES


async def test_deeply_nested_html_is_settled_and_the_stage_carries_on(ingest: Ingest) -> None:
    depth = 100_000
    nested = f"<html><body>{'<div>' * depth}{article_html(5, 'nested')}{'</div>' * depth}</body></html>"
    hostile = submission("html", nested, "nested")
    after = submission("html", article_html(5, "after nested"), "after-nested")
    await ingest.submit(hostile, after)
    assert_refused_with_a_reason(await ingest.settled(hostile))
    assert isinstance(await ingest.settled(after), ArticleIngested)


def feed_with(doctype: str, entry_text: str, label: str) -> str:
    """An RSS feed whose one entry carries its whole article (so nothing is fetched)."""
    return (
        f'<?xml version="1.0"?>{doctype}<rss version="2.0"><channel><title>Harbour news</title>'
        f"<item><title>Harbour plan</title><link>https://feed.example.test/{uuid.uuid4().hex}</link>"
        f"<description><![CDATA[{article_html(8, label)}]]> {entry_text}</description></item></channel></rss>"
    )


def entity_attacks(secret_file: Path) -> dict[str, str]:
    laughs = '<!ENTITY a0 "ha">' + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
    return {
        "billion_laughs": feed_with(f"<!DOCTYPE rss [{laughs}]>", "&a9;", "laughs"),
        "quadratic_blowup": feed_with(f'<!DOCTYPE rss [<!ENTITY big "{"x" * 100_000}">]>', "&big;" * 300, "blowup"),
        "external_file": feed_with(f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file://{secret_file}">]>', "&xxe;", "file"),
        "external_parameter": feed_with(
            f'<!DOCTYPE rss [<!ENTITY % remote SYSTEM "file://{secret_file}"> %remote;]>', "text", "parameter"
        ),
    }


async def test_entity_bombs_and_external_entities_in_a_feed_neither_expand_nor_read_files(
    ingest: Ingest, tmp_path: Path
) -> None:
    secret = f"secret-{uuid.uuid4().hex}"
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(secret)
    feeds = {name: submission("feed", content, name) for name, content in entity_attacks(secret_file).items()}
    await ingest.submit(*feeds.values())
    after = submission("html", article_html(5, "after feeds"), "after-feeds")
    await ingest.submit(after)
    assert isinstance(await ingest.settled(after, timeout_s=60), ArticleIngested)
    outputs = [article.model_dump_json() for article in await ingest.articles()]
    outputs += [letter.model_dump_json() for letter in await ingest.letters()]
    assert not any(secret in output for output in outputs), "an external entity was read"
    assert not any("ha" * 1000 in output for output in outputs), "nested entities were expanded"
    assert all(len(output) < MAX_MESSAGE_BYTES for output in outputs)


html_soup = st.lists(
    st.sampled_from(
        [
            "<div>", "</div>", "<p>", "</p>", "<script>", "</script>", "<!--", "-->", "<![CDATA[", "]]>",
            "&amp;", "&#0;", "&#xD800;", "&#x110000;", "&bogus;", "<svg>", "<math>", "<table><tr><td>",
            "<html>", "<body>", "<meta charset='utf-7'>", "<?xml version='1.0' encoding='utf-16'?>",
            "<base href='javascript:alert(1)'>", "<a href='file:///etc/passwd'>", "\x00", "\ufeff", "\u202e",
        ]
    )
    | st.text(max_size=30),
    max_size=60,
).map("".join)  # fmt: skip
hostile_content = st.one_of(st.text(max_size=3000), html_soup)


@settings(
    max_examples=5,
    deadline=None,
    database=None,
    phases=[Phase.generate],  # a failing example waits out its timeout: shrinking would take minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    documents=st.lists(
        st.tuples(st.sampled_from(["text", "markdown", "html"]), hostile_content), min_size=1, max_size=8
    )
)
async def test_random_text_and_html_soup_are_each_settled(
    ingest: Ingest, documents: list[tuple[DocumentKind, str]]
) -> None:
    # A word of its own keeps every document distinct, so none is dropped as a duplicate of another.
    submissions = [submission(kind, f"{content} {uuid.uuid4().hex}", "random") for kind, content in documents]
    await ingest.submit(*submissions)
    for item in submissions:
        assert_refused_with_a_reason(await ingest.settled(item))
