"""The applier, directly: what it sends, how it recovers when the tenant moved, and what it verifies.

Each test runs the real GraphClient over HTTPS against the emulator (msal signs in for real); the plan is
made from what the client read, as `xtap apply` does. Sleeps between verification rounds are recorded
(and used as the moment something changes in the tenant), never slept.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from reconciler.core.errors import RefusedError
from reconciler.core.plan import Change, Plan
from reconciler.core.planner import PartnerPlans, PlanOptions, make_plan
from reconciler.core.state import (
    DesiredDefault,
    DesiredPartner,
    DesiredPolicy,
    DesiredState,
    LiveState,
    Request,
    SourceRef,
)
from reconciler.emulator import Emulator, FaultRule
from reconciler.shell.applier import Applier, ApplyResult
from reconciler.shell.graph import GraphClient, RetryPolicy, connect
from tests.support.builders import CONSENT, TRUST, desired
from tests.support.e2e import writes

POLICY = "/policies/crossTenantAccessPolicy"
PARTNERS = f"{POLICY}/partners"
JOURNAL = f"/v1.0{PARTNERS}"  # how the emulator journals partner paths
IDS = [f"0000000{i}-0000-4000-8000-00000000000{i}" for i in range(1, 7)]
SYNC = {"displayName": "Fabrikam", "userSyncInbound": {"isSyncAllowed": True}}


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """Six partners, two to a page: a full read takes three page requests."""
    with Emulator(seed="empty", page_size=2) as emulator:
        for tid in IDS:
            emulator.put_partner({"tenantId": tid})
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> Iterator[GraphClient]:
    with connect(emu.env("writer"), retry=RetryPolicy(jitter=0, sleep=lambda s: None)) as c:
        yield c


def no_wait(seconds: float) -> None:
    """For an apply whose changes must show at the first read-back: waiting to read again is a failure
    (and ends the test at once, instead of after the verification's backoff)."""
    raise AssertionError(f"the applier waited {seconds}s to read again: a change it made did not show")


def state(**partners: Any) -> DesiredState:
    return DesiredState({tid: desired(tid, props) for tid, props in partners.items()})


def planned(client: GraphClient, want: DesiredState, options: PlanOptions) -> tuple[Plan, LiveState]:
    live = client.read_live_state()
    return make_plan(want, live, options), live


def graph_reads(emu: Emulator) -> list[str]:
    """GETs Graph received, outer ones as `GET path`, those inside a `$batch` as `$batch GET path`."""
    return [
        ("$batch " if e.in_batch else "") + f"GET {e.path}"
        for e in emu.journal
        if e.method == "GET" and e.path.startswith("/v1.0")
    ]


def refused(emu: Emulator, method: str, path: str, status: int, code: str | None = None) -> None:
    """Every `method` request whose path holds `path` is answered `status` (with Graph's error `code`),
    without being run; no Retry-After."""
    emu.add_fault(FaultRule(method, path, times=99, status=status, retry_after=None, code=code))


OLD_SYNC = {"displayName": "old", "userSyncInbound": {"isSyncAllowed": False}}


def sync_to_update(emu: Emulator, client: GraphClient, tid: str) -> tuple[DesiredState, Plan, LiveState]:
    """A partner whose live sync policy is not its file's: the plan is that policy's PATCH."""
    emu.set_sync(tid, OLD_SYNC)
    want = DesiredState({tid: desired(tid, {}, SYNC)})
    plan, live = planned(client, want, PlanOptions())
    return want, plan, live


def everyone(options: PlanOptions) -> tuple[DesiredState, PlanOptions]:
    return DesiredState({tid: desired(tid, {"inboundTrust": TRUST}) for tid in IDS}), options


# -- recovering when the tenant moved between plan and apply ------------------------------------------


def test_a_post_conflict_re_reads_that_partner_and_patches_it(emu: Emulator, client: GraphClient) -> None:
    new = "0000000a-0000-4000-8000-00000000000a"
    want = DesiredState({new: desired(new, {"inboundTrust": TRUST}, SYNC)})
    plan, live = planned(client, want, PlanOptions())
    assert [(r.method, r.url) for r in plan.requests] == [
        ("POST", PARTNERS),
        ("PUT", f"{PARTNERS}/{new}/identitySynchronization"),
    ]
    emu.put_partner({"tenantId": new, "automaticUserConsentSettings": CONSENT})  # created meanwhile
    emu.clear_journal()
    result = Applier(client, sleep=lambda s: None).apply(plan, want, PlanOptions(), live)
    assert result.ok and [o.status for o in result.outcomes] == ["applied", "applied"]
    assert [w[:2] for w in writes(emu)] == [
        ("POST", JOURNAL),
        ("PATCH", f"{JOURNAL}/{new}"),
        ("PUT", f"{JOURNAL}/{new}/identitySynchronization"),
    ]
    assert writes(emu)[1][2] == {"inboundTrust": TRUST, "automaticUserConsentSettings": None}
    # The re-plan read the one partner (and its sync policy), not the tenant.
    assert graph_reads(emu)[:2] == [
        f"GET /v1.0{PARTNERS}/{new}",
        f"GET /v1.0{PARTNERS}/{new}/identitySynchronization",
    ]


def test_a_sync_patch_answered_404_re_plans_it_as_a_put(emu: Emulator, client: GraphClient) -> None:
    tid = IDS[0]
    want, plan, live = sync_to_update(emu, client, tid)
    assert [(r.method, r.url) for r in plan.requests] == [
        ("PATCH", f"{PARTNERS}/{tid}/identitySynchronization")
    ]
    emu.set_sync(tid, None)  # removed in the portal meanwhile
    emu.clear_journal()
    result = Applier(client, sleep=lambda s: None).apply(plan, want, PlanOptions(), live)
    assert result.ok
    assert [(o.change.action, o.status) for o in result.outcomes] == [("create", "applied")]
    assert [w[:2] for w in writes(emu)] == [
        ("PATCH", f"{JOURNAL}/{tid}/identitySynchronization"),
        ("PUT", f"{JOURNAL}/{tid}/identitySynchronization"),
    ]
    assert emu.get_sync(tid) is not None and emu.get_sync(tid)["displayName"] == "Fabrikam"  # type: ignore[index]


# -- writing ------------------------------------------------------------------------------------------


def test_progress_is_reported_per_settled_batch_up_to_every_request(emu: Emulator) -> None:
    ids = [f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(1, 46)]
    for tid in ids:
        emu.put_partner({"tenantId": tid})
    want = DesiredState({tid: desired(tid, {"inboundTrust": TRUST}) for tid in ids})
    seen: list[tuple[int, int]] = []
    with connect(emu.env("writer"), max_in_flight=2) as client:
        plan, live = planned(client, want, PlanOptions(force=True))
        emu.clear_journal()
        result = Applier(client, progress=lambda done, total: seen.append((done, total))).apply(
            plan, want, PlanOptions(force=True), live
        )
    assert result.ok and len(result.applied) == 45
    assert [total for _, total in seen] == [45, 45, 45]  # one report per batch: 20 + 20 + 5
    assert sorted(done for done, _ in seen) == [done for done, _ in seen] and seen[-1] == (45, 45)
    done = [d for d, _ in seen]
    assert sorted(b - a for a, b in zip([0, *done[:-1]], done, strict=True)) == [5, 20, 20]


def test_every_write_goes_to_one_execute_so_no_batch_waits_for_a_step(
    emu: Emulator, client: GraphClient
) -> None:
    calls: list[int] = []
    original = client.execute

    def counting(requests: Any, progress: Any = None) -> Any:
        calls.append(len(requests))
        return original(requests, progress)

    client.execute = counting  # type: ignore[method-assign]
    ids = [f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(1, 451)]
    for tid in ids:
        emu.put_partner({"tenantId": tid})
    want = DesiredState({tid: desired(tid, {"inboundTrust": TRUST}) for tid in ids})
    plan, live = planned(client, want, PlanOptions(force=True))
    result = Applier(client, sleep=lambda s: None).apply(plan, want, PlanOptions(force=True), live)
    assert result.ok
    assert calls[0] == 450  # all of them, where 200-request steps made three calls with half-empty tails


# -- the allowlist ------------------------------------------------------------------------------------


def foreign(*requests: Request) -> Plan:
    change = Change("update", "partner", "x", IDS[0], None, (), requests)
    return Plan((change,), fingerprints=make_plan(DesiredState(), LiveState()).fingerprints)


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (Request("9", "DELETE", f"{POLICY}/default"), "DELETE is not a write xtap makes to this resource"),
        (
            Request("9", "POST", "/applications/abc/addPassword", {}),
            "not a cross-tenant access policy resource xtap manages",
        ),
        (
            Request("9", "PATCH", f"{PARTNERS}/not-a-guid", {}),
            "not a cross-tenant access policy resource xtap manages",
        ),
        (
            Request("9", "PATCH", f"{PARTNERS}/{IDS[0]}?$select=tenantId", {}),
            "not a cross-tenant access policy resource xtap manages",
        ),
        (Request("9", "PUT", f"{PARTNERS}/{IDS[0]}", {}), "PUT is not a write xtap makes to this resource"),
        (
            Request("9", "patch", f"{PARTNERS}/{IDS[0]}", {}),
            "patch is not a write xtap makes to this resource",
        ),
        (
            Request("9", "POST", PARTNERS, {"tenantId": "../x"}),
            "a partner is created only with a GUID tenantId in its body",
        ),
        (Request("9", "GET", f"{PARTNERS}/{IDS[0]}"), "GET is not a write xtap makes to this resource"),
    ],
    ids=[
        "delete-default",
        "foreign-url",
        "non-guid",
        "query",
        "put-partner",
        "lowercase",
        "post-bad-id",
        "get",
    ],
)
def test_a_request_no_planner_makes_refuses_the_whole_apply_before_any_write(
    request_: Request, reason: str, emu: Emulator, client: GraphClient
) -> None:
    fine = Request("1", "PATCH", f"{PARTNERS}/{IDS[1]}", {"inboundTrust": TRUST})
    emu.clear_journal()
    with pytest.raises(RefusedError) as info:
        Applier(client, sleep=no_wait).apply(foreign(fine, request_), DesiredState(), PlanOptions())
    assert str(info.value) == (
        f"the plan holds a request xtap never makes (9: {request_.method} {request_.url}): {reason}; "
        "nothing was changed"
    )
    assert info.value.exit_code == 3
    assert emu.journal == []


# -- verification -------------------------------------------------------------------------------------


def test_a_small_change_is_read_back_with_batch_gets_not_the_pages(
    emu: Emulator, client: GraphClient
) -> None:
    tid = IDS[2]
    want = DesiredState({tid: desired(tid, {"inboundTrust": TRUST}, SYNC)})
    plan, live = planned(client, want, PlanOptions())
    assert client.partner_pages == 3
    emu.clear_journal()
    result = Applier(client, sleep=no_wait).apply(plan, want, PlanOptions(), live)
    assert (result.ok, result.verify_reads) == (True, 1)
    assert graph_reads(emu) == [
        f"$batch GET /v1.0{PARTNERS}/{tid}",
        f"$batch GET /v1.0{PARTNERS}/{tid}/identitySynchronization",
    ]
    assert sum(1 for e in emu.journal if e.path == "/v1.0/$batch") == 2  # the writes, then the read-back


def test_a_sync_policy_change_alone_is_read_back_without_its_partner(
    emu: Emulator, client: GraphClient
) -> None:
    tid = IDS[2]
    want, plan, live = sync_to_update(emu, client, tid)
    emu.clear_journal()
    result = Applier(client, sleep=no_wait).apply(plan, want, PlanOptions(), live)
    assert (result.ok, result.verify_reads) == (True, 1)
    assert graph_reads(emu) == [f"$batch GET /v1.0{PARTNERS}/{tid}/identitySynchronization"]


@pytest.mark.parametrize(("changed", "full_read"), [(45, True), (40, False)])
def test_a_full_read_verifies_when_the_gets_would_not_take_fewer_requests_than_the_pages(
    changed: int, full_read: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """45 partners, 20 to a page: three pages. 45 GETs take three `$batch` requests too, so a full read,
    re-planned page by page as the pages come; 40 take two, so GETs."""
    pages: list[int] = []
    add = PartnerPlans.add

    def heard(plans: PartnerPlans, default: Any, partners: Any) -> None:
        pages.append(len(partners))
        add(plans, default, partners)

    ids = [f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(1, 46)]
    with Emulator(seed="empty", page_size=20) as emu:
        for tid in ids:
            emu.put_partner({"tenantId": tid})
        want = DesiredState(
            {t: desired(t, {"inboundTrust": TRUST if i < changed else None}) for i, t in enumerate(ids)}
        )
        options = PlanOptions(force=True)
        with connect(emu.env("writer")) as client:
            plan, live = planned(client, want, options)
            assert client.partner_pages == 3 and len(plan.requests) == changed
            emu.clear_journal()
            monkeypatch.setattr(PartnerPlans, "add", heard)
            result = Applier(client, sleep=no_wait).apply(plan, want, options, live)
        assert (result.ok, result.verify_reads) == (True, 1)
        reads = graph_reads(emu)
    assert pages == ([20, 20, 5] if full_read else [])
    if full_read:
        assert sorted(reads) == sorted(
            [f"GET {JOURNAL}"] * 3 + ["GET /v1.0/policies/crossTenantAccessPolicy/default"]
        )
    else:
        assert sorted(reads) == sorted(f"$batch GET {JOURNAL}/{t}" for t in ids[:changed])
        assert sum(1 for e in emu.journal if e.path == "/v1.0/$batch") == 2 + 2  # writes, then GETs


def _forty_five_partners(emu: Emulator, syncs: int) -> list[str]:
    ids = [f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(1, 46)]
    for i, tid in enumerate(ids):
        emu.put_partner({"tenantId": tid})
        if i < syncs:
            emu.set_sync(tid, OLD_SYNC)
    return ids


@pytest.mark.parametrize(
    ("partners", "syncs", "default", "policy", "full_read"),
    [
        (0, 41, False, False, True),
        (0, 40, False, False, False),
        (40, 0, True, False, True),
        (40, 0, False, True, True),
        (0, 0, True, False, False),
    ],
    ids=[
        "41-sync-policies",
        "40-sync-policies",
        "40-partners-and-the-default",
        "40-partners-and-the-root",
        "the-default-alone",
    ],
)
def test_sync_policies_the_default_and_the_root_count_in_the_choice_of_read_back(
    partners: int, syncs: int, default: bool, policy: bool, full_read: bool
) -> None:
    """Three pages of partners. A sync policy is one GET, the default and the root policy one more each:
    41 GETs take three `$batch` requests, so a full read; 40 take two; the default alone is one GET."""
    with Emulator(seed="empty", page_size=20) as emu:
        ids = _forty_five_partners(emu, syncs)
        clouds = DesiredPolicy(
            {"allowedCloudEndpoints": ["microsoftonline.us"]}, SourceRef("policies/policy.yaml")
        )
        want = DesiredState(
            {
                t: desired(t, {"inboundTrust": TRUST} if i < partners else {}, SYNC if i < syncs else None)
                for i, t in enumerate(ids)
            },
            DesiredDefault({"inboundTrust": TRUST}, SourceRef("policies/default.yaml")) if default else None,
            clouds if policy else None,
        )
        options = PlanOptions(force=True)
        with connect(emu.env("writer")) as client:
            live = client.read_live_state(policy=policy)
            plan = make_plan(want, live, options)
            assert client.partner_pages == 3 and len(plan.requests) == partners + syncs + default + policy
            emu.clear_journal()
            result = Applier(client, sleep=no_wait).apply(plan, want, options, live)
        assert (result.ok, result.verify_reads) == (True, 1)
        reads = graph_reads(emu)
    if full_read:
        root = [f"GET /v1.0{POLICY}"] if policy else []
        assert sorted(reads) == sorted([f"GET {JOURNAL}"] * 3 + [f"GET /v1.0{POLICY}/default", *root])
    else:
        expected = [f"$batch GET {JOURNAL}/{t}/identitySynchronization" for t in ids[:syncs]]
        assert sorted(reads) == sorted(expected + ([f"$batch GET /v1.0{POLICY}/default"] if default else []))


def test_an_update_that_does_not_show_is_read_again_and_reported(emu: Emulator, client: GraphClient) -> None:
    """Updates are verified like creates: here the write is undone (as if Graph had not applied it yet)
    until the second read; with too little time left it is reported as not converged."""
    a, b = IDS[0], IDS[1]
    want = state(**{a: {"inboundTrust": TRUST}, b: {"inboundTrust": TRUST}})
    plan, live = planned(client, want, PlanOptions())
    assert [c.action for c in plan.changes if c.requests] == ["update", "update"]
    sleeps: list[float] = []

    def later(seconds: float) -> None:  # between verification rounds: the write to `a` shows at last
        sleeps.append(seconds)
        emu.put_partner({"tenantId": a, "inboundTrust": TRUST})

    def undo_a(done: int, total: int) -> None:  # right after the writes: `a` reads as before
        emu.put_partner({"tenantId": a})
        emu.clear_journal()

    result = Applier(client, sleep=later, progress=undo_a).apply(plan, want, PlanOptions(), live)
    assert (result.ok, result.verify_reads, sleeps) == (True, 2, [0.5])
    assert graph_reads(emu) == [
        f"$batch GET /v1.0{PARTNERS}/{a}",
        f"$batch GET /v1.0{PARTNERS}/{b}",
        f"$batch GET /v1.0{PARTNERS}/{a}",  # the second round reads only what still differed
    ]
    plan, live = planned(client, state(**{a: {"inboundTrust": None}}), PlanOptions())
    stuck = Applier(  # a limit shorter than the first wait (0.5 s): one read, then reported, no waiting
        client,
        verify_timeout=0.2,
        sleep=no_wait,
        progress=lambda d, t: emu.put_partner({"tenantId": a, "inboundTrust": TRUST}),
    )
    result = stuck.apply(plan, state(**{a: {"inboundTrust": None}}), PlanOptions(), live)
    assert (result.ok, result.converged, result.unconverged) == (False, False, (f"update partner:{a}",))
    assert result.verify_reads == 1


@pytest.mark.parametrize("lagging", ["default", "policy"])
def test_a_default_or_root_policy_change_that_does_not_show_is_read_again(
    emu: Emulator, client: GraphClient, lagging: str
) -> None:
    """The default and the root policy are verified like partners: the one whose write reads as before
    is read again, alone, until it shows."""
    clouds = DesiredPolicy(
        {"allowedCloudEndpoints": ["microsoftonline.us"]}, SourceRef("policies/policy.yaml")
    )
    want = DesiredState(
        {}, DesiredDefault({"inboundTrust": TRUST}, SourceRef("policies/default.yaml")), clouds
    )
    live = client.read_live_state(policy=True)
    plan = make_plan(want, live, PlanOptions())
    assert [c.resource for c in plan.changes if c.requests] == ["policy", "default"]
    before = {
        "default": {"inboundTrust": live.default["inboundTrust"]},
        "policy": {"allowedCloudEndpoints": []},
    }  # type: ignore[index]
    after = {"default": {"inboundTrust": TRUST}, "policy": {"allowedCloudEndpoints": ["microsoftonline.us"]}}
    write = emu.patch_default if lagging == "default" else emu.patch_policy

    def undo(done: int, total: int) -> None:  # right after the writes: it reads as before
        if done == total:
            write(before[lagging])
            emu.clear_journal()

    result = Applier(client, sleep=lambda s: write(after[lagging]), progress=undo).apply(
        plan, want, PlanOptions(), live
    )
    assert (result.ok, result.verify_reads) == (True, 2)
    url = f"/v1.0{POLICY}/default" if lagging == "default" else f"/v1.0{POLICY}"
    assert graph_reads(emu)[-1:] == [f"$batch GET {url}"]
    assert sorted(graph_reads(emu)[:-1]) == [f"$batch GET /v1.0{POLICY}", f"$batch GET /v1.0{POLICY}/default"]


def test_a_created_partner_not_visible_yet_is_read_again(emu: Emulator, client: GraphClient) -> None:
    new = "0000000c-0000-4000-8000-00000000000c"
    want = DesiredState({new: desired(new, {"inboundTrust": TRUST})})
    plan, live = planned(client, want, PlanOptions())

    def hide(done: int, total: int) -> None:  # right after the POST: not visible yet
        if done == total:
            emu.delete_partner(new)

    def show(seconds: float) -> None:
        emu.put_partner({"tenantId": new, "inboundTrust": TRUST})

    result = Applier(client, sleep=show, progress=hide).apply(plan, want, PlanOptions(), live)
    assert [(o.change.action, o.status) for o in result.outcomes] == [("create", "applied")]
    assert (result.ok, result.verify_reads) == (True, 2)


def test_a_deletion_that_finds_the_partner_gone_counts_as_done(emu: Emulator, client: GraphClient) -> None:
    """Deleted in the portal between plan and apply: the DELETE answers 404, and the goal is reached."""
    tid = IDS[5]
    options = PlanOptions(prune=True, force=True)
    want = DesiredState({t: desired(t, {}) for t in IDS[:5]})
    plan, live = planned(client, want, options)
    emu.delete_partner(tid)
    result = Applier(client, sleep=lambda s: None).apply(plan, want, options, live)
    assert [(o.change.action, o.change.tenant_id, o.status) for o in result.outcomes] == [
        ("delete", tid, "applied")
    ]
    assert result.ok


def test_a_new_partner_whose_second_request_fails_is_reported_failed(
    emu: Emulator, client: GraphClient
) -> None:
    """The POST succeeds, the PATCH after it (what the Create page does not document) is refused: the
    partner's change failed, whatever its first request did."""
    new = "0000000d-0000-4000-8000-00000000000d"
    want = DesiredState(
        {
            new: desired(
                new,
                {
                    "inboundTrust": TRUST,
                    "tenantRestrictions": None,
                    "m365CollaborationInbound": {
                        "users": {
                            "accessType": "allowed",
                            "targets": [{"target": "AllUsers", "targetType": "user"}],
                        }
                    },
                },
            )
        }
    )
    plan, live = planned(client, want, PlanOptions())
    assert [r.method for r in plan.requests] == ["POST", "PATCH"]
    refused(emu, "PATCH", new, 403)
    result = Applier(client, sleep=lambda s: None).apply(plan, want, PlanOptions(), live)
    [outcome] = result.outcomes
    assert (outcome.change.action, outcome.status, outcome.retryable) == ("create", "failed", False)
    assert outcome.error is not None and outcome.error.startswith(f"Graph refused PATCH {PARTNERS}/{new}")


def test_verification_backs_off_doubling_up_to_eight_seconds_and_says_so(
    emu: Emulator, client: GraphClient, caplog: pytest.LogCaptureFixture
) -> None:
    a = IDS[0]
    want = state(**{a: {"inboundTrust": TRUST}})
    plan, live = planned(client, want, PlanOptions())
    sleeps: list[float] = []

    def later(seconds: float) -> None:  # the write shows after the sixth wait
        sleeps.append(seconds)
        if len(sleeps) == 6:
            emu.put_partner({"tenantId": a, "inboundTrust": TRUST})

    caplog.set_level("INFO", logger="reconciler.applier")
    undo = Applier(client, sleep=later, progress=lambda d, t: emu.put_partner({"tenantId": a}))
    result = undo.apply(plan, want, PlanOptions(), live)
    assert (result.ok, result.verify_reads, sleeps) == (True, 7, [0.5, 1.0, 2.0, 4.0, 8.0, 8.0])
    assert [m for m in caplog.messages if "not visible" in m][:2] == [
        "1 change(s) not visible yet; reading again in 0.5s",
        "1 change(s) not visible yet; reading again in 1.0s",
    ]


def test_a_failure_is_logged_with_what_and_why(
    emu: Emulator, client: GraphClient, caplog: pytest.LogCaptureFixture
) -> None:
    tid = IDS[1]
    want = state(**{tid: {"inboundTrust": TRUST}})
    plan, live = planned(client, want, PlanOptions())
    emu.reject_writes(tid, status=403, code="Authorization_RequestDenied")
    result = Applier(client, sleep=lambda s: None).apply(plan, want, PlanOptions(), live)
    [failed] = result.failed
    assert [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "reconciler.applier"] == [
        ("WARNING", f"failed: update partner:{tid}: {failed.error}")
    ]


def test_verification_plans_with_the_same_options(emu: Emulator, client: GraphClient) -> None:
    """The file leaves automaticUserConsentSettings out (inherit) but it is ignored; the tenant has it
    set. Re-planned without the ignore option, the applied change would look unconverged."""
    tid = IDS[0]
    emu.put_partner({"tenantId": tid, "automaticUserConsentSettings": CONSENT})
    options = PlanOptions(ignore=frozenset({"automaticUserConsentSettings"}))
    want = state(**{tid: {"inboundTrust": TRUST}})
    plan, live = planned(client, want, options)
    assert [r.body for r in plan.requests] == [{"inboundTrust": TRUST}]
    result = Applier(client, sleep=lambda s: None).apply(plan, want, options, live)
    assert (result.ok, result.verify_reads) == (True, 1)


def test_a_prune_delete_still_visible_is_read_again(emu: Emulator, client: GraphClient) -> None:
    """With prune kept during verification, a deleted partner that still reads as present is pending."""
    tid = IDS[5]
    options = PlanOptions(prune=True, force=True)
    want = DesiredState({t: desired(t, {}) for t in IDS[:5]})
    plan, live = planned(client, want, options)
    assert [(c.action, c.tenant_id) for c in plan.changes if c.requests] == [("delete", tid)]
    sleeps: list[float] = []

    def back(done: int, total: int) -> None:  # the deleted partner still reads as present once
        emu.put_partner({"tenantId": tid})

    def gone(seconds: float) -> None:
        sleeps.append(seconds)
        emu.delete_partner(tid)

    result = Applier(client, sleep=gone, progress=back).apply(plan, want, options, live)
    assert (result.ok, result.verify_reads, sleeps) == (True, 2, [0.5])


def test_a_root_policy_change_is_read_back_with_the_root_policy() -> None:
    """The root policy (policy.yaml's allowedCloudEndpoints) is verified like the rest: here against a
    small stateful Graph over httpx.MockTransport, since it is the only resource the emulator does not
    write yet."""
    import json

    import httpx

    from reconciler.core.state import DesiredPolicy, SourceRef
    from reconciler.shell.graph import GraphClient as Client

    stored: dict[str, Any] = {"allowedCloudEndpoints": []}
    seen: list[str] = []

    def respond(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/$batch"):
            answers = []
            for sub in json.loads(request.content)["requests"]:
                seen.append(f"{sub['method']} {sub['url']}")
                if sub["method"] == "PATCH":
                    stored.update(sub["body"])
                    answers.append({"id": sub["id"], "status": 204})
                else:
                    answers.append({"id": sub["id"], "status": 200, "body": dict(stored)})
            return httpx.Response(200, json={"responses": answers})
        seen.append(f"GET {request.url.path}")
        return httpx.Response(200, json={"value": []} if "partners" in request.url.path else {})

    class Token:
        def get_token(self) -> str:
            return "t"

        def invalidate(self) -> None:
            pass

    client = Client("https://graph.test", Token(), transport=httpx.MockTransport(respond))
    client.page_tenants = ((), (), ())  # as if the tenant took three pages: one GET batch is cheaper
    want = DesiredState(
        policy=DesiredPolicy({"allowedCloudEndpoints": ["microsoftonline.us"]}, SourceRef("p"))
    )
    live = LiveState({}, {}, {"allowedCloudEndpoints": []})
    plan = make_plan(want, live, PlanOptions())
    assert [(c.resource, c.action) for c in plan.changes if c.requests] == [("policy", "update")]
    result = Applier(client, sleep=no_wait).apply(plan, want, PlanOptions(), live)
    assert (result.ok, result.verify_reads) == (True, 1)
    assert seen == ["PATCH /policies/crossTenantAccessPolicy", "GET /policies/crossTenantAccessPolicy"]


# -- the full read-back, made while the writes land (shell/readback.py) ------------------------------


def _many(emu: Emulator, count: int, first: int = 1) -> list[str]:
    ids = [f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(first, first + count)]
    for tid in ids:
        emu.put_partner({"tenantId": tid})
    return ids


def _named(tid: str, name: str) -> DesiredPartner:
    """A partner whose file is `name`.yaml: the plan lists partners by file name."""
    return DesiredPartner(
        tid, {"inboundTrust": TRUST}, None, SourceRef(f"policies/partners/{name}.yaml", 1, 1)
    )


def _page_reads(journal: list[Any]) -> list[int]:
    """The journal positions of the partner page GETs."""
    return [n for n, e in enumerate(journal) if e.method == "GET" and e.path == JOURNAL and not e.in_batch]


def _patched(journal: list[Any]) -> list[str]:
    return [e.path.rsplit("/", 1)[1] for e in journal if e.method == "PATCH" and e.in_batch]


def test_a_full_read_back_asks_for_each_page_once_its_partners_are_written_while_the_rest_are() -> None:
    """45 partners, 20 to a page, all changing; one batch in flight, each request 150 ms. The files name
    them in the reverse order of the pages, but the writes go in page order; page 0 is asked for once the
    first batch (its 20 partners) has its answer, while the second batch is on its way: the check overlaps
    the writes, and never reads a partner before its write's answer."""
    with Emulator(seed="empty", page_size=20) as emu:
        ids = _many(emu, 45)
        want = DesiredState({t: _named(t, f"p{99 - n}") for n, t in enumerate(ids)})
        options = PlanOptions(force=True)
        with connect(emu.env("writer"), max_in_flight=1) as client:
            plan, live = planned(client, want, options)
            assert [c.tenant_id for c in plan.changes] == ids[::-1]
            emu.faults.latency_ms = 150
            emu.clear_journal()
            result = Applier(client, sleep=no_wait).apply(plan, want, options, live)
        journal = [e for e in emu.journal if e.path.startswith("/v1.0")]
    assert (result.ok, result.verify_reads) == (True, 1)
    assert sorted(e.path for e in journal if not e.in_batch) == sorted(
        ["/v1.0/$batch"] * 3 + [JOURNAL] * 3 + ["/v1.0/policies/crossTenantAccessPolicy/default"]
    )
    reads = _page_reads(journal)
    for number, at in enumerate(reads):  # each page after every write to a partner on it
        assert set(ids[number * 20 : number * 20 + 20]) <= set(_patched(journal[:at]))
    assert _patched(journal) == ids  # written in page order
    last_batch = max(n for n, e in enumerate(journal) if e.in_batch)
    assert reads[0] < last_batch  # page 0 was read while the last batch was still to come


@pytest.mark.parametrize("without", ["the read the plan came from", "a full read by this client"])
def test_without_the_pages_the_plan_was_read_from_the_check_reads_the_tenant_after_the_writes(
    without: str,
) -> None:
    """No read to tell which partner is on which page — the plan's live state was not handed over, or
    another client read it — so the tenant is read again once every write has its answer."""
    with Emulator(seed="empty", page_size=20) as emu:
        ids = _many(emu, 45)
        want = DesiredState({t: desired(t, {"inboundTrust": TRUST}) for t in ids})
        options = PlanOptions(force=True)
        with connect(emu.env("writer")) as planner, connect(emu.env("writer")) as other:
            plan, live = planned(planner, want, options)
            emu.clear_journal()
            if without == "the read the plan came from":
                result = Applier(planner, sleep=no_wait).apply(plan, want, options)
            else:
                assert other.page_tenants is None
                result = Applier(other, sleep=no_wait).apply(plan, want, options, live)
        journal = [e for e in emu.journal if e.path.startswith("/v1.0") and not e.in_batch]
    assert (result.ok, result.verify_reads) == (True, 1)
    assert [e.path for e in journal][:3] == ["/v1.0/$batch"] * 3
    assert sorted(e.path for e in journal[3:]) == sorted([JOURNAL] * 3 + [f"/v1.0{POLICY}/default"])


def test_a_partner_a_page_showed_before_its_write_had_its_answer_is_read_again_at_once() -> None:
    """Someone deletes an unmanaged partner once the first batch is answered: page 0 now ends with the
    first partner of the second batch, still in flight when page 0 was asked for. Only that partner is read
    again — one `$batch` GET, without waiting — and the apply converges."""
    with Emulator(seed="empty", page_size=21) as emu:
        other = _many(emu, 1, first=0)[0]  # sorts first: page 0 is it and 20 managed partners
        ids = _many(emu, 45)
        want = DesiredState({t: desired(t, {"inboundTrust": TRUST}) for t in ids})
        options = PlanOptions(force=True)
        with connect(emu.env("writer"), max_in_flight=1) as client:
            plan, live = planned(client, want, options)
            assert client.page_tenants is not None and client.page_tenants[0][0] == other
            emu.faults.latency_ms = 150
            emu.clear_journal()

            def someone_deletes(done: int, total: int) -> None:
                if done == 20:
                    emu.delete_partner(other)

            result = Applier(client, sleep=no_wait, progress=someone_deletes).apply(plan, want, options, live)
        assert (result.ok, result.verify_reads) == (True, 2)
        assert graph_reads(emu)[-1:] == [f"$batch GET {JOURNAL}/{ids[20]}"]
        assert sorted(graph_reads(emu)) == sorted(
            [f"GET {JOURNAL}"] * 3
            + ["GET /v1.0/policies/crossTenantAccessPolicy/default", f"$batch GET {JOURNAL}/{ids[20]}"]
        )


def test_a_throttled_page_of_the_read_back_is_asked_for_again_and_the_apply_converges() -> None:
    with Emulator(seed="empty", page_size=20) as emu:
        ids = _many(emu, 45)
        want = DesiredState({t: desired(t, {"inboundTrust": TRUST}) for t in ids})
        options = PlanOptions(force=True)
        with connect(emu.env("writer"), retry=RetryPolicy(jitter=0, sleep=lambda s: None)) as client:
            plan, live = planned(client, want, options)
            emu.clear_journal()
            emu.add_fault(FaultRule("GET", "/partners", times=1, status=429, retry_after=None))
            result = Applier(client, sleep=no_wait).apply(plan, want, options, live)
        assert (result.ok, result.verify_reads) == (True, 1)
        pages = [e.status for e in emu.journal if e.method == "GET" and e.path == JOURNAL]
        assert pages == [429, 200, 200, 200]
        assert sorted(_patched(emu.journal)) == ids


def test_a_lagging_read_back_reads_the_tenant_again_page_by_page_with_the_root_policy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reads show the state from before a write for 1 s after it: the read made while the writes land sees
    none of the 46 changes, so the check waits and reads the tenant again — pages, default and root policy,
    fewer requests than 46 GETs — re-planned page by page as the pages come."""
    pages: list[int] = []
    add = PartnerPlans.add

    def heard(plans: PartnerPlans, default: Any, partners: Any) -> None:
        pages.append(len(partners))
        add(plans, default, partners)

    waited: list[float] = []

    def wait_out_the_lag(seconds: float) -> None:
        waited.append(seconds)
        time.sleep(1.0)

    with Emulator(seed="empty", page_size=20) as emu:
        ids = _many(emu, 45)
        clouds = DesiredPolicy({"allowedCloudEndpoints": ["microsoftonline.us"]}, SourceRef("p"))
        want = DesiredState({t: desired(t, {"inboundTrust": TRUST}) for t in ids}, None, clouds)
        options = PlanOptions(force=True)
        with connect(emu.env("writer")) as client:
            live = client.read_live_state(policy=True)
            plan = make_plan(want, live, options)
            emu.faults.read_lag_s = 1.0
            emu.clear_journal()
            monkeypatch.setattr(PartnerPlans, "add", heard)
            result = Applier(client, sleep=wait_out_the_lag).apply(plan, want, options, live)
        reads = graph_reads(emu)
    assert (result.ok, result.verify_reads, waited) == (True, 2, [0.5])
    assert pages == [20, 20, 5, 20, 20, 5]
    assert sorted(reads) == sorted(
        [f"GET {JOURNAL}"] * 6 + [f"GET /v1.0{POLICY}/default"] * 2 + [f"GET /v1.0{POLICY}"] * 2
    )


def test_an_apply_interrupted_while_writing_stops_its_read_back_before_it_asks_for_anything() -> None:
    """Ctrl-C as the first batch's answer comes (from the progress display): the writes in flight finish,
    the read-back waiting for them ends without a request, and the interrupt reaches the caller."""
    with Emulator(seed="empty", page_size=20) as emu:
        ids = _many(emu, 45)
        want = DesiredState({t: desired(t, {"inboundTrust": TRUST}) for t in ids})
        options = PlanOptions(force=True)
        with connect(emu.env("writer")) as client:
            plan, live = planned(client, want, options)
            emu.clear_journal()

            def interrupted(done: int, total: int) -> None:
                raise KeyboardInterrupt

            with pytest.raises(KeyboardInterrupt):
                Applier(client, sleep=no_wait, progress=interrupted).apply(plan, want, options, live)
        assert graph_reads(emu) == []
        assert [e.path for e in emu.journal if not e.in_batch] == ["/v1.0/$batch"] * 3


# -- failures -----------------------------------------------------------------------------------------


def run_rejected(emu: Emulator, client: GraphClient, status: int) -> ApplyResult:
    want, options = everyone(PlanOptions(force=True))
    plan, live = planned(client, want, options)
    emu.reject_writes(IDS[3], status=status, code="Request_BadRequest" if status == 400 else "Busy")
    return Applier(client, sleep=lambda s: None).apply(plan, want, options, live)


@pytest.mark.parametrize(("status", "retryable"), [(400, False), (403, False), (503, True)])
def test_failures_say_whether_another_run_can_finish_them(
    status: int, retryable: bool, emu: Emulator, client: GraphClient
) -> None:
    result = run_rejected(emu, client, status)
    assert [o.change.tenant_id for o in result.failed] == [IDS[3]]
    assert (result.failed[0].retryable, result.retryable) == (retryable, retryable)
    assert (len(result.applied), result.converged) == (5, True)  # the others were applied and read back


def test_a_dependent_request_shares_its_dependency_s_fate(emu: Emulator, client: GraphClient) -> None:
    tid = IDS[4]
    emu.set_sync(tid, {"displayName": "x", "userSyncInbound": {"isSyncAllowed": True}})
    options = PlanOptions(prune=True, force=True)
    plan, live = planned(client, DesiredState({t: desired(t, {}) for t in IDS[:4] + IDS[5:]}), options)
    refused(emu, "DELETE", "/identitySynchronization", 403)
    result = Applier(client, sleep=lambda s: None).apply(plan, DesiredState(), options, live)
    by_resource = {o.change.resource: o for o in result.failed}
    assert sorted(by_resource) == ["identitySynchronization", "partner"]
    assert by_resource["partner"].retryable is False
    assert by_resource["partner"].error is not None and by_resource["partner"].error.startswith(
        "not run because 1 failed: Graph refused DELETE"
    )


# -- what `xtap apply` says after a failure -----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "last_line"),
    [
        (
            403,
            "Re-running `xtap apply` is safe, but what Graph refused above fails the same way until its "
            "cause is fixed; what was applied stays applied.",
        ),
        (
            503,
            "Re-running `xtap apply` is safe: it re-plans from the live tenant and finishes the rest.",
        ),
    ],
)
def test_the_report_says_what_is_true_after_a_failure(
    status: int,
    last_line: str,
    emu: Emulator,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.support.e2e import use_emulator, write_policies, xtap

    use_emulator(monkeypatch, emu)
    monkeypatch.chdir(tmp_path)
    write_policies(tmp_path, {f"p{i}": {"tenantId": t, "inboundTrust": TRUST} for i, t in enumerate(IDS[:2])})
    if status == 403:
        emu.reject_writes(IDS[1], status=403, code="Authorization_RequestDenied")
    else:  # every attempt answered 503 (Retry-After: 0, so the retries do not wait)
        emu.add_fault(FaultRule("PATCH", IDS[1], times=99, status=503, retry_after=0))
    code, out, _ = xtap(capsys, "apply", "--auto-approve")
    lines = out.splitlines()
    assert code == 1
    start = lines.index("Apply complete: 1 applied, 1 failed.")
    assert lines[start + 1].startswith(f"  failed: update partner {IDS[1]}: Graph refused PATCH ")
    assert lines[start + 2 :] == [
        "Verified: the 1 applied change(s) were read back and match the policy files.",
        last_line,
    ]


def test_nothing_applied_is_never_called_verified(
    emu: Emulator, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.support.e2e import use_emulator, write_policies, xtap

    use_emulator(monkeypatch, emu)
    monkeypatch.chdir(tmp_path)
    write_policies(tmp_path, {"p0": {"tenantId": IDS[0], "inboundTrust": TRUST}})
    emu.reject_writes(IDS[0], status=400, code="Request_BadRequest", message="Licence required.")
    code, out, _ = xtap(capsys, "apply", "--auto-approve")
    assert code == 1
    assert out.splitlines()[-3:] == [
        "Apply complete: 0 applied, 1 failed.",
        f"  failed: update partner {IDS[0]}: Graph refused PATCH {PARTNERS}/{IDS[0]}: 400 Request_BadRequest: "
        + out.split("400 Request_BadRequest: ", 1)[1].splitlines()[0],
        "Re-running `xtap apply` is safe, but what Graph refused above fails the same way until its "
        "cause is fixed; what was applied stays applied.",
    ]
    assert "Verified" not in out


# -- re-planning one partner: with the run's options, and what it reports ------------------------------


def _created_meanwhile(
    emu: Emulator, client: GraphClient, options: PlanOptions, portal: dict[str, Any], sync: Any = None
) -> tuple[str, DesiredState, Plan, LiveState]:
    """A plan that creates a partner with inboundTrust, which the portal then creates first (with consent
    settings, plus `portal`): the POST conflicts and the partner is re-planned."""
    new = "0000000b-0000-4000-8000-00000000000b"
    want = DesiredState({new: desired(new, {"inboundTrust": TRUST}, sync)})
    plan, live = planned(client, want, options)
    emu.put_partner({"tenantId": new, "automaticUserConsentSettings": CONSENT, **portal})
    emu.clear_journal()
    return new, want, plan, live


def test_the_re_plan_after_a_conflict_keeps_the_runs_options(
    emu: Emulator, client: GraphClient, caplog: pytest.LogCaptureFixture
) -> None:
    """xtap.yaml ignores automaticUserConsentSettings: the re-plan must not reset what the portal set."""
    options = PlanOptions(ignore=frozenset({"automaticUserConsentSettings"}))
    new, want, plan, live = _created_meanwhile(emu, client, options, {}, SYNC)
    caplog.set_level("INFO", logger="reconciler.applier")
    result = Applier(client, sleep=lambda s: None).apply(plan, want, options, live)
    assert result.ok
    assert [(m, p.rsplit("/", 1)[-1], b) for m, p, b in writes(emu)] == [
        ("POST", "partners", {"tenantId": new, "inboundTrust": TRUST}),
        ("PATCH", new, {"inboundTrust": TRUST}),
        ("PUT", "identitySynchronization", SYNC),
    ]
    assert emu.get_partner(new)["automaticUserConsentSettings"] == CONSENT  # type: ignore[index]
    assert f"re-planned {new} after a conflict: 2 change(s)" in caplog.messages


def test_a_partner_created_meanwhile_as_the_files_say_counts_as_applied(
    emu: Emulator, client: GraphClient, caplog: pytest.LogCaptureFixture
) -> None:
    options = PlanOptions(ignore=frozenset({"automaticUserConsentSettings"}))
    new, want, plan, live = _created_meanwhile(emu, client, options, {"inboundTrust": TRUST})
    caplog.set_level("INFO", logger="reconciler.applier")
    result = Applier(client, sleep=lambda s: None).apply(plan, want, options, live)
    assert [(o.change, o.status, o.error) for o in result.outcomes] == [(plan.changes[0], "applied", None)]
    assert result.ok and [w[0] for w in writes(emu)] == ["POST"]  # nothing left to write
    assert f"re-planned {new} after a conflict: 0 change(s)" in caplog.messages


def test_a_re_planned_write_graph_refuses_is_reported_with_its_reason(
    emu: Emulator, client: GraphClient
) -> None:
    new, want, plan, live = _created_meanwhile(emu, client, PlanOptions(), {})
    refused(emu, "PATCH", new, 403)
    result = Applier(client, sleep=lambda s: None).apply(plan, want, PlanOptions(), live)
    [failed] = result.failed
    assert (failed.change.action, failed.change.resource, failed.status, failed.retryable) == (
        "update",
        "partner",
        "failed",
        False,
    )
    assert failed.error is not None and failed.error.startswith(f"Graph refused PATCH {PARTNERS}/{new}")
    assert not result.ok and result.applied == ()


def test_a_sync_policy_recreated_while_it_is_re_planned_is_reported_as_changed_again(
    emu: Emulator, client: GraphClient
) -> None:
    tid = IDS[0]
    want, plan, live = sync_to_update(emu, client, tid)
    emu.set_sync(tid, None)  # removed in the portal, and (below) created again before our PUT lands
    conflict = "Request_MultipleObjectsWithSameKeyValue"
    emu.add_fault(FaultRule("PUT", "/identitySynchronization", status=409, retry_after=None, code=conflict))
    result = Applier(client, sleep=lambda s: None).apply(plan, want, PlanOptions(), live)
    assert [(o.change.action, o.status, o.error, o.retryable) for o in result.outcomes] == [
        ("create", "failed", "changed again while applying", True)
    ]


def test_a_partner_deleted_meanwhile_is_created_again_when_its_sync_patch_finds_nothing(
    emu: Emulator, client: GraphClient
) -> None:
    tid = IDS[0]
    want, plan, live = sync_to_update(emu, client, tid)
    emu.delete_partner(tid)  # partner and sync policy deleted in the portal
    emu.clear_journal()
    result = Applier(client, sleep=lambda s: None).apply(plan, want, PlanOptions(), live)
    assert result.ok
    assert [(o.change.action, o.change.resource) for o in result.outcomes] == [
        ("create", "partner"),
        ("create", "identitySynchronization"),
    ]
    assert [w[:2] for w in writes(emu)] == [
        ("PATCH", f"{JOURNAL}/{tid}/identitySynchronization"),
        ("POST", JOURNAL),
        ("PUT", f"{JOURNAL}/{tid}/identitySynchronization"),
    ]


# -- how each answer of Graph is read ------------------------------------------------------------------

NEW = "0000000a-0000-4000-8000-00000000000a"


def test_a_refused_post_is_a_failure_reported_not_a_re_plan(emu: Emulator, client: GraphClient) -> None:
    """Only Graph's "already exists" sends a create back to be re-planned; any other refusal is reported."""
    want = DesiredState({NEW: desired(NEW, {"inboundTrust": TRUST})})
    plan, live = planned(client, want, PlanOptions())
    refused(emu, "POST", "/partners", 403, "Authorization_RequestDenied")
    emu.clear_journal()
    result = Applier(client, sleep=no_wait).apply(plan, want, PlanOptions(), live)
    [outcome] = result.outcomes
    assert (outcome.change.action, outcome.status, outcome.retryable) == ("create", "failed", False)
    assert outcome.error is not None and outcome.error.startswith(f"Graph refused POST {PARTNERS}: 403")
    assert graph_reads(emu) == []  # nothing re-read: there is nothing to re-plan


def test_a_partner_gone_before_its_patch_is_a_failure_reported_not_a_re_plan(
    emu: Emulator, client: GraphClient
) -> None:
    """A 404 re-plans only a sync policy's PATCH (as a PUT); a partner's PATCH that finds nothing is
    reported as failed, and the next run plans it from the tenant as it is then (a create)."""
    tid = IDS[1]
    want = state(**{tid: {"inboundTrust": TRUST}})
    plan, live = planned(client, want, PlanOptions())
    refused(emu, "PATCH", tid, 404, "Request_ResourceNotFound")
    emu.clear_journal()
    result = Applier(client, sleep=no_wait).apply(plan, want, PlanOptions(), live)
    [outcome] = result.outcomes
    assert (outcome.change.action, outcome.status) == ("update", "failed")
    assert outcome.error is not None and outcome.error.startswith(
        f"Graph refused PATCH {PARTNERS}/{tid}: 404"
    )
    assert [w[:2] for w in writes(emu)] == [("PATCH", f"{JOURNAL}/{tid}")]


@pytest.mark.parametrize(("status", "code"), [(404, "NotFound"), (400, "Request_ResourceNotFound")])
def test_a_sync_patch_meeting_no_policy_is_re_planned_by_status_or_by_code(
    status: int, code: str, emu: Emulator, client: GraphClient
) -> None:
    tid = IDS[0]
    want, plan, live = sync_to_update(emu, client, tid)
    emu.add_fault(FaultRule("PATCH", "/identitySynchronization", status=status, retry_after=None, code=code))
    emu.set_sync(tid, None)
    emu.clear_journal()
    result = Applier(client, sleep=no_wait).apply(plan, want, PlanOptions(), live)
    assert [(o.change.action, o.status) for o in result.outcomes] == [("create", "applied")]
    assert [w[0] for w in writes(emu)] == ["PATCH", "PUT"]


@pytest.mark.parametrize(("status", "code"), [(404, "NotFound"), (400, "Directory_ObjectNotFound")])
def test_a_delete_that_finds_nothing_is_done_by_status_or_by_code(
    status: int, code: str, emu: Emulator, client: GraphClient
) -> None:
    options = PlanOptions(prune=True, force=True)
    plan, live = planned(client, DesiredState({t: desired(t, {}) for t in IDS[:5]}), options)
    assert [(r.method, r.url) for r in plan.requests] == [("DELETE", f"{PARTNERS}/{IDS[5]}")]
    emu.delete_partner(IDS[5])  # deleted in the portal meanwhile: Graph answers as if from its own check
    refused(emu, "DELETE", IDS[5], status, code)
    result = Applier(client, sleep=no_wait).apply(plan, DesiredState(), options, live)
    assert [(o.change.action, o.status) for o in result.outcomes] == [("delete", "applied")]


@pytest.mark.parametrize(("status", "done"), [(200, True), (299, True), (300, False), (199, False)])
def test_only_a_2xx_answer_is_a_write_done(
    status: int, done: bool, emu: Emulator, client: GraphClient
) -> None:
    """What a write is answered decides whether it counts as made (then verification reads it back)."""
    tid = IDS[2]
    want = state(**{tid: {"inboundTrust": TRUST}})
    plan, live = planned(client, want, PlanOptions())
    refused(emu, "PATCH", tid, status)  # answered without being run
    if done:
        emu.put_partner({"tenantId": tid, "inboundTrust": TRUST})  # as if the write had been made
    result = Applier(client, sleep=no_wait).apply(plan, want, PlanOptions(), live)
    [outcome] = result.outcomes
    assert (outcome.status, result.converged) == ("applied" if done else "failed", True)


def test_a_batch_refused_as_a_whole_fails_each_write_with_graph_s_answer(
    emu: Emulator, client: GraphClient
) -> None:
    """A 424 with no failed dependency to blame (the whole `$batch` was refused) is reported as itself."""
    tid = IDS[2]
    want = state(**{tid: {"inboundTrust": TRUST}})
    plan, live = planned(client, want, PlanOptions())
    emu.add_fault(FaultRule(batch=True, status=424, times=99, retry_after=None))
    result = Applier(client, sleep=no_wait).apply(plan, want, PlanOptions(), live)
    [outcome] = result.outcomes
    assert (outcome.status, outcome.retryable) == ("failed", False)
    assert outcome.error is not None and "424" in outcome.error


def test_a_sync_patch_whose_partner_was_deleted_meanwhile_re_creates_both(
    emu: Emulator, client: GraphClient
) -> None:
    tid = IDS[0]
    want, plan, live = sync_to_update(emu, client, tid)
    emu.delete_partner(tid)  # the whole partner, its sync policy with it
    emu.clear_journal()
    result = Applier(client, sleep=no_wait).apply(plan, want, PlanOptions(), live)
    assert [(o.change.resource, o.change.action, o.status) for o in result.outcomes] == [
        ("partner", "create", "applied"),
        ("identitySynchronization", "create", "applied"),
    ]
    assert [w[:2] for w in writes(emu)] == [
        ("PATCH", f"{JOURNAL}/{tid}/identitySynchronization"),
        ("POST", JOURNAL),
        ("PUT", f"{JOURNAL}/{tid}/identitySynchronization"),
    ]
    assert result.ok


def test_without_the_live_state_it_was_planned_from_verification_reads_the_tenant_whole(
    emu: Emulator, client: GraphClient
) -> None:
    """One change among six partners would be read back with one `$batch` GET; without the live state the
    plan came from there is nothing to refresh, so the pages are read (three of them) and the default."""
    tid = IDS[2]
    want = state(**{tid: {"inboundTrust": TRUST}})
    plan, _live = planned(client, want, PlanOptions())
    emu.clear_journal()
    result = Applier(client, sleep=no_wait).apply(plan, want, PlanOptions())
    assert (result.ok, result.verify_reads) == (True, 1)
    assert sorted(graph_reads(emu)) == [f"GET /v1.0{POLICY}/default"] + [f"GET /v1.0{PARTNERS}"] * 3
