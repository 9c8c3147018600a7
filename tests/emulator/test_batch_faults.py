"""A whole `$batch` answered 424 (Graph's throttling page: when a request in a batch is throttled, "the
batch itself fails with a status code of 424"), as a FaultRule like the others."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from reconciler.emulator import Emulator, FaultRule
from tests.support.builders import TRUST
from tests.support.emulator import FABRIKAM, MTO, PARTNERS, graph

REQUESTS = [
    {
        "id": str(i),
        "method": "PATCH",
        "url": f"/policies/crossTenantAccessPolicy/partners/{tid}",
        "headers": {"Content-Type": "application/json"},
        "body": {"inboundTrust": TRUST},
    }
    for i, tid in enumerate((FABRIKAM, MTO), start=1)
]


@pytest.fixture
def demo() -> Iterator[Emulator]:
    with Emulator(seed="demo") as emu:
        yield emu


def _batch(http: httpx.Client) -> httpx.Response:
    return http.post("/v1.0/$batch", json={"requests": REQUESTS})


def _trust(emu: Emulator) -> list[Any]:
    return [(emu.get_partner(tid) or {}).get("inboundTrust") for tid in (FABRIKAM, MTO)]


def test_a_whole_batch_fault_answers_424_without_running_anything(demo: Emulator) -> None:
    before = _trust(demo)
    demo.add_fault(FaultRule(batch=True, status=424))
    with graph(demo) as http:
        response = _batch(http)
        assert response.status_code == 424
        assert response.headers["retry-after"] == "1"
        error = response.json()["error"]
        assert (error["code"], error["message"]) == (
            "FailedDependency",
            "The batch failed because a request in it was throttled.",
        )
        assert error["innerError"]["request-id"] == response.headers["request-id"]
        assert _trust(demo) == before
        assert [
            (e.method, e.path, e.status, e.in_batch) for e in demo.journal if e.path.startswith("/v1.0")
        ] == [("POST", "/v1.0/$batch", 424, False)]
        retried = _batch(http)  # one use: the retry goes through
        assert retried.status_code == 200
        assert sorted(r["status"] for r in retried.json()["responses"]) == [204, 204]
    assert _trust(demo) == [TRUST, TRUST]


def test_a_whole_batch_fault_never_matches_plain_requests_or_sub_requests(demo: Emulator) -> None:
    demo.add_fault(FaultRule(batch=True, status=424, times=2, retry_after=None))
    with graph(demo) as http:
        assert http.patch(f"{PARTNERS}/{FABRIKAM}", json={"inboundTrust": TRUST}).status_code == 204
        first, second, third = _batch(http), _batch(http), _batch(http)
    assert (first.status_code, second.status_code, third.status_code) == (424, 424, 200)
    assert "retry-after" not in first.headers
    assert [e.status for e in demo.journal if e.in_batch] == [204, 204]


def test_after_effect_runs_the_batch_and_answers_424_with_its_responses(demo: Emulator) -> None:
    demo.add_fault(FaultRule(batch=True, status=424, after_effect=True, retry_after=2))
    with graph(demo) as http:
        response = _batch(http)
    assert (response.status_code, response.headers["retry-after"]) == (424, "2")
    assert sorted((r["id"], r["status"]) for r in response.json()["responses"]) == [("1", 204), ("2", 204)]
    assert _trust(demo) == [TRUST, TRUST]
    outer = [e for e in demo.journal if e.path == "/v1.0/$batch"]
    assert [e.status for e in outer] == [424]


def test_method_and_path_filters_still_apply(demo: Emulator) -> None:
    demo.add_fault(FaultRule(batch=True, status=424, path_contains="/beta/"))
    with graph(demo) as http:
        assert _batch(http).status_code == 200
