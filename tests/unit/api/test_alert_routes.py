"""/v1/alerts refuses what it cannot store before it reaches OpenSearch (the store here points nowhere)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.api.access import key_hash
from services.api.app import create_app
from services.api.settings import ApiSettings
from shared.search.alerts import AlertStore
from shared.search.client import sync_client
from shared.settings import OpenSearchSettings

KEY = "analyst-key"
# Port 9 (discard): nothing listens, so a request that reached the store would fail with a 503, not a 422.
NOWHERE = OpenSearchSettings(url="http://127.0.0.1:9", alias="nowhere")


@pytest.fixture
def api() -> Iterator[TestClient]:
    app = create_app(ApiSettings(opensearch=NOWHERE, key_hashes=[key_hash(KEY)]))
    client = sync_client(NOWHERE)
    app.state.alerts = AlertStore(client, NOWHERE.alias, NOWHERE.alerts_alias)
    yield TestClient(app, headers={"X-API-Key": KEY})
    client.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/v1/alerts"), ("get", "/v1/alerts"), ("get", "/v1/alerts/a"), ("delete", "/v1/alerts/a")],
)
def test_every_alert_route_wants_the_key(api: TestClient, method: str, path: str) -> None:
    answer = api.request(method, path, json={"name": "x"}, headers={"X-API-Key": "wrong"})
    assert answer.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x", "alert_id": "has space"}, "alert_id"),
        ({"name": "x", "webhook_url": "ftp://files.example.test/"}, "webhook_url"),
        ({"name": "x", "filters": {"colour": ["red"]}}, "filters"),
        ({"name": "x", "min_story_size": 0}, "min_story_size"),
        ({"name": "x", "created_at": "2026-01-01T00:00:00Z"}, "created_at"),  # the service dates an alert
    ],
)
def test_a_bad_alert_is_a_422_naming_the_field(api: TestClient, body: dict[str, Any], field: str) -> None:
    answer = api.post("/v1/alerts", json=body)
    assert answer.status_code == 422
    assert any(field in error["loc"] for error in answer.json()["detail"])


def test_an_alert_id_longer_than_an_id_can_be_is_refused_in_the_path(api: TestClient) -> None:
    assert api.get("/v1/alerts/" + "x" * 65).status_code == 422
