"""Planning $batch requests: at most 20, dependency groups serial and alone (Graph's dependsOn limitation)."""

from __future__ import annotations

import pytest

from reconciler.core.errors import XtapError
from reconciler.core.state import Request
from reconciler.shell.graph.batch import plan_batches, wire_batch


def r(i: str, *deps: str) -> Request:
    return Request(i, "PATCH", f"/x/{i}", {"a": 1}, depends_on=deps)


def ids(batches: list) -> list[tuple[bool, list[str]]]:  # type: ignore[type-arg]
    return [(b.serial, [x.id for x in b.requests]) for b in batches]


def test_independent_requests_are_packed_20_per_batch_in_order() -> None:
    batches = plan_batches([r(str(i)) for i in range(41)])
    assert [(s, len(x)) for s, x in ids(batches)] == [(False, 20), (False, 20), (False, 1)]
    assert ids(batches)[1][1][0] == "20"


def test_a_dependency_group_is_its_own_serial_batch_in_dependency_order() -> None:
    batches = plan_batches([r("a"), r("p", "s"), r("b"), r("s"), r("c", "p")])
    assert ids(batches) == [(True, ["s", "p", "c"]), (False, ["a", "b"])]
    wire = wire_batch(batches[0].requests, serial=True)["requests"]
    assert [(w["id"], w.get("dependsOn")) for w in wire] == [("s", None), ("p", ["s"]), ("c", ["p"])]


def test_a_dependency_outside_the_set_is_ignored() -> None:
    assert ids(plan_batches([r("a", "gone")])) == [(False, ["a"])]


def test_duplicate_ids_cycles_and_oversized_groups_are_refused() -> None:
    with pytest.raises(XtapError, match=r"^two requests share the id 'a'$"):
        plan_batches([r("a"), r("a")])
    with pytest.raises(XtapError, match=r"^requests a, b depend on each other in a cycle$"):
        plan_batches([r("a", "b"), r("b", "a")])
    chain = [r("0")] + [r(str(i), str(i - 1)) for i in range(1, 21)]
    with pytest.raises(XtapError, match=r"^21 requests depend on each other; a \$batch holds at most 20$"):
        plan_batches(chain)
