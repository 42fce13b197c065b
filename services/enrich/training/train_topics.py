"""Build the topic model and the background word frequencies from the BBC News corpus.

    python -m services.enrich.training.train_topics [--data ../shared/data/bbc-news] [--out services/enrich/models]

Writes ``topics.npz`` (logistic regression over sublinear tf-idf unigrams of
the title and prose, the ``MAX_FEATURES`` words found in most documents) and
``background.npz`` (document frequencies of words in at least two articles).
Both are compressed numpy archives of plain arrays, loaded with numpy alone.
Training needs scikit-learn, a development dependency; the corpus is read
from disk and never copied into the repository.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression

from services.enrich.text import Text
from services.enrich.topics import DEFAULT_TOPIC_MODEL, LinearTopicModel, featurize
from shared.background import DEFAULT_BACKGROUND, BackgroundFrequencies

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "bbc-news"
MAX_FEATURES = 8000
MIN_DOCUMENTS = 2
REGULARISATION_C = 10.0


@dataclass(frozen=True)
class LabelledArticle:
    id: str
    label: str
    title: str
    body: str


def read_bbc(data_dir: Path) -> list[LabelledArticle]:
    """The corpus as listed in train.tsv: first line the headline, then the body."""
    articles = []
    lines = (data_dir / "train.tsv").read_text(encoding="utf-8").splitlines()[1:]
    for line in lines:
        article_id, label, relative_path = line.split("\t")
        raw = (data_dir / relative_path).read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:  # one file has a Latin-1 pound sign (SOURCE.md)
            text = raw.decode("latin-1")
        title, _, body = text.partition("\n")
        articles.append(LabelledArticle(article_id, label, title.strip(), body.strip()))
    return articles


def document_tokens(title: str, body: str) -> list[str]:
    """Exactly what the topic enricher feeds the model at run time."""
    text = Text(title, body)
    return [*text.title_tokens, *text.content_tokens]


def fit_topic_model(
    documents: Sequence[Sequence[str]],
    labels: Sequence[str],
    max_features: int = MAX_FEATURES,
    c: float = REGULARISATION_C,
) -> LinearTopicModel:
    frequencies = Counter(word for tokens in documents for word in set(tokens))
    vocabulary = [
        word
        for word, count in sorted(frequencies.items(), key=lambda item: (-item[1], item[0]))
        if count >= MIN_DOCUMENTS
    ][:max_features]
    index = {word: i for i, word in enumerate(vocabulary)}
    document_frequency = np.array([frequencies[word] for word in vocabulary], dtype=np.float64)
    idf = np.log((1 + len(documents)) / (1 + document_frequency)) + 1.0
    rows, columns, values = [], [], []
    for row, tokens in enumerate(documents):
        cols, vals = featurize(tokens, index, idf)
        rows.extend([row] * len(cols))
        columns.extend(cols.tolist())
        values.extend(vals.tolist())
    features = csr_matrix((values, (rows, columns)), shape=(len(documents), len(vocabulary)))
    classifier = LogisticRegression(C=c, max_iter=3000)
    classifier.fit(features, list(labels))
    coef, intercept = classifier.coef_, classifier.intercept_
    if len(classifier.classes_) == 2:
        # A binary model keeps one weight vector, for the second class; a softmax over
        # the logits (0, w.x + b) gives the same probabilities as its sigmoid.
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([[0.0], intercept])
    return LinearTopicModel(
        vocabulary=tuple(vocabulary),
        idf=idf,
        coef=coef.T.copy(),
        intercept=intercept.copy(),
        classes=tuple(str(label) for label in classifier.classes_),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the bbc-news dataset folder")
    parser.add_argument("--topics-out", type=Path, default=DEFAULT_TOPIC_MODEL)
    parser.add_argument("--background-out", type=Path, default=DEFAULT_BACKGROUND)
    args = parser.parse_args(argv)

    articles = read_bbc(args.data)
    documents = [document_tokens(article.title, article.body) for article in articles]
    model = fit_topic_model(documents, [article.label for article in articles])
    model.save(args.topics_out)
    background = BackgroundFrequencies.count(documents, min_documents=MIN_DOCUMENTS)
    background.save(args.background_out)
    report = {
        "articles": len(articles),
        "classes": list(model.classes),
        "features": len(model.vocabulary),
        "background_words": len(background.frequencies),
        "topics_bytes": args.topics_out.stat().st_size,
        "background_bytes": args.background_out.stat().st_size,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
