"""Sentiment: how closely the stage's fast VADER scorer follows vaderSentiment itself, and at what cost.

Every prose sentence of the BBC development articles is scored by both
``services.enrich.sentiment.SentimentScorer`` and vaderSentiment's
``SentimentIntensityAnalyzer.polarity_scores`` (the reference). Reported:
Pearson correlation of the compounds, mean absolute difference, agreement
of the sentence labels (VADER's own +-0.05 thresholds), agreement of the
article labels (mean of sentence compounds), and the time per article of
each. The label distribution per BBC class shows what the article labels
look like on news.

    .venv/bin/python bench/enrich_sentiment.py [--data ../shared/data] [--articles 600]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np
from enrich_corpus import RESULTS, SHARED_DATA
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from services.enrich.sentiment import LABEL_THRESHOLD, SentimentScorer, load_vader_lexicon
from services.enrich.text import Text
from services.enrich.training.datasets import read_bbc


def label(score: float) -> str:
    if score >= LABEL_THRESHOLD:
        return "positive"
    return "negative" if score <= -LABEL_THRESHOLD else "neutral"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--articles", type=int, default=600, help="every third article up to this many")
    args = parser.parse_args()
    articles = read_bbc(args.data / "bbc-news")[::3][: args.articles]
    texts = [Text(article.title, article.body) for article in articles]
    for text in texts:
        _ = text.prose
    scorer = SentimentScorer(load_vader_lexicon())
    reference = SentimentIntensityAnalyzer()

    started = time.perf_counter()
    ours = [[scorer.sentence_compound(s.tokens, s.lower, s.text) for s in text.prose] for text in texts]
    ours_seconds = time.perf_counter() - started
    started = time.perf_counter()
    theirs = [[reference.polarity_scores(s.text)["compound"] for s in text.prose] for text in texts]
    theirs_seconds = time.perf_counter() - started

    flat_ours = np.array([value for article in ours for value in article])
    flat_theirs = np.array([value for article in theirs for value in article])
    article_ours = [label(float(np.mean(a))) if a else "neutral" for a in ours]
    article_theirs = [label(float(np.mean(a))) if a else "neutral" for a in theirs]
    per_class: dict[str, Counter[str]] = {}
    for article, verdict in zip(articles, article_ours, strict=True):
        per_class.setdefault(article.label, Counter())[verdict] += 1
    result = {
        "articles": len(articles),
        "sentences": len(flat_ours),
        "sentence_compound_pearson": round(float(np.corrcoef(flat_ours, flat_theirs)[0, 1]), 4),
        "sentence_compound_mean_abs_difference": round(float(np.mean(np.abs(flat_ours - flat_theirs))), 4),
        "sentence_label_agreement": round(
            float(np.mean([label(a) == label(b) for a, b in zip(flat_ours, flat_theirs, strict=True)])), 4
        ),
        "article_label_agreement": round(
            float(np.mean([a == b for a, b in zip(article_ours, article_theirs, strict=True)])), 4
        ),
        "ms_per_article": {
            "newsflow": round(ours_seconds / len(articles) * 1000, 3),
            "vaderSentiment": round(theirs_seconds / len(articles) * 1000, 3),
        },
        "article_labels_per_bbc_class": {name: dict(counts) for name, counts in sorted(per_class.items())},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "enrich_sentiment.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
