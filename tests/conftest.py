"""The test tree mirrors src/reconciler (core, present, shell, cli, emulator); shared helpers live in
tests/support and are imported as `tests.support.*`."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import Phase, settings

from reconciler.core import access, impact, model

if "MUTANT_UNDER_TEST" in os.environ:
    # Under mutation testing a property test only has to fail: shrinking the failing example to its
    # simplest form (Hypothesis's last phase) can take minutes, and mutmut stops a mutant's run at the first
    # failing test anyway. Loaded here, before the test modules are imported, so every @given inherits it.
    settings.register_profile("mutation", phases=(Phase.explicit, Phase.reuse, Phase.generate))
    settings.load_profile("mutation")


@pytest.fixture(autouse=True)
def _derive_again_under_mutation_testing() -> Iterator[None]:
    """Under mutation testing (mutmut sets MUTANT_UNDER_TEST), what the core derives once from the Graph
    metadata (`model.derived`: the managed catalog, members, leaf paths, the rules' slots; and the hot-path
    caches of `model.members` and `model.value_at`) is built again for each test, and the access impact of
    each channel change evaluated again (`impact.remembered`), as are the principals the access evaluator
    has lowered (`access._LOWERED`): mutmut forks each mutant's run from a process that has built them
    already, so a mutant of the code that builds them would otherwise never run (docs/testing.md)."""
    if "MUTANT_UNDER_TEST" in os.environ:
        model._DERIVED.clear()
        model._MEMBERS.clear()
        model._MEMBERS_OF[0] = None
        model._PARTS.clear()
        impact.remembered.cache_clear()
        access._LOWERED.clear()
    yield
