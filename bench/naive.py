"""The baseline: the pipeline's jobs done the way a user would script them with the field's usual libraries.

One process, one article at a time, every library with its defaults:

* text: trafilatura's ``extract`` for an HTML page; a plain-text record is only
  whitespace-normalised (no padding removal);
* sentiment: vaderSentiment's compound score;
* keywords: yake's ``KeywordExtractor()``;
* near-duplicates: a datasketch ``MinHash`` (128 permutations) over word 5-shingles;
* summary: the first three sentences;
* entities: capitalised word runs found by a regular expression and looked up
  in a name -> id dictionary built from the project's knowledge base (no NER
  model, no disambiguation);
* indexing: one ``index`` request per document into an index with OpenSearch's
  dynamic mapping.

Language detection and topic classification are left out (a user would add
langdetect and a classifier): the baseline does less than the pipeline, so
the comparison flatters it, not us.

    .venv/bin/python bench/naive.py --articles 300 [--corpus ../shared/data/bbc-news/train]
"""

from __future__ import annotations

import argparse
import json
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trafilatura
import yake
from datasketch import MinHash
from opensearchpy import OpenSearch
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from corpus import describe, generate, read_source
from services.entity_link.kb.entity import read_artifact
from services.entity_link.settings import DEFAULT_KB

RESULTS = Path(__file__).resolve().parent / "results"
OPENSEARCH_URL = "http://127.0.0.1:9200"
CAPITALISED_RUN = re.compile(r"\b[A-Z][\w'&.-]*(?:\s+(?:of|de|the|and|for)?\s*[A-Z][\w'&.-]*)*")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")


def load_name_dictionary(kb_path: Path = DEFAULT_KB) -> dict[str, str]:
    names: dict[str, str] = {}
    for entity in read_artifact(kb_path):
        for name in entity.all_names():
            names.setdefault(name, entity.id)
    return names


class NaiveScript:
    def __init__(self, client: OpenSearch, index: str, names: dict[str, str]) -> None:
        self.client = client
        self.index = index
        self.names = names
        self.sentiment = SentimentIntensityAnalyzer()
        self.keywords = yake.KeywordExtractor()

    def text_of(self, record: dict[str, Any]) -> str:
        body = str(record["body"])
        if body.lstrip().startswith("<"):
            return trafilatura.extract(body) or ""
        return "\n\n".join(" ".join(block.split()) for block in body.split("\n\n"))

    def entities(self, text: str) -> list[str]:
        found = []
        for match in CAPITALISED_RUN.finditer(text):
            entity_id = self.names.get(match.group())
            if entity_id:
                found.append(entity_id)
        return sorted(set(found))

    def process(self, record: dict[str, Any]) -> None:
        text = self.text_of(record)
        words = text.lower().split()
        signature = MinHash(num_perm=128)
        for start in range(max(1, len(words) - 4)):
            signature.update(" ".join(words[start : start + 5]).encode())
        document = {
            "title": record["title"],
            "body": text,
            "url": record.get("url"),
            "source": record.get("source"),
            "published_at": record.get("published_at"),
            "sentiment": self.sentiment.polarity_scores(text)["compound"],
            "keywords": [keyword for keyword, _ in self.keywords.extract_keywords(text)],
            "summary": " ".join(SENTENCE_END.split(text)[:3]),
            "minhash": [int(value) for value in signature.hashvalues],
            "entities": self.entities(text),
        }
        self.client.index(index=self.index, body=document, id=record.get("url"))


def run_naive(
    records: list[dict[str, Any]], opensearch_url: str, index: str, progress: Callable[[str], None] = print
) -> dict[str, Any]:
    """Time the naive script over ``records``; the index is deleted afterwards."""
    started = time.perf_counter()
    names = load_name_dictionary()
    client = OpenSearch(hosts=[opensearch_url], timeout=30)
    script = NaiveScript(client, index, names)
    load_s = time.perf_counter() - started
    progress(f"naive: {len(names)} names loaded in {load_s:.1f} s; {len(records)} articles")
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        for record in records:
            script.process(record)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    finally:
        client.indices.delete(index=index, ignore_unavailable=True)
        client.close()
    return {
        "articles_measured": len(records),
        "articles_per_s": round(len(records) / wall, 1),
        "articles_per_cpu_s": round(len(records) / cpu, 1),
        "load_s": round(load_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--corpus", type=Path, help="real text (see corpus.py); default: the generated corpus")
    parser.add_argument("--opensearch", default=OPENSEARCH_URL)
    args = parser.parse_args()
    records = list(generate(read_source(args.corpus), args.articles))
    result = {"corpus": describe(args.corpus)} | run_naive(
        records, args.opensearch, f"bench-naive-{uuid.uuid4().hex[:8]}"
    )
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "naive.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
