"""The benchmark corpus: N news records, generated reproducibly, so a fresh machine has one.

By default the articles come from the shipped sample corpus (``corpus/sample``:
the well-formed ``*.txt`` files and ``wire.jsonl``, all written for this
project). ``--corpus PATH`` reads real text instead: a folder of ``.txt``
files laid out like ``../shared/data/bbc-news/train/<topic>/<NNN>.txt`` (first
line the headline, a blank line, then the body), or a ``.jsonl`` file of
records with ``title`` and ``body``.

The first records are the source articles as they are (up to N). The rest are
recombined: a source article's headline (lightly varied) and lede, followed
by paragraphs drawn mostly from articles of the same topic, under a made-up
outlet and a unique ``.example`` URL. Every record has its own URL and its
own text, so ingest (which drops exact duplicates by URL and by text) keeps
all N and every article id differs. The same seed gives the same records.

    .venv/bin/python bench/corpus.py --articles 10000 --out .local/bench/corpus.jsonl
    .venv/bin/python bench/corpus.py --corpus ../shared/data/bbc-news/train --articles 10000 --out /tmp/bbc.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "corpus" / "sample"
DEFAULT_SEED = 7

# Made-up outlets; the .example domains are reserved and never resolve.
OUTLETS = (
    "Harbour Ledger",
    "Northgate Courier",
    "Meridian Wire",
    "Lakeside Chronicle",
    "Copperline News",
    "Atlas Morning Post",
    "Riverbend Gazette",
    "Summit Daily",
    "Eastport Observer",
    "Bluewater Times",
)
TITLE_PREFIXES = ("", "", "", "Update: ", "Analysis: ", "Explainer: ", "Briefing: ", "What we know: ")
TITLE_SUFFIXES = ("", "", "", " — live updates", " (updated)", ", sources say", ": what it means")
MIN_EXTRA_PARAGRAPHS, MAX_EXTRA_PARAGRAPHS = 3, 7
# Share of added paragraphs taken from the lede's own topic: keeps topics recognisable.
SAME_TOPIC_SHARE = 0.75
FIRST_DATE = datetime(2026, 11, 1, tzinfo=UTC)
DATE_SPAN_S = 30 * 24 * 3600


@dataclass(frozen=True)
class SourceArticle:
    title: str
    paragraphs: tuple[str, ...]
    topic: str


# -- reading source articles ---------------------------------------------------------


def paragraphs_of(body: str) -> tuple[str, ...]:
    return tuple(p for p in (" ".join(block.split()) for block in re.split(r"\n\s*\n", body)) if p)


def parse_headline_file(text: str, topic: str) -> SourceArticle | None:
    """A headline, a blank line, then paragraphs separated by blank lines; None for any other layout."""
    lines = text.strip().splitlines()
    if len(lines) < 3 or lines[1].strip():
        return None  # e.g. the sample's padded aggregator captures: breadcrumbs before the headline
    paragraphs = paragraphs_of("\n".join(lines[2:]))
    return SourceArticle(lines[0].strip(), paragraphs, topic) if paragraphs else None


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:  # bbc-news has one Latin-1 file
        return data.decode("latin-1")


def read_bbc_files(folder: Path) -> Iterator[tuple[Path, str, str]]:
    """Every article of a bbc-news split (``<topic>/<number>.txt``): its path, title (the first line) and body."""
    for path in sorted(folder.glob("*/*.txt")):
        title, _, body = _read_text(path).strip().partition("\n")
        yield path, title.strip(), body.strip()


def read_text_folder(folder: Path) -> list[SourceArticle]:
    """Every well-formed ``.txt`` below ``folder``; its parent folder's name is the topic."""
    found = []
    for path in sorted(folder.rglob("*.txt")):
        topic = path.parent.name if path.parent != folder else "all"
        article = parse_headline_file(_read_text(path), topic)
        if article is not None:
            found.append(article)
    return found


def read_jsonl(path: Path, topics: dict[int, str] | None = None) -> list[SourceArticle]:
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        record = json.loads(line)
        paragraphs = paragraphs_of(str(record.get("body", "")))
        title = str(record.get("title", "")).strip()
        if title and paragraphs:
            topic = (topics or {}).get(number) or str(record.get("topic") or "all")
            found.append(SourceArticle(title, paragraphs, topic))
    return found


def read_sample(sample: Path = SAMPLE) -> list[SourceArticle]:
    """The shipped sample corpus, with each article's topic from its ``expected.json``."""
    expected = json.loads((sample / "expected.json").read_text(encoding="utf-8"))["articles"]
    topic_of_file = {entry["file"]: entry["topic"] for entry in expected if entry["line"] is None}
    topic_of_line = {entry["line"]: entry["topic"] for entry in expected if entry["file"] == "wire.jsonl"}
    articles = []
    for path in sorted(sample.glob("*.txt")):
        if path.name in topic_of_file:
            article = parse_headline_file(path.read_text(encoding="utf-8"), topic_of_file[path.name])
            if article is not None:
                articles.append(article)
    return articles + read_jsonl(sample / "wire.jsonl", topic_of_line)


def read_source(corpus: Path | None) -> list[SourceArticle]:
    if corpus is None:
        return read_sample()
    articles = read_jsonl(corpus) if corpus.is_file() else read_text_folder(corpus)
    if not articles:
        raise SystemExit(f"no usable articles in {corpus} (want .txt files or a .jsonl file)")
    return articles


# -- generating records ---------------------------------------------------------------


def slug(text: str, limit: int = 60) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:limit].rstrip("-") or "article"


def _normalised(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def _record(number: int, title: str, paragraphs: Iterable[str], topic: str, rng: random.Random) -> dict[str, Any]:
    outlet = rng.choice(OUTLETS)
    published = FIRST_DATE + timedelta(seconds=rng.randrange(DATE_SPAN_S))
    url = f"https://{slug(outlet)}.example/{slug(topic, 20)}/{published:%Y/%m/%d}/{slug(title)}-{number}"
    return {
        "title": title,
        "body": "\n\n".join(paragraphs),
        "url": url,
        "source": outlet,
        "published_at": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


class Recombiner:
    """New articles from a source article's lede plus paragraphs of others."""

    def __init__(self, articles: list[SourceArticle], rng: random.Random) -> None:
        self.articles = articles
        self.rng = rng
        self.by_topic: dict[str, list[str]] = defaultdict(list)
        for article in articles:
            self.by_topic[article.topic].extend(article.paragraphs[1:])
        self.every_paragraph = [p for article in articles for p in article.paragraphs[1:]]
        if not self.every_paragraph:
            raise ValueError("the source articles have no paragraphs beyond their ledes to recombine")

    def draw(self) -> tuple[str, list[str], str]:
        base = self.rng.choice(self.articles)
        title = f"{self.rng.choice(TITLE_PREFIXES)}{base.title}{self.rng.choice(TITLE_SUFFIXES)}"
        paragraphs = [base.paragraphs[0]]
        for _ in range(self.rng.randint(MIN_EXTRA_PARAGRAPHS, MAX_EXTRA_PARAGRAPHS)):
            same_topic = self.by_topic[base.topic]
            pool = same_topic if same_topic and self.rng.random() < SAME_TOPIC_SHARE else self.every_paragraph
            candidate = self.rng.choice(pool)
            if candidate not in paragraphs:
                paragraphs.append(candidate)
        return title, paragraphs, base.topic


def generate(articles: list[SourceArticle], count: int, seed: int = DEFAULT_SEED) -> Iterator[dict[str, Any]]:
    """``count`` records: the source articles first, then recombinations, each with unique URL and text."""
    rng = random.Random(seed)
    seen_texts: set[str] = set()

    def first_time(paragraphs: Iterable[str]) -> bool:
        key = hashlib.blake2b(_normalised(" ".join(paragraphs)).encode(), digest_size=16).hexdigest()
        if key in seen_texts:
            return False
        seen_texts.add(key)
        return True

    produced = 0
    for article in articles[:count]:
        if first_time(article.paragraphs):
            yield _record(produced, article.title, article.paragraphs, article.topic, rng)
            produced += 1
    recombiner = Recombiner(articles, rng)
    attempts_left = 50 * count  # a tiny source could run out of distinct combinations
    while produced < count and attempts_left:
        attempts_left -= 1
        title, paragraphs, topic = recombiner.draw()
        if first_time(paragraphs):
            yield _record(produced, title, paragraphs, topic, rng)
            produced += 1
    if produced < count:
        raise ValueError(f"only {produced} distinct articles could be made from {len(articles)} source articles")


def describe(corpus: Path | None) -> str:
    return str(corpus) if corpus else "generated from corpus/sample (seeded recombination)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--corpus", type=Path, help="real text: a folder of .txt files or a .jsonl file")
    parser.add_argument("--out", type=Path, help="JSONL file to write (default: standard output)")
    args = parser.parse_args()
    records = generate(read_source(args.corpus), args.articles, args.seed)
    lines = (json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    if args.out is None:
        sys.stdout.writelines(lines)
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        out.writelines(lines)
    print(json.dumps({"corpus": describe(args.corpus), "articles": args.articles, "out": str(args.out)}))


if __name__ == "__main__":
    main()
