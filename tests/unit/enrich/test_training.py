from __future__ import annotations

from pathlib import Path

from services.enrich.topics import LinearTopicModel
from services.enrich.training.train_topics import document_tokens, fit_topic_model, main, read_bbc
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


def test_read_bbc_splits_headline_and_body_and_falls_back_to_latin1(tmp_path: Path) -> None:
    articles = read_bbc(write_corpus(tmp_path))
    assert len(articles) == 7
    assert articles[0].title == "United win the derby" and articles[0].body.startswith("United won")
    assert articles[-1].body == "Tickets cost £5 at the gate."


def test_fit_topic_model_learns_the_labels(tmp_path: Path) -> None:
    articles = read_bbc(write_corpus(tmp_path))
    documents = [document_tokens(article.title, article.body) for article in articles]
    model = fit_topic_model(documents, [article.label for article in articles])
    probabilities = model.probabilities(document_tokens("Striker scores", "The striker scored a goal in the cup."))
    assert max(probabilities, key=lambda label: probabilities[label]) == "sport"


def test_main_writes_both_artifacts(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus")
    topics, background = tmp_path / "topics.npz", tmp_path / "background.npz"
    assert main(["--data", str(corpus), "--topics-out", str(topics), "--background-out", str(background)]) == 0
    assert set(LinearTopicModel.load(topics).classes) == {"sport", "business"}
    frequencies = BackgroundFrequencies.load(background)
    assert frequencies.documents == 7
    assert frequencies.idf("the") < frequencies.idf("never-seen-word")
