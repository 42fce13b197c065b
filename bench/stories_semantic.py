"""Does a latent semantic space (LSA: TruncatedSVD over the stories' own tf-idf vectors) tell an
article's story from the other stories it meets better than the tf-idf cosine the story model uses?

The space is fitted on a background that ships nothing but numbers: the BBC training articles, the
sample corpus and the story sets' *train* parts (never the untouched ones). Pairs are the ones the
story model is fitted on (bench/stories_cluster.gold_pass: each article against the gold stories
retrieval finds, in date order, train parts only); a story's semantic vector is the sum of its
members'. Reported: ROC AUC of each cosine over all pairs and over the hard ones alone (a candidate
from the article's own ``related_group``: the same topic, another story or event).

    .venv/bin/python bench/stories_semantic.py [--dimensions 100]
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
from enrich_corpus import SAMPLE_CORPUS, SHARED_DATA, read_sample_corpus
from scipy.sparse import csr_matrix
from sklearn.decomposition import TruncatedSVD
from sklearn.metrics import roc_auc_score
from stories_cluster import WINDOW_DAYS, profiles
from stories_data import SETS, load

from corpus import read_bbc_files
from services.stories.features import ArticleProfile, StoryProfile, cosine, term_weights
from services.stories.grouping import DAY_S, StoryMemory
from shared.background import BackgroundFrequencies

RESULTS = Path(__file__).resolve().parent / "results" / "stories_semantic.json"


def background_texts(story_sets: Sequence[str]) -> Iterator[str]:
    for _, title, body in read_bbc_files(SHARED_DATA / "bbc-news" / "train"):
        yield f"{title}\n{body}"
    for article in read_sample_corpus(SAMPLE_CORPUS):
        yield f"{article.title}\n{article.body}"
    for name in story_sets:
        for row in load(name):
            if row.part == "train":
                yield f"{row.article.title}\n{row.article.body}"


def fit_space(
    background: BackgroundFrequencies, dimensions: int, story_sets: Sequence[str]
) -> tuple[dict[str, int], np.ndarray, dict[str, object]]:
    """Word -> row, and each word's coordinates in the fitted space (words seen in two documents or more)."""
    documents = [term_weights(text, background) for text in background_texts(story_sets)]
    seen: dict[str, int] = {}
    for document in documents:
        for word in document:
            seen[word] = seen.get(word, 0) + 1
    vocabulary = {word: row for row, word in enumerate(sorted(word for word, count in seen.items() if count >= 2))}
    rows, columns, values = [], [], []
    for row, document in enumerate(documents):
        for word, weight in document.items():
            if word in vocabulary:
                rows.append(row)
                columns.append(vocabulary[word])
                values.append(weight)
    matrix = csr_matrix((values, (rows, columns)), shape=(len(documents), len(vocabulary)))
    svd = TruncatedSVD(n_components=dimensions, random_state=14).fit(matrix)
    about = {
        "documents": len(documents),
        "vocabulary": len(vocabulary),
        "dimensions": dimensions,
        "story_sets_in_background": list(story_sets),
        "explained_variance": round(float(svd.explained_variance_ratio_.sum()), 3),
        "float16_bytes": len(vocabulary) * dimensions * 2,
    }
    return vocabulary, svd.components_.T.astype(np.float32), about


def project(terms: Mapping[str, float], vocabulary: Mapping[str, int], coordinates: np.ndarray) -> np.ndarray:
    known = [(vocabulary[word], weight) for word, weight in terms.items() if word in vocabulary]
    if not known:
        return np.zeros(coordinates.shape[1], dtype=np.float32)
    rows, weights = zip(*known, strict=True)
    vector = np.asarray(weights, dtype=np.float32) @ coordinates[list(rows)]
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def scored_pairs(
    articles: Sequence[ArticleProfile],
    gold: Mapping[str, str],
    related: Mapping[str, str],
    semantic: Mapping[str, np.ndarray],
) -> list[tuple[float, float, bool, bool]]:
    """(tf-idf cosine, semantic cosine, own story?, hard?) of every pair one gold pass meets."""
    memory = StoryMemory()
    sums: dict[str, np.ndarray] = {}
    pairs = []
    for article in articles:
        own = gold[article.article_id]
        for story in memory.candidates(article, WINDOW_DAYS * DAY_S):
            total = sums[story.story_id]
            norm = float(np.linalg.norm(total))
            pairs.append(
                (
                    cosine(article.terms, story.terms),
                    float(semantic[article.article_id] @ total) / norm if norm else 0.0,
                    story.story_id == own,
                    related[story.story_id] == related[own],
                )
            )
        story = memory.stories.get(own) or StoryProfile(own)
        story.add(article)
        memory.put(story)
        sums[own] = sums.get(own, 0) + semantic[article.article_id]
    return pairs


def separation(pairs: Sequence[tuple[float, float, bool, bool]]) -> dict[str, float]:
    labels = [own for _, _, own, _ in pairs]
    hard = [pair for pair in pairs if pair[3]]
    hard_labels = [own for _, _, own, _ in hard]
    return {
        "pairs": len(pairs),
        "hard_pairs": len(hard),
        "auc_tfidf": round(roc_auc_score(labels, [pair[0] for pair in pairs]), 3),
        "auc_semantic": round(roc_auc_score(labels, [pair[1] for pair in pairs]), 3),
        "hard_auc_tfidf": round(roc_auc_score(hard_labels, [pair[0] for pair in hard]), 3),
        "hard_auc_semantic": round(roc_auc_score(hard_labels, [pair[1] for pair in hard]), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dimensions", type=int, default=100)
    args = parser.parse_args()
    background = BackgroundFrequencies.load()
    results: dict[str, object] = {
        "command": f"python bench/stories_semantic.py --dimensions {args.dimensions}",
        "load_average": os.getloadavg(),
    }
    # A set's texts in the space's background flatter it (its stories' words are in the space), so each
    # set is also scored in a space fitted without it: that is what a story never seen before meets.
    for label, story_sets in (("with", SETS), *((f"without_{name}", [s for s in SETS if s != name]) for name in SETS)):
        results[f"space_{label}"] = score_space(background, args.dimensions, story_sets)
    print(json.dumps(results, indent=2))
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")


def score_space(background: BackgroundFrequencies, dimensions: int, story_sets: Sequence[str]) -> dict[str, object]:
    vocabulary, coordinates, about = fit_space(background, dimensions, story_sets)
    results: dict[str, object] = {"space": about}
    for name in SETS:
        rows = [row for row in load(name) if row.part == "train"]
        articles, gold, _ = profiles(rows, background)
        semantic = {article.article_id: project(article.terms, vocabulary, coordinates) for article in articles}
        related = {row.story: row.related_group for row in rows}
        results[f"{name}/train"] = separation(scored_pairs(articles, gold, related, semantic))
    return results


if __name__ == "__main__":
    main()
