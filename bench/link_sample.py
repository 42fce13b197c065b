"""Key entities of the sample corpus (``corpus/sample/expected.json``) that the entity_link stage finds.

Each article goes through ingest (which drops aggregator padding) and the
linker, in process. An expected entity counts as found when a linked mention
of the title or body reads exactly as the expected name (``expected.json``
spells every name as the text does); its type is compared too, with the
corpus's PERSON/WORK mapped to the stage's PER/MISC (a work may also be
linked as a PRODUCT).

    .venv/bin/python bench/link_sample.py [--corpus corpus/sample] [--show]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cli.files import read_path
from cli.inprocess import articles_of
from services.entity_link.linker import LinkedMention, Linker
from shared.messages import ArticleFields, DocumentSubmitted

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
# The corpus's entity types, as the stage's: a work (a film, a game) is a product or a MISC name.
_STAGE_TYPES = {
    "ORG": {"ORG"},
    "PERSON": {"PER"},
    "LOC": {"LOC"},
    "PRODUCT": {"PRODUCT", "MISC"},
    "EVENT": {"EVENT", "MISC"},
    "WORK": {"PRODUCT", "MISC"},
}


def sample_articles(corpus: Path) -> dict[tuple[str, int | None], ArticleFields]:
    """Every article of the corpus after ingest, by (file, 0-based line or None)."""
    articles: dict[tuple[str, int | None], ArticleFields] = {}
    for path in [*sorted(corpus.glob("*.txt")), corpus / "wire.jsonl"]:
        submissions = [item for item in read_path(path) if isinstance(item, DocumentSubmitted)]
        for line, submission in enumerate(submissions):
            for article in articles_of([submission], "ingest"):
                articles[(path.name, line if path.suffix == ".jsonl" else None)] = article
    return articles


def mention_types(linked: list[LinkedMention]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for item in linked:
        found.setdefault(item.mention.text, set()).add(item.type)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus" / "sample")
    parser.add_argument("--show", action="store_true", help="print every article's entities")
    args = parser.parse_args()
    expected = json.loads((args.corpus / "expected.json").read_text())["articles"]
    articles = sample_articles(args.corpus)
    linker = Linker.from_files()
    found = typed = 0
    missing: list[str] = []
    wrong_type: list[str] = []
    for record in expected:
        article = articles[(record["file"], record["line"])]
        linked = linker.link_mentions(article.title, article.body)
        by_text = mention_types(linked)
        for name in record["entities"]:
            if name not in by_text:
                missing.append(f"{record['file']}: {name}")
                continue
            found += 1
            if by_text[name] & _STAGE_TYPES[record["entity_types"][name]]:
                typed += 1
            else:
                wrong_type.append(f"{record['file']}: {name} {sorted(by_text[name])}")
        if args.show:
            print(f"== {record['file']} {record['line'] if record['line'] is not None else ''}")
            for entity in linker.entities(linked, len(article.body)):
                print(f"   {entity.type:7} {entity.id:32} {entity.name!r} x{entity.mentions} s={entity.salience}")
    total = sum(len(record["entities"]) for record in expected)
    result = {
        "data": "corpus/sample/expected.json (45 articles, key entities spelled as in the text)",
        "expected": total,
        "found": found,
        "found_with_expected_type": typed,
        "missing": missing,
        "wrong_type": wrong_type,
    }
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "link_sample.json").write_text(text + "\n")


if __name__ == "__main__":
    main()
