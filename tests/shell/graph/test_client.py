"""GraphClient against httpx.MockTransport: exact requests, retries, paging, $batch, errors."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.core.errors import XtapError
from reconciler.core.state import Request
from reconciler.shell.graph import GraphClient, GraphError, RetryPolicy

ROOT = "https://graph.test"
PARTNERS = "/v1.0/policies/crossTenantAccessPolicy/partners"
T1 = "11111111-1111-1111-1111-111111111111"
T2 = "22222222-2222-2222-2222-222222222222"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class FakeCredential:
    def __init__(self) -> None:
        self.generation = 1
        self.invalidations = 0

    def get_token(self) -> str:
        return f"token-{self.generation}"

    def invalidate(self) -> None:
        self.invalidations += 1
        self.generation += 1


class Recorder:
    """A MockTransport handler from a function, recording every request it sees."""

    def __init__(self, respond: Callable[[httpx.Request], httpx.Response]) -> None:
        self.respond = respond
        self.requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
        return self.respond(request)

    @property
    def lines(self) -> list[str]:
        return [f"{r.method} {r.url.raw_path.decode()}" for r in self.requests]


def make(
    respond: Callable[[httpx.Request], httpx.Response], **retry: Any
) -> tuple[GraphClient, Recorder, list[float]]:
    sleeps: list[float] = []
    recorder = Recorder(respond)
    policy = RetryPolicy(jitter=0, sleep=sleeps.append, **retry)
    client = GraphClient(ROOT, FakeCredential(), retry=policy, transport=httpx.MockTransport(recorder))
    return client, recorder, sleeps


def sequence(*responses: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    queue = list(responses)

    def respond(request: httpx.Request) -> httpx.Response:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return respond


def ok(body: Any = None, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers={"request-id": "rid-1", **headers})


def throttled(status: int = 429, retry_after: str | None = None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.Response(
        status, json={"error": {"code": "TooManyRequests", "message": "slow down"}}, headers=headers
    )


# -- reads --------------------------------------------------------------------------------------------


def test_read_live_state_follows_next_link_verbatim_and_reads_the_default() -> None:
    next_link = f"{ROOT}{PARTNERS}?$expand=identitySynchronization&$skiptoken=ab%2Fc"

    def respond(request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        if path == f"{PARTNERS}?$expand=identitySynchronization":
            item = {"tenantId": T1.upper(), "inboundTrust": None, "identitySynchronization": {"tenantId": T1}}
            item["identitySynchronization@odata.context"] = "ctx"
            return ok({"value": [item], "@odata.nextLink": next_link})
        if path == f"{PARTNERS}?$expand=identitySynchronization&$skiptoken=ab%2Fc":
            return ok({"value": [{"tenantId": T2, "identitySynchronization": None}]})
        if path == "/v1.0/policies/crossTenantAccessPolicy/default":
            return ok({"isServiceDefault": True})
        return httpx.Response(404)

    client, rec, sleeps = make(respond)
    state = client.read_live_state()
    # The default is read alongside the pages, which follow each other by their links.
    default = "GET /v1.0/policies/crossTenantAccessPolicy/default"
    assert [line for line in rec.lines if line != default] == [
        f"GET {PARTNERS}?$expand=identitySynchronization",
        f"GET {PARTNERS}?$expand=identitySynchronization&$skiptoken=ab%2Fc",
    ]
    assert rec.lines.count(default) == 1 and client.partner_pages == 2
    assert sorted(state.partners) == [T1, T2]
    assert state.partners[T1].raw == {"tenantId": T1.upper(), "inboundTrust": None}
    assert state.partners[T1].sync == {"tenantId": T1}
    assert state.partners[T2].sync is None
    assert state.default == {"isServiceDefault": True}
    assert sleeps == []
    assert client.request_count == 3


def _three_pages(
    fail_third: bool = False, hold_second: threading.Event | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    """Partner pages 0, 1, 2 (one partner each: T1, T2, T3) and the default; the second page's answer
    waits for `hold_second` when given."""
    first = f"{PARTNERS}?$expand=identitySynchronization"

    def respond(request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        if path == "/v1.0/policies/crossTenantAccessPolicy/default":
            return ok({"isServiceDefault": True})
        page = 0 if path == first else int(path.rsplit("=", 1)[1])
        if page == 1 and hold_second is not None:
            hold_second.wait(5)
            time.sleep(0.05)  # the handler raised; let read_live_state stop the reading
        if page == 2 and fail_third:
            return httpx.Response(
                403, json={"error": {"code": "Authorization_RequestDenied", "message": "no"}}
            )
        body: dict[str, Any] = {"value": [{"tenantId": (T1, T2, T3)[page]}]}
        if page < 2:
            body["@odata.nextLink"] = f"{ROOT}{first}&$skiptoken={page + 1}"
        return ok(body)

    return respond


T3 = "33333333-3333-3333-3333-333333333333"


def test_each_page_is_handed_over_with_the_default_as_it_comes() -> None:
    client, _, _ = make(_three_pages())
    heard: list[tuple[Any, list[str]]] = []
    handed: list[Any] = []

    def hear(default: Any, page: list[Any]) -> None:
        heard.append((default, [p.tenant_id for p in page]))
        handed.extend(page)

    state = client.read_live_state(on_page=hear)
    assert heard == [
        ({"isServiceDefault": True}, [T1]),
        ({"isServiceDefault": True}, [T2]),
        ({"isServiceDefault": True}, [T3]),
    ]
    assert list(state.partners) == [T1, T2, T3] and client.partner_pages == 3
    # the partners handed over are the state's own objects: what was planned from them is not planned again
    assert [state.partners[p.tenant_id] is p for p in handed] == [True, True, True]


def test_a_page_handler_that_fails_stops_the_reading() -> None:
    raised = threading.Event()
    client, rec, _ = make(_three_pages(hold_second=raised))
    earlier = tuple((f"t{n}",) for n in range(7))
    client.page_tenants = earlier  # from an earlier full read

    def refuse(default: Any, page: Any) -> None:
        raised.set()
        raise XtapError("the planner failed")

    with pytest.raises(XtapError, match="the planner failed"):
        client.read_live_state(on_page=refuse)
    pages = [line for line in rec.lines if "partners" in line]
    # the first page was handed over and the second was on its way: the third is never asked for
    assert pages == [
        f"GET {PARTNERS}?$expand=identitySynchronization",
        f"GET {PARTNERS}?$expand=identitySynchronization&$skiptoken=1",
    ]
    # not a full read: what a re-read costs, and where partners are, is still the last full one's
    assert client.page_tenants == earlier and client.partner_pages == 7


def test_a_page_that_fails_raises_after_the_pages_before_it_were_handed_over() -> None:
    client, _, _ = make(_three_pages(fail_third=True))
    heard: list[str] = []
    with pytest.raises(GraphError) as caught:
        client.read_live_state(on_page=lambda default, page: heard.extend(p.tenant_id for p in page))
    assert caught.value.status == 403 and heard == [T1, T2] and client.partner_pages is None


def test_every_request_carries_a_fresh_client_request_id_and_the_bearer_token() -> None:
    client, rec, _ = make(sequence(ok({"value": []})))
    client.list_partners()
    client.get_default()
    ids = [r.headers["client-request-id"] for r in rec.requests]
    assert all(GUID.match(i) for i in ids) and len(set(ids)) == 2
    assert [r.headers["authorization"] for r in rec.requests] == ["Bearer token-1"] * 2


def test_next_link_to_another_host_is_not_followed() -> None:
    client, rec, _ = make(sequence(ok({"value": [], "@odata.nextLink": "https://evil.test/v1.0/x"})))
    with pytest.raises(
        XtapError, match=r"^Graph sent a link to another host \(https://evil.test\); not following$"
    ):
        client.list_partners()
    assert len(rec.requests) == 1


def test_get_partner_404_is_none_and_a_bad_tenant_id_never_reaches_a_url() -> None:
    client, rec, _ = make(sequence(httpx.Response(404, json={"error": {"code": "Request_ResourceNotFound"}})))
    assert client.get_partner(T1.upper()) is None
    assert rec.lines == [f"GET {PARTNERS}/{T1}"]
    for bad in ("../../users", f"{T1}?x=1", "not-a-guid", f"{T1}/../x"):
        with pytest.raises(XtapError, match=r"is not a GUID$"):
            client.get_partner(bad)
    with pytest.raises(
        XtapError,
        match=r"^request url '/policies/crossTenantAccessPolicy/partners/\.\./\.\./users' must not contain '\.\.'$",
    ):
        client.execute([Request("a", "PATCH", "/policies/crossTenantAccessPolicy/partners/../../users", {})])
    assert len(rec.requests) == 1


def test_find_tenant_by_id_and_by_domain() -> None:
    client, rec, _ = make(sequence(ok({"tenantId": T1, "displayName": "Fabrikam"})))
    assert client.find_tenant(tenant_id=T1) == {"tenantId": T1, "displayName": "Fabrikam"}
    client.find_tenant(domain="fabrikam.com")
    assert [r.url.path for r in rec.requests] == [
        f"/v1.0/tenantRelationships/findTenantInformationByTenantId(tenantId='{T1}')",
        "/v1.0/tenantRelationships/findTenantInformationByDomainName(domainName='fabrikam.com')",
    ]
    with pytest.raises(XtapError, match=r"is not a domain name$"):
        client.find_tenant(domain="x') or (1 eq 1")


# -- retries ------------------------------------------------------------------------------------------


def test_429_with_retry_after_waits_exactly_that_long() -> None:
    client, _rec, sleeps = make(sequence(throttled(429, "7"), ok({"a": 1})))
    assert client.get_default() == {"a": 1}
    assert sleeps == [7.0]
    assert (client.request_count, client.retry_count) == (2, 1)


def test_429_with_an_http_date_retry_after() -> None:
    from reconciler.shell.graph.retry import http_date

    client, _, sleeps = make(sequence(throttled(429, http_date(time.time() + 30)), ok({})))
    client.get_default()
    assert len(sleeps) == 1 and 27 <= sleeps[0] <= 30


def test_429_without_retry_after_backs_off_exponentially() -> None:
    client, rec, sleeps = make(sequence(throttled(), throttled(), throttled(), ok({})), base_delay=0.5)
    client.get_default()
    assert sleeps == [0.5, 1.0, 2.0]
    assert len(rec.requests) == 4


def test_503_burst_then_success() -> None:
    client, _rec, sleeps = make(sequence(throttled(503), throttled(503), throttled(504), ok({})))
    client.get_default()
    assert sleeps == [1.0, 2.0, 4.0]
    assert (client.request_count, client.retry_count) == (4, 3)


def test_attempts_are_capped_and_the_last_error_is_raised() -> None:
    client, rec, sleeps = make(sequence(throttled(429, "1")), max_attempts=3)
    with pytest.raises(GraphError) as info:
        client.get_default()
    assert len(rec.requests) == 3 and sleeps == [1.0, 1.0]
    assert info.value.status == 429
    assert str(info.value) == (
        "Graph refused GET /policies/crossTenantAccessPolicy/default: 429 TooManyRequests: slow down "
        f"(client-request-id {rec.requests[-1].headers['client-request-id']})"
    )


def test_the_retry_budget_is_total_across_requests() -> None:
    client, rec, sleeps = make(
        sequence(throttled(429, "2"), ok({}), throttled(429, "2"), ok({})), budget_seconds=3
    )
    client.get_default()
    with pytest.raises(GraphError):
        client.get_default()  # the second 2 s wait would exceed the 3 s budget
    assert sleeps == [2.0]
    assert len(rec.requests) == 3


def test_a_backoff_has_jitter_within_bounds() -> None:
    policy = RetryPolicy(base_delay=2, jitter=0.25)
    assert policy.backoff(3, rng=lambda: 0.0) == 6.0
    assert policy.backoff(3, rng=lambda: 1.0) == 10.0
    assert RetryPolicy(base_delay=1, max_delay=60, jitter=0).backoff(10) == 60.0


def test_a_dropped_get_is_retried_but_gives_up_with_status_0() -> None:
    calls = iter([httpx.ReadTimeout("slow"), ok({"x": 1})])

    def respond(request: httpx.Request) -> httpx.Response:
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return item

    client, rec, sleeps = make(respond)
    assert client.get_default() == {"x": 1}
    assert sleeps == [1.0]

    def always_drop(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    client, rec, sleeps = make(always_drop, max_attempts=2)
    with pytest.raises(
        GraphError, match=r"^Graph did not answer GET /policies/crossTenantAccessPolicy/default: "
    ):
        client.get_default()
    assert len(rec.requests) == 2


def test_401_refreshes_the_token_once() -> None:
    unauthorized = httpx.Response(
        401, json={"error": {"code": "InvalidAuthenticationToken", "message": "expired"}}
    )
    client, rec, sleeps = make(sequence(unauthorized, ok({})))
    client.get_default()
    assert [r.headers["authorization"] for r in rec.requests] == ["Bearer token-1", "Bearer token-2"]
    assert sleeps == []

    client, rec, _ = make(sequence(unauthorized))
    with pytest.raises(GraphError) as info:
        client.get_default()
    assert info.value.status == 401 and len(rec.requests) == 2


# -- errors -------------------------------------------------------------------------------------------


def test_graph_error_carries_code_message_and_ids_and_a_403_names_the_permission() -> None:
    body = {
        "error": {
            "code": "Authorization_RequestDenied",
            "message": "Insufficient privileges to complete the operation.",
            "innerError": {
                "date": "2026-06-30T10:17:06",
                "request-id": "inner-rid",
                "client-request-id": "inner-c",
            },
        }
    }
    client, rec, _ = make(sequence(httpx.Response(403, json=body, headers={"request-id": "rid-9"})))
    with pytest.raises(GraphError) as info:
        client.get_default()
    err = info.value
    crid = rec.requests[0].headers["client-request-id"]
    assert (err.status, err.code, err.request_id, err.client_request_id) == (
        403,
        "Authorization_RequestDenied",
        "rid-9",
        "inner-c",
    )
    assert str(err) == (
        "Graph refused GET /policies/crossTenantAccessPolicy/default: 403 Authorization_RequestDenied: "
        "Insufficient privileges to complete the operation. This operation needs the application permission "
        "Policy.Read.All (request-id rid-9, client-request-id inner-c)"
    )
    assert crid != "inner-c"
    assert err.exit_code == 1


def test_graph_error_ids_fall_back_to_the_inner_error() -> None:
    err = GraphError.from_response(
        "PATCH",
        f"/policies/crossTenantAccessPolicy/partners/{T1}",
        403,
        {
            "error": {
                "code": "Authorization_RequestDenied",
                "message": "No.",
                "innererror": {"request-id": "r2"},
            }
        },
        {},
        "c2",
    )
    assert str(err) == (
        f"Graph refused PATCH /policies/crossTenantAccessPolicy/partners/{T1}: 403 Authorization_RequestDenied: "
        "No. This operation needs the application permission Policy.ReadWrite.CrossTenantAccess "
        "(request-id r2, client-request-id c2)"
    )


# -- $batch -------------------------------------------------------------------------------------------


def batch_responder(
    answer: Callable[[dict[str, Any], int], dict[str, Any]],
) -> tuple[Callable[[httpx.Request], httpx.Response], list[list[dict[str, Any]]]]:
    """A $batch endpoint: `answer(sub_request, round)` gives each sub-response."""
    seen: list[list[dict[str, Any]]] = []
    lock = threading.Lock()

    def respond(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1.0/$batch"
        subs = json.loads(request.content)["requests"]
        with lock:
            seen.append(subs)
            n = len(seen)
        return ok({"responses": [{"id": s["id"], **answer(s, n)} for s in reversed(subs)]})

    return respond, seen


def patch(i: int, tenant: str = T1) -> Request:
    return Request(
        f"r{i}", "PATCH", f"/policies/crossTenantAccessPolicy/partners/{tenant}", {"inboundTrust": None}
    )


def test_execute_packs_at_most_20_per_batch_and_matches_answers_by_id() -> None:
    respond, seen = batch_responder(lambda s, n: {"status": 204, "headers": {"request-id": f"x-{s['id']}"}})
    client, _rec, _ = make(respond)
    requests = [patch(i) for i in range(45)]
    results = client.execute(requests)
    assert sorted(len(b) for b in seen) == [5, 20, 20]
    assert list(results) == [f"r{i}" for i in range(45)]
    assert all(r.status == 204 and r.error is None and r.attempts == 1 for r in results.values())
    assert results["r7"].headers == {"request-id": "x-r7"}
    first = next(b for b in seen if b[0]["id"] == "r0")[0]
    assert first == {
        "id": "r0",
        "method": "PATCH",
        "url": f"/policies/crossTenantAccessPolicy/partners/{T1}",
        "body": {"inboundTrust": None},
        "headers": {"Content-Type": "application/json"},
    }


def test_only_the_throttled_sub_request_is_resent_after_its_retry_after() -> None:
    def answer(sub: dict[str, Any], n: int) -> dict[str, Any]:
        if sub["id"] == "r2" and n == 1:
            return {
                "status": 429,
                "headers": {"Retry-After": "3"},
                "body": {"error": {"code": "TooManyRequests"}},
            }
        return {"status": 204}

    respond, seen = batch_responder(answer)
    client, _rec, sleeps = make(respond)
    results = client.execute([patch(i) for i in range(5)])
    assert [[s["id"] for s in b] for b in seen] == [["r0", "r1", "r2", "r3", "r4"], ["r2"]]
    assert sleeps == [3.0]
    assert results["r2"].status == 204 and results["r2"].attempts == 2
    assert results["r0"].attempts == 1
    assert client.limiter.limit == 3  # halved to 2 by the throttle, then one more after the clean batch


def test_a_sub_request_failure_is_a_result_not_an_exception() -> None:
    def answer(sub: dict[str, Any], n: int) -> dict[str, Any]:
        if sub["id"] == "r1":
            return {
                "status": 400,
                "body": {"error": {"code": "Request_BadRequest", "message": "Invalid property"}},
            }
        return {"status": 204}

    respond, _ = batch_responder(answer)
    client, _, _ = make(respond)
    results = client.execute([patch(0), patch(1)])
    assert results["r0"].ok and not results["r1"].ok
    assert results["r1"].error is not None
    assert str(results["r1"].error) == (
        f"Graph refused PATCH /policies/crossTenantAccessPolicy/partners/{T1}: 400 Request_BadRequest: "
        "Invalid property"
    )


def test_dependent_requests_get_a_serial_batch_of_their_own() -> None:
    sync_delete = Request(
        "s", "DELETE", f"/policies/crossTenantAccessPolicy/partners/{T2}/identitySynchronization"
    )
    partner_delete = Request(
        "p", "DELETE", f"/policies/crossTenantAccessPolicy/partners/{T2}", depends_on=("s",)
    )
    respond, seen = batch_responder(lambda s, n: {"status": 204})
    client, _, _ = make(respond)
    client.max_in_flight = 1  # deterministic order of the batches
    client.execute([patch(0), partner_delete, sync_delete, patch(1)])
    assert sorted(seen, key=len) == [
        [
            {"id": "s", "method": "DELETE", "url": sync_delete.url},
            {"id": "p", "method": "DELETE", "url": partner_delete.url, "dependsOn": ["s"]},
        ],
        [
            patch(0).to_json() | {"headers": {"Content-Type": "application/json"}},
            patch(1).to_json() | {"headers": {"Content-Type": "application/json"}},
        ],
    ]


def test_a_failed_dependency_leaves_its_dependent_failed_424() -> None:
    def answer(sub: dict[str, Any], n: int) -> dict[str, Any]:
        if sub["id"] == "s":
            return {"status": 400, "body": {"error": {"code": "Request_BadRequest", "message": "no"}}}
        return {
            "status": 424,
            "body": {"error": {"code": "FailedDependency", "message": "dependency failed"}},
        }

    respond, seen = batch_responder(answer)
    client, _, _ = make(respond)
    results = client.execute(
        [
            Request(
                "s", "DELETE", f"/policies/crossTenantAccessPolicy/partners/{T2}/identitySynchronization"
            ),
            Request("p", "DELETE", f"/policies/crossTenantAccessPolicy/partners/{T2}", depends_on=("s",)),
        ]
    )
    assert (results["s"].status, results["p"].status) == (400, 424)
    assert len(seen) == 1


def test_a_dropped_batch_resends_the_patch_and_rereads_the_create() -> None:
    rounds: list[list[str]] = []

    def respond(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            assert request.url.path == f"{PARTNERS}/{T2}"
            return ok({"tenantId": T2, "inboundTrust": None})
        subs = json.loads(request.content)["requests"]
        rounds.append([s["id"] for s in subs])
        if len(rounds) == 1:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return ok({"responses": [{"id": s["id"], "status": 204} for s in subs]})

    client, rec, sleeps = make(respond)
    create = Request("c", "POST", "/policies/crossTenantAccessPolicy/partners", {"tenantId": T2})
    results = client.execute([patch(0), create])
    assert rounds == [["r0", "c"], ["r0"]]
    assert rec.lines == ["POST /v1.0/$batch", f"GET {PARTNERS}/{T2}", "POST /v1.0/$batch"]
    assert sleeps == [1.0]
    assert results["c"].status == 201 and results["c"].headers == {"x-xtap-recovered": "reread"}
    assert results["c"].body == {"tenantId": T2, "inboundTrust": None}
    assert results["r0"].status == 204 and results["r0"].attempts == 2


def test_whole_batch_429_is_retried_and_401_refreshes_once() -> None:
    unauthorized = httpx.Response(401, json={"error": {"code": "InvalidAuthenticationToken", "message": "x"}})
    answered = ok({"responses": [{"id": "r0", "status": 204}]})
    client, rec, sleeps = make(sequence(throttled(429, "5"), unauthorized, answered))
    results = client.execute([patch(0)])
    assert results["r0"].status == 204 and results["r0"].attempts == 2
    assert sleeps == [5.0]
    assert [r.headers["authorization"] for r in rec.requests] == ["Bearer token-1"] * 2 + ["Bearer token-2"]


def test_batches_in_flight_are_capped_and_halved_while_throttled() -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    def respond(request: httpx.Request) -> httpx.Response:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.05)  # long enough that all three workers overlap, even on a loaded machine
        with lock:
            active -= 1
        subs = json.loads(request.content)["requests"]
        return ok({"responses": [{"id": s["id"], "status": 204} for s in subs]})

    sleeps: list[float] = []
    client = GraphClient(
        ROOT,
        FakeCredential(),
        retry=RetryPolicy(jitter=0, sleep=sleeps.append),
        max_in_flight=3,
        transport=httpx.MockTransport(respond),
    )
    client.execute([patch(i) for i in range(200)])  # 10 batches
    assert client.request_count == 10
    assert peak == 3 and client.limiter.peak == 3

    limiter = client.limiter
    limiter.acquire()
    limiter.release(throttled=True)
    assert limiter.limit == 1
    limiter.acquire()
    limiter.release(throttled=False)
    assert limiter.limit == 2


def test_info_logging_is_one_line_per_call_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="reconciler")
    respond, _ = batch_responder(lambda s, n: {"status": 204, "headers": {"request-id": "sub-rid"}})
    client, _, _ = make(respond)
    client.execute([patch(0)])
    messages = [r.getMessage() for r in caplog.records]
    assert re.fullmatch(r"POST /v1\.0/\$batch 200 \d+ms request-id=rid-1", messages[0])
    assert (
        messages[1]
        == f"  $batch 1 r0: PATCH /policies/crossTenantAccessPolicy/partners/{T1} 204 request-id=sub-rid"
    )
    assert [r.levelname for r in caplog.records] == ["INFO", "DEBUG"]
    assert not any("token-1" in m for m in messages)


def test_a_batch_throttled_to_the_last_attempt_reports_the_429_per_request() -> None:
    client, rec, sleeps = make(sequence(throttled(429, "1")), max_attempts=2)
    results = client.execute([patch(0), patch(1)])
    assert len(rec.requests) == 2 and sleeps == [1.0]
    assert [(r.status, r.attempts) for r in results.values()] == [(429, 2), (429, 2)]
    error = results["r0"].error
    assert error is not None and error.code == "TooManyRequests"
    assert (
        str(error)
        == f"Graph refused PATCH /policies/crossTenantAccessPolicy/partners/{T1}: 429 TooManyRequests: slow down"
    )


def test_a_dropped_delete_answered_404_on_the_retry_counts_as_done() -> None:
    calls = 0

    def respond(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise httpx.ReadTimeout("timed out")
        return ok(
            {
                "responses": [
                    {"id": "d", "status": 404, "body": {"error": {"code": "Request_ResourceNotFound"}}}
                ]
            }
        )

    client, _rec, sleeps = make(respond)
    result = client.execute([Request("d", "DELETE", f"/policies/crossTenantAccessPolicy/partners/{T2}")])["d"]
    assert (result.status, result.error, result.attempts) == (204, None, 2)
    assert result.headers == {"x-xtap-recovered": "already-deleted"}
    assert sleeps == [1.0]


# -- one transport: what the loop does for every kind of exchange -------------------------------------


def test_a_whole_batch_answered_424_is_retried_like_a_throttled_batch() -> None:
    failed = httpx.Response(
        424,
        json={"error": {"code": "FailedDependency", "message": "throttled"}},
        headers={"Retry-After": "2"},
    )
    answered = ok({"responses": [{"id": "r0", "status": 204}, {"id": "r1", "status": 204}]})
    client, rec, sleeps = make(sequence(failed, answered))
    results = client.execute([patch(0), patch(1)])
    assert [(r.status, r.attempts) for r in results.values()] == [(204, 2), (204, 2)]
    assert sleeps == [2.0] and len(rec.requests) == 2
    assert client.limiter.limit == 3  # halved by the throttled batch, one back after the clean one


def test_a_whole_batch_424_is_bounded_by_the_same_budget() -> None:
    failed = httpx.Response(
        424,
        json={"error": {"code": "FailedDependency", "message": "throttled"}},
        headers={"Retry-After": "2"},
    )
    client, rec, sleeps = make(sequence(failed), budget_seconds=3)
    results = client.execute([patch(0)])
    assert sleeps == [2.0] and len(rec.requests) == 2  # the second 2 s wait would exceed the budget
    assert (results["r0"].status, results["r0"].attempts) == (424, 2)
    assert str(results["r0"].error) == (
        f"Graph refused PATCH /policies/crossTenantAccessPolicy/partners/{T1}: 424 FailedDependency: throttled"
    )


def test_the_partner_pages_and_the_default_are_read_side_by_side() -> None:
    """The first page is held until the default request has arrived: read one after the other, this
    would wait for a request that never comes."""
    default_seen = threading.Event()

    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/default"):
            default_seen.set()
            return ok({"isServiceDefault": True})
        assert default_seen.wait(timeout=10), "the default was not requested while the pages were read"
        return ok({"value": [{"tenantId": T1}]})

    client, rec, _ = make(respond)
    state = client.read_live_state()
    assert sorted(state.partners) == [T1] and state.default == {"isServiceDefault": True}
    assert len(rec.requests) == 2


def test_the_token_goes_only_over_https() -> None:
    with pytest.raises(
        XtapError, match=r"^the Graph root must be an https:// URL, got 'http://graph\.test'$"
    ):
        GraphClient("http://graph.test", FakeCredential())
    client, rec, _ = make(sequence(ok({"value": [], "@odata.nextLink": f"http://graph.test{PARTNERS}?p=2"})))
    with pytest.raises(XtapError, match=r"^Graph sent a link to another host \(http://graph\.test\)"):
        client.list_partners()
    assert len(rec.requests) == 1


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused") from ConnectionRefusedError(
        111, "Connection refused"
    )


def test_a_refused_connection_is_one_line_and_not_retried() -> None:
    from reconciler.shell.graph.errors import NetworkError

    client, rec, sleeps = make(refused)
    with pytest.raises(NetworkError) as info:
        client.get_default()
    assert str(info.value) == (
        "cannot reach Graph at graph.test: the connection was refused — check the host and port in XTAP_GRAPH_URL"
    )
    assert (len(rec.requests), sleeps) == (1, [])
    results = client.execute([patch(0)])
    assert (results["r0"].status, results["r0"].attempts, len(rec.requests), sleeps) == (0, 1, 2, [])
    assert str(results["r0"].error) == (
        f"Graph did not answer PATCH /policies/crossTenantAccessPolicy/partners/{T1}: cannot reach Graph at "
        "graph.test: the connection was refused — check the host and port in XTAP_GRAPH_URL"
    )


def test_a_connection_that_never_opened_is_retried_even_for_a_create() -> None:
    """A connect timeout sends nothing, so even a POST $batch with a create in it goes again as is."""
    calls = iter([httpx.ConnectTimeout("slow"), ok({"responses": [{"id": "c", "status": 201, "body": {}}]})])

    def respond(request: httpx.Request) -> httpx.Response:
        item = next(calls)
        if isinstance(item, Exception):
            raise item
        return item

    client, rec, sleeps = make(respond)
    create = Request("c", "POST", "/policies/crossTenantAccessPolicy/partners", {"tenantId": T2})
    results = client.execute([create])
    assert rec.lines == ["POST /v1.0/$batch", "POST /v1.0/$batch"]  # no look-up: it cannot have run
    assert sleeps == [1.0] and (results["c"].status, results["c"].attempts) == (201, 2)


# -- reads that build live partners --------------------------------------------------------------------


def test_read_partner_is_the_partner_with_its_sync_policy() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/identitySynchronization"):
            return ok({"tenantId": T1, "displayName": "Fabrikam"})
        return ok({"tenantId": T1.upper(), "inboundTrust": None})

    client, rec, _ = make(respond)
    found = client.read_partner(T1)
    assert found is not None
    assert (found.tenant_id, dict(found.raw), found.sync) == (
        T1,
        {"tenantId": T1.upper(), "inboundTrust": None},
        {"tenantId": T1, "displayName": "Fabrikam"},
    )
    assert rec.lines == [f"GET {PARTNERS}/{T1}", f"GET {PARTNERS}/{T1}/identitySynchronization"]
    client, rec, _ = make(sequence(httpx.Response(404, json={"error": {"code": "Request_ResourceNotFound"}})))
    assert client.read_partner(T2) is None and len(rec.requests) == 1


def test_refresh_reads_just_the_named_resources_in_one_batch() -> None:
    from reconciler.core.state import LivePartner, LiveState

    def answer(sub: dict[str, Any], n: int) -> dict[str, Any]:
        url = sub["url"]
        if url == f"/policies/crossTenantAccessPolicy/partners/{T1}":
            return {"status": 200, "body": {"tenantId": T1, "inboundTrust": {"isMfaAccepted": True}}}
        if url == f"/policies/crossTenantAccessPolicy/partners/{T2}/identitySynchronization":
            return {"status": 404, "body": {"error": {"code": "Request_ResourceNotFound"}}}
        return {"status": 200, "body": {"isServiceDefault": False}}

    respond, seen = batch_responder(answer)
    client, _, _ = make(respond)
    before = LiveState(
        {
            T1: LivePartner(T1, {"tenantId": T1}, {"tenantId": T1}),
            T2: LivePartner(T2, {"tenantId": T2}, {"tenantId": T2}),
        },
        {"isServiceDefault": True},
    )
    after = client.refresh(before, partners={T1}, syncs={T2}, default=True)
    assert [[(s["method"], s["url"]) for s in b] for b in seen] == [
        [
            ("GET", f"/policies/crossTenantAccessPolicy/partners/{T1}"),
            ("GET", f"/policies/crossTenantAccessPolicy/partners/{T2}/identitySynchronization"),
            ("GET", "/policies/crossTenantAccessPolicy/default"),
        ]
    ]
    assert after.partners[T1] == LivePartner(
        T1, {"tenantId": T1, "inboundTrust": {"isMfaAccepted": True}}, {"tenantId": T1}
    )
    assert after.partners[T2] == LivePartner(T2, {"tenantId": T2}, None)
    assert after.default == {"isServiceDefault": False}


def test_tenant_lookups_in_batch_degrade_without_the_permission() -> None:
    def answer(sub: dict[str, Any], n: int) -> dict[str, Any]:
        if T1 in sub["url"]:
            return {"status": 200, "body": {"tenantId": T1, "displayName": "Fabrikam"}}
        return {"status": 403, "body": {"error": {"code": "Authorization_RequestDenied", "message": "no"}}}

    respond, seen = batch_responder(answer)
    client, _, _ = make(respond)
    found = client.lookup_tenants([T1, T2])
    assert [s["url"] for s in seen[0]] == [
        f"/tenantRelationships/findTenantInformationByTenantId(tenantId='{T1}')",
        f"/tenantRelationships/findTenantInformationByTenantId(tenantId='{T2}')",
    ]
    assert dict(found.infos) == {T1: {"tenantId": T1, "displayName": "Fabrikam"}, T2: None}
    assert found.problem == "the app lacks CrossTenantInformation.ReadBasic.All"
    respond, _ = batch_responder(lambda s, n: {"status": 404})
    client, _, _ = make(respond)
    assert client.lookup_tenants([T2]).problem is None  # an unknown tenant is not a failed lookup


def test_the_root_policy_is_read_beside_the_pages_when_asked() -> None:
    def respond(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1.0/policies/crossTenantAccessPolicy":
            return ok({"allowedCloudEndpoints": ["microsoftonline.us"]})
        if path.endswith("/default"):
            return ok({"isServiceDefault": True})
        return ok({"value": []})

    client, rec, _ = make(respond)
    assert client.read_live_state().policy is None and len(rec.requests) == 2
    state = client.read_live_state(policy=True)
    assert state.policy == {"allowedCloudEndpoints": ["microsoftonline.us"]}
    assert sorted(rec.lines[2:]) == [
        "GET /v1.0/policies/crossTenantAccessPolicy",
        "GET /v1.0/policies/crossTenantAccessPolicy/default",
        f"GET {PARTNERS}?$expand=identitySynchronization",
    ]


def test_a_sign_in_failing_mid_batch_gives_its_slot_back() -> None:
    """A refused static token cannot be renewed: the batch fails with the sign-in error. Its slot in
    flight is given back, or the batches queued behind it (one in flight here) would wait forever."""
    from reconciler.shell.graph import AuthError
    from reconciler.shell.graph.auth import StaticTokenCredential

    unauthorized = httpx.Response(401, json={"error": {"code": "InvalidAuthenticationToken", "message": "x"}})
    client = GraphClient(
        ROOT,
        StaticTokenCredential("static"),
        retry=RetryPolicy(jitter=0, sleep=lambda s: None),
        max_in_flight=1,
        transport=httpx.MockTransport(lambda request: unauthorized),
    )
    client.limiter.limit = 1
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            client.execute([patch(i) for i in range(60)])
        except AuthError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "a batch waited for a slot that was never given back"
    assert len(outcome) == 1 and str(outcome[0]).startswith(
        "Graph refused the token in XTAP_ACCESS_TOKEN (401)"
    )
    assert client.limiter.active == 0
