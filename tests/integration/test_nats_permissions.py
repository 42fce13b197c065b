"""The generated NATS users (shared/nats_users.py) carry the whole pipeline and nothing more:
every stage runs as its own user against a nats-server of our own with that authorization block."""

from __future__ import annotations

from pathlib import Path

import nats
import pytest
from pydantic import SecretStr

from cli.publish import publish_submissions
from shared.nats_users import operator_permissions, stage_permissions, users_conf
from shared.search.client import async_client
from shared.settings import OpenSearchSettings
from shared.topology import SIDE_CONSUMERS, Topology
from tests.chaos.faults import NatsServer
from tests.support import STAGES_TO_INDEX, numbered_records, running, stage_app, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def secured_nats(tmp_path: Path, namespace: str, monkeypatch: pytest.MonkeyPatch) -> NatsServer:
    topology = Topology(namespace)
    for permissions in [stage_permissions(topology, stage) for stage in (*topology.stage_names, *SIDE_CONSUMERS)]:
        monkeypatch.setenv(permissions.password_variable, f"{permissions.user}-secret")
    monkeypatch.setenv(operator_permissions().password_variable, "operator-secret")
    server = NatsServer(tmp_path / "nats")
    server.config.write_text(server.config.read_text() + users_conf(topology))
    return server


def _login(stage: str) -> dict[str, object]:
    return {"nats_user": stage, "nats_password": SecretStr(f"{stage}-secret")}


async def test_each_stage_runs_as_its_least_privileged_user(
    secured_nats: NatsServer, namespace: str, opensearch_settings: OpenSearchSettings, isolated: None
) -> None:
    with secured_nats:
        common = {"nats_url": secured_nats.url, "namespace": namespace, "opensearch": opensearch_settings}
        apps = [stage_app(stage, **common, **_login(stage)) for stage in STAGES_TO_INDEX]
        async with running(*apps):
            operator = await nats.connect(secured_nats.url, user="operator", password="operator-secret")
            await publish_submissions(operator.jetstream(), Topology(namespace).entry_subject, numbered_records(5))
            await operator.close()
            search = async_client(opensearch_settings)

            async def all_indexed() -> bool:
                await search.indices.refresh(index=opensearch_settings.alias, ignore_unavailable=True)
                found = await search.count(index=opensearch_settings.alias, ignore_unavailable=True)
                return int(found.get("count", 0)) == 5

            try:
                await wait_until(all_indexed, 120, "5 articles indexed by the least-privileged stages")
            finally:
                await search.close()


async def test_a_stage_user_may_not_delete_the_stream_or_read_another_stages_consumer(
    secured_nats: NatsServer, namespace: str
) -> None:
    topology = Topology(namespace)
    with secured_nats:
        operator = await nats.connect(secured_nats.url, user="operator", password="operator-secret")
        await operator.jetstream().add_stream(name=topology.stream, subjects=topology.stream_subjects)
        enrich = await nats.connect(secured_nats.url, user="enrich", password="enrich-secret")
        js = enrich.jetstream(timeout=2)
        with pytest.raises(nats.errors.Error):
            await js.delete_stream(topology.stream)
        with pytest.raises(nats.errors.Error):
            await js.publish(topology.inbox("index"), b"{}")  # skipping entity_link
        assert (await operator.jetstream().stream_info(topology.stream)).config.name == topology.stream
        await enrich.close()
        await operator.close()
