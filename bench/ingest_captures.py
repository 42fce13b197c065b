"""Padding removal on captured page text, scored against two gold sets.

The sets: the shared ``aggregator-captures`` (eight captures) and newsflow's own
``corpus/captures`` (twenty-five, in other forms; the ones its gold lists under
``holdout`` were not looked at while tuning, and ``holdout_late`` were written
after tuning ended; both are reported apart, with their misses hidden unless
``--show-holdout``). The HTML captures (``w*``, and ``holdout_html`` kept untouched
while the HTML path was tuned, and ``holdout_html_r5`` / ``holdout_html_r6`` written before
round 5's / round 6's changes)
are reported as slices of their own.

Per capture, through the real ingest path (file -> submission -> article):

* keep: share of the ``must_contain`` passages found in the body;
* drop: share of the ``must_not_contain`` passages absent from the body;
* padding entities: for captures whose gold lists ``padding_entities``, the names
  from the padding that the whole pipeline (``--stage all``) still linked;
* read: share of the facts read right from the padding: title (exact, or for
  ``title_like`` a close match), subtitle, author, published date (and the full
  timestamp with its offset, where the gold gives one; a ``null`` date must stay
  empty), original source, source domain, verified flag, in-body headings.

``topic`` in the gold is a taxonomy key for the enrich stage, not a fact of the
padding, so it is not scored here.

    .venv/bin/python bench/ingest_captures.py [--data ../shared/data] [--show-holdout]
"""

from __future__ import annotations

import argparse
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from cli.files import FileProblem, read_path
from cli.inprocess import articles_of
from shared.messages import ArticleFields, ArticleLinked, DocumentSubmitted

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
OWN_CAPTURES = REPO / "corpus" / "captures"
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
    if "subtitle" in gold:
        checks["subtitle"] = _norm(article.subtitle) == _norm(gold["subtitle"])
    if "author" in gold:
        checks["author"] = _norm(article.author) == _norm(gold["author"])
    if "published" in gold:
        published = article.published_at.date().isoformat() if article.published_at else None
        checks["published"] = published == gold["published"]
    if "published_at" in gold:
        expected = datetime.fromisoformat(gold["published_at"])
        found_at = article.published_at
        checks["published_at"] = found_at == expected and bool(
            found_at and found_at.utcoffset() == expected.utcoffset()
        )
    if "headings" in gold:
        checks["headings"] = [_norm(heading.text) for heading in article.headings] == [
            _norm(text) for text in gold["headings"]
        ]
    if "original_source" in gold:
        found = article.original_source.name if article.original_source else None
        checks["original_source"] = _norm(found) == _norm(gold["original_source"])
    if "source_domain" in gold:
        checks["source_domain"] = article.source.domain == gold["source_domain"]
    if "verified" in gold:
        checks["verified"] = article.source.verified is gold["verified"]
    return checks


def linked_padding_entities(submissions: list[DocumentSubmitted], names: list[str]) -> list[str]:
    """The padding's names that the whole pipeline still linked as the article's entities."""
    if not names:
        return []
    linked = [
        _norm(entity.name)
        for article in articles_of(submissions, "all")
        if isinstance(article, ArticleLinked)
        for entity in article.entities
    ]
    return [name for name in names if any(_norm(name) in entity for entity in linked)]


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
    padding_linked = (
        linked_padding_entities(submissions, gold["padding_entities"]) if "padding_entities" in gold else []
    )
    return {
        "keep": round(len(kept) / len(gold["must_contain"]), 3),
        "drop": round(1 - len(leaked) / len(gold["must_not_contain"]), 3) if gold["must_not_contain"] else 1.0,
        "read": round(sum(checks.values()) / len(checks), 3) if checks else 1.0,
        "missed": [passage for passage in gold["must_contain"] if passage not in kept],
        "leaked": leaked,
        "wrong_fields": sorted(name for name, ok in checks.items() if not ok),
        "padding_entities_linked": padding_linked,
        "title": article.title,
    }


def score_set(folder: Path, names: list[str], gold: dict[str, Any]) -> dict[str, Any]:
    per_capture = {name: score_capture(folder / name, gold[name]) for name in sorted(names)}
    return {
        "captures": len(per_capture),
        "mean": {
            measure: round(sum(scores[measure] for scores in per_capture.values()) / max(1, len(per_capture)), 3)
            for measure in ("keep", "drop", "read")
        },
        "padding_entities_linked": sum(
            len(scores.get("padding_entities_linked", [])) for scores in per_capture.values()
        ),
        "per_capture": per_capture,
    }


def _hide_misses(scored: dict[str, Any]) -> dict[str, Any]:
    """Only the scores of the untouched slice: what it missed must not steer the tuning."""
    hidden = {"missed", "leaked", "wrong_fields", "title", "padding_entities_linked"}
    per_capture = {
        name: {key: value for key, value in scores.items() if key not in hidden}
        for name, scores in scored["per_capture"].items()
    }
    return {**scored, "per_capture": per_capture}


def _is_html(name: str) -> bool:
    return name.endswith((".html", ".htm"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--show-holdout", action="store_true", help="show what the untouched slice missed")
    args = parser.parse_args()
    shared_folder = args.data / "aggregator-captures"
    shared_gold = json.loads((shared_folder / "gold.json").read_text(encoding="utf-8"))["captures"]
    own = json.loads((OWN_CAPTURES / "gold.json").read_text(encoding="utf-8"))
    slices = {
        "own_holdout": own["holdout"],
        "own_holdout_late": own.get("holdout_late", []),
        "own_html_holdout": own.get("holdout_html", []),
        "own_html_holdout_r5": own.get("holdout_html_r5", []),
        "own_html_holdout_r6": own.get("holdout_html_r6", []),
    }
    held_out = {name for names in slices.values() for name in names}
    development = [name for name in own["captures"] if name not in held_out]
    report = {
        "aggregator_captures": score_set(shared_folder, list(shared_gold), shared_gold),
        "own_development": score_set(
            OWN_CAPTURES, [name for name in development if not _is_html(name)], own["captures"]
        ),
        "own_html_development": score_set(
            OWN_CAPTURES, [name for name in development if _is_html(name)], own["captures"]
        ),
    }
    for label, names in slices.items():
        held = score_set(OWN_CAPTURES, names, own["captures"])
        report[label] = held if args.show_holdout else _hide_misses(held)
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    (RESULTS / "ingest_captures.json").write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
