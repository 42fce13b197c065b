"""The query commands of ``newsflow`` against the real OpenSearch, on the corpus of test_search.py."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app
from shared.search.client import async_client
from shared.settings import OpenSearchSettings
from tests.factories import handed_on, ids, index_worker
from tests.integration.search.test_queries import CORPUS

pytestmark = pytest.mark.integration


@pytest.fixture
async def cli_env(opensearch_settings: OpenSearchSettings, isolated: None) -> dict[str, str]:
    async with index_worker(opensearch_settings) as worker:
        assert handed_on(await worker.process_batch(CORPUS)) == ids(CORPUS)
    client = async_client(opensearch_settings)
    await client.indices.refresh(index=opensearch_settings.alias)
    await client.close()
    # COLUMNS: a wide console, so that rich wraps no line the tests look for.
    return {
        "NEWSFLOW_OPENSEARCH_URL": opensearch_settings.url,
        "NEWSFLOW_OPENSEARCH_ALIAS": opensearch_settings.alias,
        "COLUMNS": "300",
    }


def newsflow(env: dict[str, str], *arguments: str) -> str:
    result = CliRunner().invoke(app, list(arguments), env=env)
    assert result.exit_code == 0, result.output
    return result.stdout


async def test_search_more_on_and_more_in_print_counts(cli_env: dict[str, str]) -> None:
    assert "4 articles in 2 stories on @portcalder" in newsflow(cli_env, "search", "--more-on", "@portcalder")
    output = newsflow(cli_env, "search", "--more-in", "science")
    assert "2 articles in 1 story on science" in output
    assert "Landing legs of the Tessera rover hold in drop test" in output
    assert "2 articles in this story" in output


async def test_search_json_has_hits_facets_and_names(cli_env: dict[str, str]) -> None:
    result = json.loads(newsflow(cli_env, "search", "accelerator", "--json"))
    assert {hit["_id"] for hit in result["hits"]} == {"acme-export", "acme-model"}
    assert result["entity_names"]["Q9000010"] == "Acme Chips"


async def test_story_related_and_trending(cli_env: dict[str, str]) -> None:
    story = newsflow(cli_env, "story", "harbour-roundup")
    assert story.index("Port Calder dockworkers strike") < story.index("(original)") < story.index("Strike halts")
    related = json.loads(newsflow(cli_env, "related", "harbour-digest", "--json"))
    assert related[0]["_id"] == "shipping-rates"
    trending = json.loads(
        newsflow(
            cli_env,
            "trending",
            "--as-of",
            "2026-11-24T12:00:00",
            "--window",
            "3d",
            "--baseline",
            "60d",
            "--min-articles",
            "2",
            "--json",
        )
    )
    assert {term["label"] for term in trending["entities"]} == {"Acme Chips", "Tessera rover"}


async def test_an_unknown_article_exits_with_a_message(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["story", "nothing-here"], env=cli_env)
    assert result.exit_code == 1
    assert "no article 'nothing-here'" in result.output


async def test_reindex_moves_the_alias(cli_env: dict[str, str]) -> None:
    output = newsflow(cli_env, "reindex")
    alias = cli_env["NEWSFLOW_OPENSEARCH_ALIAS"]
    assert f"{alias}-v1 -> {alias}-v2, {len(CORPUS)} documents" in output
    assert "4 articles in 4 stories" in newsflow(cli_env, "search", "--more-on", "Q9000010")
