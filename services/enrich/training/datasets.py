"""The labelled text the topic model learns from, each dataset's labels mapped onto our top-level topics.

Sources (read from ``../shared/data`` at training time, never copied into the repository):

* BBC News 2004-05 (``bbc-news``): English articles, five classes.
* MasakhaNEWS (``topics-more/masakhanews-{eng,fra}-*``): BBC English and BBC Afrique
  French articles of the 2020s, six and five classes.
* SIB-200 (``topics-more/sib200-*``): Flores-200 sentences, 14 English topics, and 7
  topics in English, French and German (the same sentences translated).

Every file meant for evaluation (the MasakhaNEWS and SIB-200 ``dev`` files, and the
BBC corpus, which has no split of its own) is cut in two by a hash of each row's
identity: the ``untouched`` slice is only ever scored, never trained or tuned on;
the ``tune`` slice joins the training pool. SIB-200 rows are identified by their
Flores sentence id, shared by the 14- and 7-topic files and by the translations,
so a sentence held out in one file is held out in all of them (else its English
twin in a train file would leak it). MasakhaNEWS and BBC rows are identified by
their headline, so a story's other versions fall on the same side.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

# One row in this many (by hash) of each evaluation file is kept untouched.
UNTOUCHED_SHARE = 0.5
BBC_UNTOUCHED_SHARE = 0.2  # BBC is mostly training data; a fifth is enough to score it

BBC_LABELS = {
    "business": "business",
    "entertainment": "entertainment",
    "politics": "politics",
    "sport": "sport",
    "tech": "technology",
}
MASAKHANEWS_LABELS = {
    "business": "business",
    "entertainment": "entertainment",
    "health": "health",
    "politics": "politics",
    "sports": "sport",
    "technology": "technology",
}
# SIB-200's Flores sentences read like encyclopaedia and travel-guide prose. "geography"
# (rivers, mountains, climates of regions) and "nature" (animals, plants) both land in
# environment, IPTC's home for the natural world; "science" is half of science-and-technology.
SIB_LABELS = {
    "travel": "lifestyle",
    "politics": "politics",
    "science": "technology",
    "science/technology": "technology",
    "technology": "technology",
    "sports": "sport",
    "health": "health",
    "nature": "environment",
    "geography": "environment",
    "entertainment": "entertainment",
    "business": "business",
    "disasters": "disaster",
    "crime": "crime",
    "education": "education",
    "religion": "religion",
}


@dataclass(frozen=True)
class LabelledText:
    dataset: str  # e.g. "masakhanews-eng", "sib200-fra7"
    language: str  # ISO 639-1
    identity: str  # what the untouched split hashes
    label: str  # the dataset's own label
    topic: str  # our top-level topic key
    title: str
    body: str


def is_untouched(identity: str, share: float = UNTOUCHED_SHARE) -> bool:
    """Whether a row belongs to the evaluation slice: a stable hash, the same on every machine."""
    digest = hashlib.sha256(identity.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def _tsv_rows(path: Path) -> list[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)  # MasakhaNEWS bodies are whole articles in one quoted field
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def read_bbc(data_dir: Path) -> list[LabelledText]:
    """The corpus as listed in train.tsv: first line the headline, then the body."""
    texts = []
    lines = (data_dir / "train.tsv").read_text(encoding="utf-8").splitlines()[1:]
    for line in lines:
        _, label, relative_path = line.split("\t")
        raw = (data_dir / relative_path).read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:  # one file has a Latin-1 pound sign (SOURCE.md)
            text = raw.decode("latin-1")
        title, _, body = text.partition("\n")
        title = title.strip()
        texts.append(LabelledText("bbc", "en", title.lower(), label, BBC_LABELS[label], title, body.strip()))
    return texts


def read_masakhanews(path: Path, dataset: str, language: str) -> list[LabelledText]:
    return [
        LabelledText(
            dataset,
            language,
            row["headline"].strip().lower(),
            row["category"],
            MASAKHANEWS_LABELS[row["category"]],
            row["headline"].strip(),
            row["text"].strip(),
        )
        for row in _tsv_rows(path)
    ]


def read_sib(path: Path, dataset: str, language: str) -> list[LabelledText]:
    """Sentences without a headline: the body is the sentence."""
    return [
        LabelledText(
            dataset,
            language,
            f"flores-{row['index_id']}",
            row["category"],
            SIB_LABELS[row["category"]],
            "",
            row["text"],
        )
        for row in _tsv_rows(path)
    ]


@dataclass(frozen=True)
class EvaluationFile:
    """A file scored on its untouched slice; its other rows may be trained and tuned on."""

    rows: list[LabelledText]
    share: float = UNTOUCHED_SHARE

    def untouched(self) -> list[LabelledText]:
        return [row for row in self.rows if is_untouched(row.identity, self.share)]

    def tune(self) -> list[LabelledText]:
        return [row for row in self.rows if not is_untouched(row.identity, self.share)]


@dataclass(frozen=True)
class Corpus:
    training_only: list[LabelledText]  # train files: never scored
    evaluation: dict[str, EvaluationFile]  # dataset name -> file

    @property
    def untouched_identities(self) -> set[str]:
        return {row.identity for file in self.evaluation.values() for row in file.untouched()}

    def training_pool(self) -> list[LabelledText]:
        """Everything the model may learn from: train files and tune slices, minus any row held out anywhere."""
        held_out = self.untouched_identities
        rows = [*self.training_only, *(row for file in self.evaluation.values() for row in file.tune())]
        return [row for row in rows if row.identity not in held_out]


def load_corpus(data: Path = SHARED_DATA) -> Corpus:
    more = data / "topics-more"
    training_only = [
        *read_masakhanews(more / "masakhanews-eng-train50.tsv", "masakhanews-eng", "en"),
        *read_masakhanews(more / "masakhanews-fra-train50.tsv", "masakhanews-fra", "fr"),
        *read_sib(more / "sib200-eng14-train.tsv", "sib200-eng14", "en"),
        *_sib7(more, "train"),
    ]
    evaluation = {
        "bbc": EvaluationFile(read_bbc(data / "bbc-news"), BBC_UNTOUCHED_SHARE),
        "masakhanews-eng": EvaluationFile(read_masakhanews(more / "masakhanews-eng-dev.tsv", "masakhanews-eng", "en")),
        "masakhanews-fra": EvaluationFile(read_masakhanews(more / "masakhanews-fra-dev.tsv", "masakhanews-fra", "fr")),
        "sib200-eng14": EvaluationFile(read_sib(more / "sib200-eng14-dev.tsv", "sib200-eng14", "en")),
    }
    for language, rows in _sib7_by_language(more, "dev"):
        evaluation[f"sib200-{language}7"] = EvaluationFile(rows)
    return Corpus(training_only, evaluation)


_SIB7_FILES = {"en": "eng_Latn", "fr": "fra_Latn", "de": "deu_Latn"}


def _sib7_by_language(more: Path, split: str) -> Iterable[tuple[str, list[LabelledText]]]:
    for language, code in _SIB7_FILES.items():
        yield language, read_sib(more / f"sib200-{code}-{split}.tsv", f"sib200-{language}7", language)


def _sib7(more: Path, split: str) -> list[LabelledText]:
    return [row for _, rows in _sib7_by_language(more, split) for row in rows]
