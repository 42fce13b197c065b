"""Readers shared by the enrich benchmarks: the sample corpus, the aggregator captures, BBC articles.

Texts are read at run time from ``corpus/sample`` (written for newsflow,
CC0) and ``../shared/data`` (never copied into the repository).
Padded pages are passed on with their padding: the enrich stage must cope
with what ingest leaves behind, so the benchmarks do not clean it for it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from services.enrich.text import Text
from shared.messages import ArticleIngested, Source

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
SAMPLE_CORPUS = REPO / "corpus" / "sample"
SHARED_DATA = REPO.parent / "shared" / "data"


@dataclass(frozen=True)
class DevArticle:
    name: str
    title: str
    body: str
    topic: str | None
    story: str | None

    def text(self) -> Text:
        return Text(self.title, self.body)

    def message(self) -> ArticleIngested:
        return ArticleIngested(article_id=self.name, title=self.title, body=self.body, source=Source(name="bench"))


def _without_title(raw: str, title: str) -> str:
    """The page minus its headline line (padded pages have lines above it, which stay)."""
    lines = raw.splitlines()
    kept = [line for line in lines if line.strip() != title.strip()]
    return "\n".join(kept).strip()


def read_sample_corpus(corpus: Path = SAMPLE_CORPUS) -> list[DevArticle]:
    expected = json.loads((corpus / "expected.json").read_text(encoding="utf-8"))
    jsonl_lines: dict[str, list[str]] = {}
    articles = []
    for entry in expected["articles"]:
        if entry["line"] is None:
            raw = (corpus / entry["file"]).read_text(encoding="utf-8")
            body = _without_title(raw, entry["title"])
            name = entry["file"]
        else:
            lines = jsonl_lines.setdefault(entry["file"], (corpus / entry["file"]).read_text().splitlines())
            record = json.loads(lines[entry["line"]])
            body = record["body"]
            name = f"{entry['file']}:{entry['line']}"
        articles.append(DevArticle(name, entry["title"], body, entry["topic"], entry["story_cluster"]))
    return articles


def read_aggregator_captures(data: Path = SHARED_DATA) -> list[DevArticle]:
    folder = data / "aggregator-captures"
    gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
    story_of = {capture: story for story, captures in gold.get("stories", {}).items() for capture in captures}
    articles = []
    for name, facts in gold["captures"].items():
        title = facts.get("title") or facts.get("title_like") or ""
        raw = (folder / name).read_text(encoding="utf-8")
        articles.append(DevArticle(name, title, _without_title(raw, title), facts.get("topic"), story_of.get(name)))
    return articles
