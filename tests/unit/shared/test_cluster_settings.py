"""A cluster in the settings: several servers per URL setting, replica counts reaching the stream,
the key-value buckets and the index template."""

from __future__ import annotations

import pytest

from shared.nats import connect_options, pipeline_stream
from shared.search.client import _client_options
from shared.search.indices import index_template
from shared.settings import OpenSearchSettings, ServiceSettings


def test_a_comma_separated_nats_url_names_every_server_of_the_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_NATS_URL", "nats://n1:4222, nats://n2:4222,nats://n3:4222")
    settings = ServiceSettings()
    assert settings.nats_servers == ["nats://n1:4222", "nats://n2:4222", "nats://n3:4222"]
    assert connect_options(settings)["servers"] == settings.nats_servers


def test_an_empty_url_list_is_refused() -> None:
    with pytest.raises(ValueError, match="no URL"):
        ServiceSettings(nats_url=" , ").nats_servers  # noqa: B018 (the property raises)


def test_stream_replicas_reach_the_stream_and_default_to_one(monkeypatch: pytest.MonkeyPatch) -> None:
    assert pipeline_stream(ServiceSettings().topology).config.num_replicas == 1
    monkeypatch.setenv("NEWSFLOW_STREAM_REPLICAS", "3")
    topology = ServiceSettings().topology
    assert topology.replicas == 3
    assert pipeline_stream(topology).config.num_replicas == 3


def test_opensearch_hosts_are_every_node_of_the_url_setting() -> None:
    settings = OpenSearchSettings(url="https://os1:9200,https://os2:9200")
    assert _client_options(settings)["hosts"] == ["https://os1:9200", "https://os2:9200"]


def test_index_shards_and_replicas_override_the_template_only_when_set() -> None:
    from_file = index_template("articles")["template"]["settings"]
    assert (from_file["number_of_shards"], from_file["number_of_replicas"]) == (1, 0)
    clustered = index_template("articles", shards=3, replicas=1)["template"]["settings"]
    assert (clustered["number_of_shards"], clustered["number_of_replicas"]) == (3, 1)
    assert clustered["analysis"] == from_file["analysis"]
