"""The test tree mirrors src/reconciler (core, present, shell, cli, emulator); shared helpers live in
tests/support and are imported as `tests.support.*`."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from reconciler.core import impact, model


@pytest.fixture(autouse=True)
def _derive_again_under_mutation_testing() -> Iterator[None]:
    """Under mutation testing (mutmut sets MUTANT_UNDER_TEST), what the core derives once from the Graph
    metadata (`model.derived`: the managed catalog, members, leaf paths, the rules' slots; and the hot-path
    caches of `model.members` and `model.value_at`) is built again for each test, and the access impact of
    each channel change evaluated again (`impact.remembered`): mutmut forks each mutant's run from a
    process that has built it already, so a mutant of the code that builds it would otherwise never run
    (docs/testing.md)."""
    if "MUTANT_UNDER_TEST" in os.environ:
        model._DERIVED.clear()
        model._MEMBERS.clear()
        model._MEMBERS_OF[0] = None
        model._PARTS.clear()
        impact.remembered.cache_clear()
    yield
