"""The services' OpenSearch role reaches the alias and its versioned indices, and nothing else."""

from __future__ import annotations

from cli.setup import writer_role


def test_the_writer_role_is_limited_to_the_alias_and_its_versioned_indices() -> None:
    role = writer_role("articles", "stories")
    patterns = [grant["index_patterns"] for grant in role["index_permissions"]]
    assert patterns == [["articles", "articles-v*", "stories", "stories-v*"]]
    actions = {action for grant in role["index_permissions"] for action in grant["allowed_actions"]}
    assert "crud" in actions and "create_index" in actions
    assert not {"indices_all", "indices:admin/delete", "*"} & actions
    assert not {"cluster_all", "cluster:admin/*", "*"} & set(role["cluster_permissions"])
