"""Does ingest keep wire copy whole? CoNLL-2003 stories through the ingest stage, scored on what survives.

Each document (split on ``-DOCSTART-``) becomes a plain-text submission, one
sentence per line with tokens joined by spaces (the first line, the headline,
is the title as in any ``.txt`` file), and all documents go through one ingest
worker in turn, as ``newsflow process`` would run a folder of files, so
de-duplication across stories is part of what is measured. Two figures:

* mention survival: the share of gold entity mentions (counted per
  occurrence) whose text is still in the article's title or body;
* cut documents: stories whose title + body keep less than 80% of their
  characters (a dropped story keeps none).

``eng.train`` is the tuning split, ``eng.testa`` the held-out one.

    .venv/bin/python bench/ingest_conll.py [--split eng.testa] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from cli.inprocess import articles_of
from shared.messages import DocumentSubmitted

RESULTS = Path(__file__).resolve().parent / "results"
GOAL_SURVIVAL = 0.99
CUT_BELOW = 0.8


@dataclass
class Story:
    sentences: list[list[str]]
    mentions: list[str]

    @property
    def text(self) -> str:
        return "\n".join(" ".join(tokens) for tokens in self.sentences)


def read_stories(path: Path) -> list[Story]:
    stories: list[Story] = []
    sentence: list[str] = []
    tags: list[str] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        parts = line.split()
        if parts and parts[0] == "-DOCSTART-":
            stories.append(Story([], []))
            continue
        if not parts:
            if sentence and stories:
                stories[-1].sentences.append(sentence)
                stories[-1].mentions.extend(_mentions(sentence, tags))
            sentence, tags = [], []
            continue
        sentence.append(parts[0])
        tags.append(parts[-1])
    return [story for story in stories if story.sentences]


def _mentions(tokens: list[str], tags: list[str]) -> list[str]:
    """Entity strings of one sentence from its IOB1 tags."""
    found: list[str] = []
    current: list[str] = []
    current_type = ""
    for token, tag in zip(tokens, tags, strict=True):
        kind = tag[2:] if tag != "O" else ""
        if kind and kind == current_type and not tag.startswith("B-"):
            current.append(token)
            continue
        if current:
            found.append(" ".join(current))
        current, current_type = ([token], kind) if kind else ([], "")
    if current:
        found.append(" ".join(current))
    return found


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def score_split(path: Path) -> dict[str, object]:
    stories = read_stories(path)
    kept_mentions = total_mentions = 0
    cut: list[dict[str, object]] = []
    for number, story in enumerate(stories):
        submission = DocumentSubmitted(submission_id=f"{path.name}-{number}", kind="text", content=story.text)
        # As `newsflow process` ingests it; a story ingest refuses or drops counts as wholly lost.
        articles = articles_of([submission], "ingest")
        problem = "" if articles else "refused_or_dropped"
        output = _norm(f"{articles[0].title}\n{articles[0].body}") if articles else ""
        present = Counter({mention: output.count(mention) for mention in set(story.mentions)})
        for mention, count in Counter(story.mentions).items():
            kept_mentions += min(count, present[mention])
            total_mentions += count
        share = min(1.0, len(output) / max(1, len(_norm(story.text))))
        if share < CUT_BELOW:
            lost = [mention for mention in story.mentions if present[mention] == 0]
            cut.append({"story": number, "kept_share": round(share, 3), "problem": problem, "lost": lost[:8]})
    return {
        "stories": len(stories),
        "mentions": total_mentions,
        "mention_survival": round(kept_mentions / max(1, total_mentions), 4),
        "goal_survival": GOAL_SURVIVAL,
        "stories_cut_below_80pct": len(cut),
        "cut": cut,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--split", default="eng.testa", choices=("eng.testa", "eng.train"))
    args = parser.parse_args()
    result = {"split": args.split, **score_split(args.data / "conll2003" / args.split)}
    text = json.dumps(result, indent=2, ensure_ascii=False)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"ingest_conll_{args.split.replace('.', '_')}.json").write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
