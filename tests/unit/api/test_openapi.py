from services.api import openapi


def test_checked_in_openapi_document_matches_the_routes() -> None:
    """Fails when a route or a response model changes without `make contract` being run and committed."""
    assert openapi.DOCUMENT.read_text() == openapi.generated()


def test_every_route_is_documented_with_its_errors() -> None:
    paths = __import__("json").loads(openapi.generated())["paths"]
    assert set(paths) == {
        "/v1/articles",
        "/v1/articles/{article_id}",
        "/v1/stories/{story_id}",
        "/v1/entities/{subject}",
        "/v1/topics/{topic}",
        "/v1/related/{article_id}",
        "/v1/trending",
        "/v1/export",
        "/v1/alerts",
        "/v1/alerts/{alert_id}",
        "/v1/alerts/{alert_id}/test",
    }
    taking_parameters = [route["get"] for route in paths.values() if route.get("get", {}).get("parameters")]
    assert len(taking_parameters) == len(paths) - 1  # all but the list of alerts
    assert all("422" in route["responses"] for route in taking_parameters)
    assert "409" in paths["/v1/alerts"]["post"]["responses"]
    assert "404" in paths["/v1/alerts/{alert_id}"]["delete"]["responses"]
    assert "404" in paths["/v1/stories/{story_id}"]["get"]["responses"]
