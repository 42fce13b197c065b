"""Padding removal on captured aggregator text, scored against ``aggregator-captures/gold.json``.

Per capture, through the real ingest path (file -> submission -> article):

* keep: share of the ``must_contain`` passages found in the body;
* drop: share of the ``must_not_contain`` passages absent from the body;
* read: share of the facts read right from the padding: title (exact, or for
  ``title_like`` a close match), author, published date, original source,
  source domain, verified flag.

``topic`` in the gold is a taxonomy key for the enrich stage, not a fact of the
padding, so it is not scored here.

    .venv/bin/python bench/ingest_captures.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from cli.files import FileProblem, read_path
from cli.inprocess import articles_of
from shared.messages import ArticleFields

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
# How close a headline-like title must be to the gold's ``title_like`` (rapidfuzz ratio, 0-100).
TITLE_LIKE_MIN_RATIO = 85


def _norm(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip().casefold()


def read_checks(article: ArticleFields, gold: dict[str, Any]) -> dict[str, bool]:
    checks: dict[str, bool] = {}
    if "title" in gold:
        checks["title"] = _norm(article.title) == _norm(gold["title"])
    if "title_like" in gold:
        checks["title_like"] = fuzz.ratio(_norm(article.title), _norm(gold["title_like"])) >= TITLE_LIKE_MIN_RATIO
    if "author" in gold:
        checks["author"] = _norm(article.author) == _norm(gold["author"])
    if "published" in gold:
        published = article.published_at.date().isoformat() if article.published_at else None
        checks["published"] = published == gold["published"]
    if "original_source" in gold:
        found = article.original_source.name if article.original_source else None
        checks["original_source"] = _norm(found) == _norm(gold["original_source"])
    if "source_domain" in gold:
        checks["source_domain"] = article.source.domain == gold["source_domain"]
    if "verified" in gold:
        checks["verified"] = article.source.verified is gold["verified"]
    return checks


def score_capture(path: Path, gold: dict[str, Any]) -> dict[str, Any]:
    submissions = [item for item in read_path(path) if not isinstance(item, FileProblem)]
    articles = articles_of(submissions, "ingest")
    if len(articles) != 1:
        return {"error": f"expected one article, got {len(articles)}", "keep": 0.0, "drop": 0.0, "read": 0.0}
    article = articles[0]
    body = _norm(article.body)
    kept = [passage for passage in gold["must_contain"] if _norm(passage) in body]
    leaked = [passage for passage in gold["must_not_contain"] if _norm(passage) in body]
    checks = read_checks(article, gold)
    return {
        "keep": round(len(kept) / len(gold["must_contain"]), 3),
        "drop": round(1 - len(leaked) / len(gold["must_not_contain"]), 3),
        "read": round(sum(checks.values()) / len(checks), 3) if checks else 1.0,
        "missed": [passage for passage in gold["must_contain"] if passage not in kept],
        "leaked": leaked,
        "wrong_fields": sorted(name for name, ok in checks.items() if not ok),
        "title": article.title,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    folder = args.data / "aggregator-captures"
    gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))["captures"]
    per_capture = {name: score_capture(folder / name, expected) for name, expected in sorted(gold.items())}
    report = {
        "captures": len(per_capture),
        "mean": {
            measure: round(sum(scores[measure] for scores in per_capture.values()) / len(per_capture), 3)
            for measure in ("keep", "drop", "read")
        },
        "per_capture": per_capture,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    (RESULTS / "ingest_captures.json").write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
