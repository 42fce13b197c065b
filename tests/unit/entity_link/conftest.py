"""One linker for every entity_link test: loading the KB and the recogniser takes seconds."""

from __future__ import annotations

import pytest

from services.entity_link.app import EntityLinkWorker, create_worker
from services.entity_link.linker import Linker


@pytest.fixture(scope="session")
def worker() -> EntityLinkWorker:
    return create_worker()


@pytest.fixture(scope="session")
def linker(worker: EntityLinkWorker) -> Linker:
    return worker.linker
