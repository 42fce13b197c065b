import itertools

from shared import contract
from shared.topology import PIPELINE, StageSpec, Topology


def test_checked_in_contract_matches_the_models() -> None:
    """Fails when a message model changes without `make contract` being run and committed."""
    files = contract.generated()
    stale = [name for name, text in files.items() if (contract.CONTRACT_DIR / name).read_text() != text]
    assert stale == []


def test_every_stage_reads_what_the_previous_one_writes() -> None:
    for before, after in itertools.pairwise(PIPELINE):
        assert before.produces is not None and issubclass(before.produces, after.consumes)


def test_inserting_a_stage_is_one_line_of_topology() -> None:
    enrich, link = PIPELINE[1], PIPELINE[2]
    extra = StageSpec("readability", enrich.produces, enrich.produces)  # type: ignore[arg-type]
    topology = Topology("x", pipeline=(*PIPELINE[:2], extra, *PIPELINE[2:]))
    assert topology.outbox("enrich") == topology.inbox("readability")
    assert topology.outbox("readability") == topology.inbox(link.name)
    assert topology.outbox(PIPELINE[-1].name) is None
