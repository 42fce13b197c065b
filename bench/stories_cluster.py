"""Same-story grouping on the story-clusters development sets: fits the pairwise story model on the
training parts and scores the single-pass grouping (B-cubed P/R/F1) on training and untouched parts.

Articles are what the pipeline gives (ingest, enrich and entity_link run in process, cached by
bench/stories_data.py). Each set is split by a hash of the story id (``stories_data.part_of``); the
model is fitted and its thresholds chosen on the ``train`` parts only, then ``untouched`` is scored
once. Each part is grouped on its own, in date order (see stories_data for the dates).

Training pairs come from the same single pass the service makes: articles in date order meet the
gold stories seen so far that candidate retrieval finds (``StoryMemory.candidates``); a pair is
positive when the story is the article's own. AllSides' ``related_group`` (many separate
"Coronavirus" stories) and ECB+'s two events of one kind per topic give the hard negatives. The
join model is fitted on the same pass, one row per article that has candidates: how clearly its best
candidate wins (``model.join_features``), positive when that candidate is its own story.

    .venv/bin/python bench/stories_cluster.py [--write-model]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from stories_data import SETS, Labelled, load

from services.index.clusters import best_match
from services.stories.features import ArticleProfile, StoryProfile, pair_features
from services.stories.grouping import DAY_S, StoryMemory, group, story_probability
from services.stories.model import MODEL, StoryModel, join_features
from shared.background import BackgroundFrequencies
from shared.signature import NEAR_DUPLICATE_JACCARD

RESULTS = Path(__file__).resolve().parent / "results" / "stories_cluster.json"
WINDOW_DAYS = 3.0
JOIN_GRID = [round(0.5 + 0.025 * step, 3) for step in range(19)]
MERGE_GRID = [0.75, 0.85, 0.95]
MIN_PRECISION = 0.95


def bcubed(predicted: Mapping[str, str], gold: Mapping[str, str]) -> dict[str, float]:
    by_predicted, by_gold = defaultdict(set), defaultdict(set)
    for item, label in predicted.items():
        by_predicted[label].add(item)
    for item, label in gold.items():
        by_gold[label].add(item)
    precision = recall = 0.0
    for item in gold:
        mine, true = by_predicted[predicted[item]], by_gold[gold[item]]
        overlap = len(mine & true)
        precision += overlap / len(mine)
        recall += overlap / len(true)
    p, r = precision / len(gold), recall / len(gold)
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4),
        "articles": len(gold),
        "predicted_stories": len(by_predicted),
        "gold_stories": len(by_gold),
    }


def profiles(
    rows: Sequence[Labelled], background: BackgroundFrequencies
) -> tuple[list[ArticleProfile], dict[str, str], float]:
    started = time.process_time()
    made = [ArticleProfile.of(row.article, background) for row in rows]
    cost_ms = (time.process_time() - started) * 1000 / max(1, len(rows))
    order = sorted(range(len(made)), key=lambda i: (made[i].at, made[i].article_id))
    return [made[i] for i in order], {row.article.article_id: row.story for row in rows}, cost_ms


@dataclass
class Met:
    """An article's candidates in the gold pass: each one's pair features and whether it is its own story."""

    features: list[list[float]]
    own: list[bool]


def gold_pass(articles: Sequence[ArticleProfile], gold: Mapping[str, str]) -> tuple[list[Met], float]:
    """What each article meets in one gold pass; also the share of articles whose own (earlier) story
    retrieval found."""
    memory = StoryMemory()
    met = []
    reachable = found = 0
    for article in articles:
        own = gold[article.article_id]
        candidates = memory.candidates(article, WINDOW_DAYS * DAY_S)
        if own in memory.stories:
            reachable += 1
            found += any(story.story_id == own for story in candidates)
        if candidates:
            met.append(
                Met(
                    [pair_features(article, story) for story in candidates],
                    [story.story_id == own for story in candidates],
                )
            )
        story = memory.stories.get(own) or StoryProfile(own)
        story.add(article)
        memory.put(story)
    return met, found / max(1, reachable)


def join_rows(met: Sequence[Met], pairwise: StoryModel) -> tuple[list[list[float]], list[int]]:
    """One row per article: how clearly its best candidate wins, and whether that one is its own story."""
    rows, labels = [], []
    for article in met:
        scored = sorted(
            (
                (story_probability(features, pairwise), own)
                for features, own in zip(article.features, article.own, strict=True)
            ),
            key=lambda pair: -pair[0],
        )
        rows.append(join_features(scored[0][0], scored[1][0] if len(scored) > 1 else None))
        labels.append(int(scored[0][1]))
    return rows, labels


def minhash_baseline(articles: Sequence[ArticleProfile]) -> dict[str, str]:
    """Today's index clusters: the most similar earlier article at estimated Jaccard >= 0.3."""
    from services.index.clusters import Member

    members: list[Member] = []
    placed: dict[str, str] = {}
    for article in articles:
        match = best_match(article.minhash, members, NEAR_DUPLICATE_JACCARD) if article.minhash else None
        placed[article.article_id] = match.cluster_id if match else article.article_id
        if article.minhash:
            members.append(Member.of(article.article_id, placed[article.article_id], article.minhash))
    return placed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-model", action="store_true", help=f"write the fitted model to {MODEL}")
    parser.add_argument(
        "--tuning-only", action="store_true", help="score the train parts only (the untouched ones are scored once)"
    )
    args = parser.parse_args()
    scored_parts = ("train",) if args.tuning_only else ("train", "untouched")
    background = BackgroundFrequencies.load()
    parts: dict[tuple[str, str], tuple[list[ArticleProfile], dict[str, str]]] = {}
    costs = {}
    for name in SETS:
        rows = load(name)
        for part in ("train", "untouched"):
            articles, gold, costs[f"{name}/{part}"] = profiles([row for row in rows if row.part == part], background)
            parts[name, part] = (articles, gold)

    met: list[Met] = []
    retrieval = {}
    for name in SETS:
        met_here, retrieval[name] = gold_pass(*parts[name, "train"])
        met += met_here
    features = [pair for article in met for pair in article.features]
    labels = [int(own) for article in met for own in article.own]
    fitted = LogisticRegression(C=1.0, max_iter=2000).fit(np.array(features), np.array(labels))
    weights, bias = tuple(float(w) for w in fitted.coef_[0]), float(fitted.intercept_[0])
    pairwise = StoryModel(weights, bias, (), 0.0, 0.0, 1.0, WINDOW_DAYS)
    join_x, join_y = join_rows(met, pairwise)
    fitted_join = LogisticRegression(C=1.0, max_iter=2000).fit(np.array(join_x), np.array(join_y))
    join_weights, join_bias = tuple(float(w) for w in fitted_join.coef_[0]), float(fitted_join.intercept_[0])

    # Thresholds: the best mean F1 over the training parts with precision >= MIN_PRECISION on each.
    sweep = []
    for join in JOIN_GRID:
        for merge in MERGE_GRID:
            model = StoryModel(weights, bias, join_weights, join_bias, join, merge, WINDOW_DAYS)
            scores = {name: bcubed(group(parts[name, "train"][0], model), parts[name, "train"][1]) for name in SETS}
            sweep.append((model, scores))
    admissible = [entry for entry in sweep if all(s["precision"] >= MIN_PRECISION for s in entry[1].values())] or sweep
    model, _ = max(admissible, key=lambda entry: sum(s["f1"] for s in entry[1].values()))

    results: dict[str, object] = {
        "command": "python bench/stories_cluster.py"
        + (" --write-model" if args.write_model else "")
        + (" --tuning-only" if args.tuning_only else ""),
        "load_average": os.getloadavg(),
        "window_days": WINDOW_DAYS,
        "training_pairs": len(labels),
        "positive_pairs": int(sum(labels)),
        "join_rows": len(join_y),
        "positive_join_rows": int(sum(join_y)),
        "retrieval_recall_train": retrieval,
        "model": json.loads(model.to_json()),
        "profile_cpu_ms_per_article": {key: round(value, 3) for key, value in costs.items()},
    }
    for name in SETS:
        for part in scored_parts:
            articles, gold = parts[name, part]
            started = time.process_time()
            predicted = group(articles, model)
            grouping_ms = (time.process_time() - started) * 1000 / len(articles)
            results[f"{name}/{part}"] = {
                "stories_model": bcubed(predicted, gold),
                "minhash_clusters_today": bcubed(minhash_baseline(articles), gold),
                "grouping_cpu_ms_per_article": round(grouping_ms, 3),
            }
    print(json.dumps(results, indent=2))
    (RESULTS.with_name("stories_cluster_tuning.json") if args.tuning_only else RESULTS).write_text(
        json.dumps(results, indent=2) + "\n"
    )
    if args.write_model:
        MODEL.write_text(model.to_json(fitted_by="bench/stories_cluster.py", training_pairs=len(labels)) + "\n")


if __name__ == "__main__":
    main()
