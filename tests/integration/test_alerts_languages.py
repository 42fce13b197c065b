"""A saved search percolates each article with its own language's analysis, as a search does."""

from __future__ import annotations

import pytest

from services.alerts.matching import parse_matches, percolate_body
from services.index.documents import to_document
from shared.search.alerts import AlertStore, SavedSearch
from tests.factories import linked

pytestmark = pytest.mark.integration


def test_a_saved_search_fires_on_an_inflected_word_of_a_french_article(store: AlertStore) -> None:
    store.ensure()
    store.add(SavedSearch(alert_id="hopital", name="hôpitaux publics", text="hôpital"))
    store.add(SavedSearch(alert_id="striking", name="strikes", text="strikes"))
    store.client.indices.refresh(index=store.alias)
    articles = [
        linked(
            "urgences-fr",
            title="Les urgences débordent",
            body="Les hôpitaux de la région ferment des lits faute d'infirmières.",
            language="fr",
        ),
        linked("dock-en", title="Dockers walk out", body="Dockworkers went on striking at dawn.", language="en"),
    ]
    documents = [to_document(article, article.article_id) for article in articles]
    matches, _ = parse_matches(store.client.search(index=store.alias, body=percolate_body(documents)))
    assert sorted((match.alert.alert_id, match.slot) for match in matches) == [("hopital", 0), ("striking", 1)]
