"""/v1/alerts over HTTP against the real OpenSearch, on the sample corpus: an alert saved through the
API is the search /v1/articles runs for the same filters, and the CLI's store sees what the API saved."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from services.api.access import key_hash
from services.api.settings import ApiSettings
from shared.search.alerts import AlertStore
from shared.search.client import sync_client
from shared.search.indices import template_name
from shared.settings import OpenSearchSettings
from tests.integration.api.conftest import SampleIndex, api_client

pytestmark = pytest.mark.integration
KEY = "analyst-key"


@pytest.fixture
def alerts_settings(sample_index: SampleIndex) -> Iterator[OpenSearchSettings]:
    """The sample articles, with an alerts alias of this test's own."""
    settings = sample_index.settings.model_copy(update={"alerts_alias": f"t{uuid.uuid4().hex[:10]}-alerts"})
    yield settings
    client = sync_client(settings)
    client.indices.delete(index=f"{settings.alerts_alias}-v*", ignore_unavailable=True)
    client.indices.delete_index_template(name=template_name(settings.alerts_alias), ignore=[404])
    client.close()


@pytest.fixture
def api(alerts_settings: OpenSearchSettings) -> Iterator[TestClient]:
    settings = ApiSettings(opensearch=alerts_settings, key_hashes=[key_hash(KEY)], rate_burst=10_000)
    with api_client(settings) as client:
        client.headers["X-API-Key"] = KEY
        yield client


def ids(page: dict) -> list[str]:
    return [article["id"] for article in page["articles"]]


def test_an_alert_matches_what_the_same_search_finds(api: TestClient) -> None:
    technology = {"name": "bad tech news", "filters": {"topic": ["technology"], "sentiment": ["negative"]}}
    text = {"name": "trillion", "text": "trillion parameters", "filters": {"language": ["en"]}}
    for alert, search in [
        (technology, {"topic": "technology", "sentiment": "negative"}),
        (text, {"q": "trillion parameters", "language": "en"}),
    ]:
        saved = api.post("/v1/alerts", json=alert)
        assert saved.status_code == 201, saved.text
        alert_id = saved.json()["alert_id"]
        tested = api.get(f"/v1/alerts/{alert_id}/test", params={"size": 50}).json()
        found = api.get("/v1/articles", params={**search, "sort": "date", "size": 50}).json()
        assert tested["total"] == found["total"] > 0
        assert set(ids(tested)) == set(ids(found))
        dates = [article["dated_at"] for article in tested["articles"]]
        assert dates == sorted(dates, reverse=True)


def test_create_list_show_delete(api: TestClient, alerts_settings: OpenSearchSettings) -> None:
    hooked = api.post(
        "/v1/alerts",
        json={
            "alert_id": "deepseek-hook",
            "name": "DeepSeek",
            "filters": {"entity": ["@deepseek"]},
            "webhook_url": "https://hooks.example.test/in",
        },
    ).json()
    secret = hooked["webhook_secret"]
    assert secret and len(secret) >= 32  # shown once, on creation
    plain = api.post("/v1/alerts", json={"name": "anything in science", "more_in": "science"}).json()

    listed = api.get("/v1/alerts").json()
    assert sorted(alert["alert_id"] for alert in listed) == sorted(["deepseek-hook", plain["alert_id"]])
    assert {alert["webhook_secret"] for alert in listed} == {"***", None}
    shown = api.get("/v1/alerts/deepseek-hook").json()
    assert shown["webhook_secret"] == "***"
    assert shown["filters"] == {"handle": ["deepseek"]}  # @ in an entity filter means a handle, as in search
    assert {"terms": {"entity_handles": ["deepseek"]}} in shown["query"]["bool"]["filter"]

    # The command line's store reads what the API wrote, secret included.
    client = sync_client(alerts_settings)
    store = AlertStore(client, alerts_settings.alias, alerts_settings.alerts_alias)
    assert store.get("deepseek-hook").webhook_secret == secret  # type: ignore[union-attr]
    client.close()

    again = api.post("/v1/alerts", json={"alert_id": "deepseek-hook", "name": "again"})
    assert again.status_code == 409
    assert api.get("/v1/alerts/deepseek-hook").json()["name"] == "DeepSeek"

    assert api.delete("/v1/alerts/deepseek-hook").status_code == 204
    assert api.get("/v1/alerts/deepseek-hook").status_code == 404
    assert api.delete("/v1/alerts/deepseek-hook").status_code == 404
    assert api.get("/v1/alerts/deepseek-hook/test").status_code == 404
    assert [alert["alert_id"] for alert in api.get("/v1/alerts").json()] == [plain["alert_id"]]


def test_no_alerts_yet_is_an_empty_list_and_a_404(api: TestClient) -> None:
    assert api.get("/v1/alerts").json() == []
    assert api.get("/v1/alerts/none").status_code == 404
    assert api.delete("/v1/alerts/none").status_code == 404


def test_the_alerts_want_the_key(api: TestClient) -> None:
    assert api.get("/v1/alerts", headers={"X-API-Key": "not-it"}).status_code == 401
    assert api.post("/v1/alerts", json={"name": "x"}, headers={"X-API-Key": "not-it"}).status_code == 401
