"""No password reaches a log line or a dead letter.

The NATS and OpenSearch passwords are ``SecretStr`` (shared/settings.py). These
tests give a service real passwords, drive it through the paths that log
(settings, an OpenSearch that is down, retries, a dead letter, NATS refusing a
login) and search every line written for the secrets.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from faststream.nats import NatsBroker, TestNatsBroker
from nats.aio.msg import Msg
from pydantic import SecretStr, ValidationError

from services.enrich.app import create_app as enrich_app
from services.enrich.settings import EnrichSettings
from services.index.app import create_worker as index_worker
from services.index.settings import IndexSettings
from shared.localhost import free_port
from shared.logging import configure_logging, get_logger
from shared.messages import ArticleLinked, DeadLettered, Source
from shared.stage.runtime import StageRuntime
from shared.topology import Topology
from tests.chaos.faults import NatsServer
from tests.support import running, started

NATS_PASSWORD = f"nats-secret-{uuid.uuid4().hex}"
OPENSEARCH_PASSWORD = f"opensearch-secret-{uuid.uuid4().hex}"
SECRETS = (NATS_PASSWORD, OPENSEARCH_PASSWORD)


@pytest.fixture
def logs(capsys: pytest.CaptureFixture[str]) -> pytest.CaptureFixture[str]:
    """Every log line, as the services write them (JSON on stderr), with nothing filtered out by level."""
    configure_logging("DEBUG", json=True)
    return capsys


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The passwords as an operator sets them: in the environment."""
    monkeypatch.setenv("NEWSFLOW_NATS_USER", "pipeline")
    monkeypatch.setenv("NEWSFLOW_NATS_PASSWORD", NATS_PASSWORD)
    monkeypatch.setenv("NEWSFLOW_OPENSEARCH_USERNAME", "admin")
    monkeypatch.setenv("NEWSFLOW_OPENSEARCH_PASSWORD", OPENSEARCH_PASSWORD)
    # Nothing listens here: every OpenSearch call fails and is logged.
    monkeypatch.setenv("NEWSFLOW_OPENSEARCH_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("NEWSFLOW_OPENSEARCH_REQUEST_TIMEOUT_S", "1")


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, "a password was written out"


def test_settings_logged_whole_or_as_a_dict_hide_the_passwords(
    secret_env: None, logs: pytest.CaptureFixture[str]
) -> None:
    settings = IndexSettings()
    assert settings.nats_password is not None and settings.nats_password.get_secret_value() == NATS_PASSWORD
    assert settings.opensearch.password is not None
    log = get_logger("newsflow.test")
    log.info("settings", settings=settings, as_dict=settings.model_dump(), as_json=settings.model_dump(mode="json"))
    with pytest.raises(ValidationError) as invalid:
        IndexSettings(batch_size=0)
    log.error("invalid_settings", error=str(invalid.value))
    written = logs.readouterr()
    assert "settings" in written.err
    assert_no_secret(written.err + written.out)


def _linked(number: int) -> Msg:
    article = ArticleLinked(article_id=f"secret-{number}", title="Title", body="Body.", source=Source(name="test"))
    topology = Topology("unit")
    return Msg(_client=None, subject=topology.inbox("index"), data=article.model_dump_json().encode())  # type: ignore[arg-type]


async def test_an_unreachable_opensearch_is_logged_without_its_password(
    secret_env: None, logs: pytest.CaptureFixture[str]
) -> None:
    settings = IndexSettings(namespace="unit")
    async with started("index", index_worker(settings), settings):
        pass
    written = logs.readouterr()
    assert "opensearch_unavailable" in written.err
    assert_no_secret(written.err + written.out)


class FailingOpenSearch:
    """Answers what the index needs to start, then fails every search and write with a 500,
    recording the credentials each request carried."""

    def __init__(self) -> None:
        self.authorizations: list[str] = []
        self.app = web.Application()
        self.app.router.add_route("*", "/{path:.*}", self.answer)

    async def answer(self, request: web.Request) -> web.Response:
        self.authorizations.append(request.headers.get("Authorization", ""))
        if request.path.startswith(("/_msearch", "/_bulk")):
            return web.json_response(
                {"error": {"type": "internal", "reason": "disk on fire"}, "status": 500}, status=500
            )
        if request.path.startswith("/_alias/"):
            return web.json_response({"unit-articles-v1": {"aliases": {"unit-articles": {}}}})
        return web.json_response({"acknowledged": True})


async def test_failing_opensearch_requests_are_retried_and_dead_lettered_without_the_password(
    secret_env: None, logs: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = FailingOpenSearch()
    runner = web.AppRunner(server.app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    monkeypatch.setenv("NEWSFLOW_OPENSEARCH_URL", f"http://127.0.0.1:{port}")
    topology = Topology("unit")
    settings = IndexSettings(namespace="unit", max_deliver=1)  # the first failure is also the last: a dead letter
    settings.opensearch.alias = "unit-articles"
    worker = index_worker(settings)
    broker = NatsBroker(apply_types=False)
    letters: list[DeadLettered] = []

    @broker.subscriber(topology.dead_letter_subject("index"), stream=topology.stream)
    async def dead(body: dict[str, Any]) -> None:
        letters.append(DeadLettered.model_validate(body))

    runtime = StageRuntime(
        settings=settings, spec=topology.stage("index"), worker=worker, broker=broker, topology=topology
    )
    try:
        async with TestNatsBroker(broker), started("index", worker, settings):
            await runtime.handle_batch([_linked(1), _linked(2)])
    finally:
        await runner.cleanup()
    written = logs.readouterr()
    assert server.authorizations and all(server.authorizations), "every request carried the credentials"
    assert [letter.kind for letter in letters] == ["exhausted", "exhausted"]
    assert "500" in letters[0].error and "dead_lettered" in written.err
    assert_no_secret(written.err + written.out)
    assert_no_secret("".join(letter.model_dump_json() for letter in letters))


@pytest.mark.integration  # starts a nats-server of its own (the venv's binary), no shared server
async def test_a_stage_logging_in_to_nats_never_logs_the_password(
    logs: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with NatsServer(tmp_path / "nats", users={"pipeline": NATS_PASSWORD}) as server:
        good = EnrichSettings(
            nats_url=server.url, nats_user="pipeline", nats_password=SecretStr(NATS_PASSWORD), namespace="secret"
        )
        async with running(enrich_app(good)):
            pass
        wrong = EnrichSettings(
            nats_url=server.url,
            nats_user="pipeline",
            nats_password=SecretStr(f"{NATS_PASSWORD}-wrong"),
            namespace="secret",
        )
        with pytest.raises(Exception, match="Authorization Violation") as refused:
            async with running(enrich_app(wrong)):
                pass
    written = logs.readouterr()
    assert "stage_started" in written.err
    assert_no_secret(written.err + written.out + repr(refused.value) + str(refused.value))
