from __future__ import annotations

from pathlib import Path

from services.enrich.text import Text
from services.enrich.topics import LinearTopicModel
from services.enrich.training.datasets import is_untouched, load_corpus, read_bbc
from services.enrich.training.train_topics import (
    calibrate_primary_threshold,
    calibrate_threshold,
    document_tokens,
    fit_topic_model,
    main,
)
from shared.background import BackgroundFrequencies

ARTICLES = {
    "sport": [
        ("United win the derby", "United won the derby 2-1 with a late goal from their striker."),
        ("Rovers hold leaders", "Rovers held the league leaders to a draw after the goalkeeper saved a penalty."),
        ("Late goal for City", "City scored a late goal to win the cup tie as fans cheered the striker."),
    ],
    "business": [
        ("Bank profits rise", "The bank reported higher quarterly profits as lending and fees grew."),
        ("Retailer warns on sales", "The retailer warned that sales and profits would fall as shoppers cut spending."),
        ("Shares slip on outlook", "Shares in the airline slipped after it cut its profit outlook for the year."),
    ],
}


def write_corpus(root: Path) -> Path:
    """A folder shaped like the bbc-news dataset, with articles written for this test."""
    lines = ["id\tcategory\tpath"]
    for label, articles in ARTICLES.items():
        (root / "train" / label).mkdir(parents=True)
        for number, (title, body) in enumerate(articles, start=1):
            relative = f"train/{label}/{number:03d}.txt"
            (root / relative).write_text(f"{title}\n\n{body}\n", encoding="utf-8")
            lines.append(f"{label}/{number:03d}\t{label}\t{relative}")
    (root / "train" / "sport" / "004.txt").write_bytes(
        "Fans pay \xa3\n\nTickets cost \xa35 at the gate.".encode("latin-1")
    )
    lines.append("sport/004\tsport\ttrain/sport/004.txt")
    (root / "train.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


SIB_SENTENCES = {
    "sports": (
        "The striker scored twice in the cup final.",
        "Le buteur a marqué deux fois en finale.",
        "Der Stürmer traf zweimal im Pokalfinale.",
    ),
    "health": (
        "Doctors said the vaccine protects patients.",
        "Les médecins disent que le vaccin protège.",
        "Ärzte sagen, der Impfstoff schützt Patienten.",
    ),
}
MASAKHANEWS = {
    "sports": ("Rovers sign a new goalkeeper", "The club signed a goalkeeper before the league match."),
    "health": ("Clinics expand vaccine drive", "Hospitals and clinics offered the vaccine to more patients."),
}


def write_topics_more(data: Path) -> None:
    """Every file ``load_corpus`` reads, in the datasets' own formats, with sentences written for this test."""
    more = data / "topics-more"
    more.mkdir(parents=True)
    for language in ("eng", "fra"):
        for split in ("dev", "train50"):
            lines = ["category\theadline\ttext"]
            for number in range(3):
                for label, (headline, text) in MASAKHANEWS.items():
                    lines.append(f'{label}\t{headline} {split} {number}\t"{text}\nIt ended well."')
            (more / f"masakhanews-{language}-{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for split, offset in (("train", 0), ("dev", 100)):
        for position, code in enumerate(("eng_Latn", "fra_Latn", "deu_Latn")):
            lines = ["index_id\tcategory\ttext"]
            for number in range(4):
                for row, (label, sentences) in enumerate(SIB_SENTENCES.items()):
                    lines.append(f"{offset + 10 * number + row}\t{label}\t{sentences[position]}")
            (more / f"sib200-{code}-{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        english = (more / f"sib200-eng_Latn-{split}.tsv").read_text(encoding="utf-8")
        (more / f"sib200-eng14-{split}.tsv").write_text(english, encoding="utf-8")


def test_read_bbc_splits_headline_and_body_and_falls_back_to_latin1(tmp_path: Path) -> None:
    articles = read_bbc(write_corpus(tmp_path))
    assert len(articles) == 7
    assert articles[0].title == "United win the derby" and articles[0].body.startswith("United won")
    assert articles[-1].body == "Tickets cost £5 at the gate."
    assert {article.topic for article in articles} == {"sport", "business"}


def test_untouched_rows_never_reach_the_training_pool(tmp_path: Path) -> None:
    write_corpus(tmp_path / "bbc-news")
    write_topics_more(tmp_path)
    corpus = load_corpus(tmp_path)
    pool = corpus.training_pool()
    held_out = corpus.untouched_identities
    assert held_out and not held_out & {row.identity for row in pool}
    # A Flores sentence held out in one file is held out in its translations and in the other label sets.
    sib_held_out = {identity for identity in held_out if identity.startswith("flores-")}
    assert not sib_held_out & {row.identity for row in pool if row.dataset.startswith("sib200")}
    assert is_untouched("same row") == is_untouched("same row")


def test_fit_topic_model_learns_the_labels(tmp_path: Path) -> None:
    articles = read_bbc(write_corpus(tmp_path))
    documents = [document_tokens(Text(article.title, article.body)) for article in articles]
    model = fit_topic_model(documents, [article.topic for article in articles])
    probabilities = model.probabilities(
        document_tokens(Text("Striker scores", "The striker scored a goal in the cup."))
    )
    assert max(probabilities, key=lambda label: probabilities[label]) == "sport"


def test_calibrated_threshold_trades_precision_for_recall() -> None:
    gold = ["sport", "business", "sport"]
    scores = [{"sport": 0.9, "business": 0.1}, {"sport": 0.45, "business": 0.55}, {"sport": 0.6, "business": 0.4}]
    threshold, f1 = calibrate_threshold(scores, gold)
    assert 0.45 < threshold <= 0.55  # keeps every right answer and drops every wrong one
    assert f1 == 1.0


def test_the_best_topic_is_listed_down_to_where_it_is_wrong_more_often_than_right() -> None:
    best = [("sport", 0.29), ("sport", 0.26), ("sport", 0.24), ("business", 0.21), ("business", 0.19), ("health", 0.16)]
    scores = [{topic: score, "other": score - 0.01} for topic, score in best]
    # Right down to 0.24, then wrong: the band [0.2, 0.25) is one right of two, [0.175, 0.225) none.
    assert calibrate_primary_threshold(scores, ["sport"] * 6, threshold=0.3) == 0.2
    assert calibrate_primary_threshold(scores, ["other"] * 6, threshold=0.3) == 0.3


def test_main_writes_both_artifacts(tmp_path: Path) -> None:
    write_corpus(tmp_path / "bbc-news")
    write_topics_more(tmp_path)
    topics, background = tmp_path / "topics.npz", tmp_path / "background.npz"
    assert main(["--data", str(tmp_path), "--topics-out", str(topics), "--background-out", str(background)]) == 0
    model = LinearTopicModel.load(topics)
    assert set(model.classes) == {"sport", "business", "health"}
    assert set(model.languages) == {"en", "fr", "de"}
    assert 0.0 < model.threshold < 1.0
    assert model.primary_threshold is not None and 0.0 < model.primary_threshold <= model.threshold
    frequencies = BackgroundFrequencies.load(background)
    assert frequencies.documents == 7
    assert frequencies.idf("the") < frequencies.idf("never-seen-word")
