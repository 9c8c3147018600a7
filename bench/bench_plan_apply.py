"""Plan and apply at scale against the emulator, side by side with a per-resource baseline.

    python bench/bench_plan_apply.py [--partners 1000] [--latency-ms 50] [--page-size 100] [--cpu-partners 5000]
                                     [--cpu-b2b]

- xtap: `read_live_state` for the plan (paged list with $expand + the default), then the applier
  (`$batch` of 20, 4 in flight) and its verification read;
- baseline: the pattern of Terraform-style providers, one GET and one PATCH per partner, 10 in flight;
- CPU: `make_plan` over N generated partners that all change (no network), process time, against
  Microsoft's service default; `--cpu-b2b`: each changes two B2B settings besides `inboundTrust`, so the
  access effect of every channel they govern is worked out.
Every request is counted by the emulator's journal (outer HTTP requests, token requests excluded).
Not a test: figures vary with the machine; docs/performance.md records a run.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from reconciler.core.access import SERVICE_DEFAULT
from reconciler.core.planner import PlanOptions, make_plan
from reconciler.core.state import DesiredPartner, DesiredState, LivePartner, LiveState, SourceRef
from reconciler.emulator import Emulator
from reconciler.shell.applier import Applier
from reconciler.shell.graph import connect

TRUST = {
    "isMfaAccepted": True,
    "isCompliantDeviceAccepted": True,
    "isHybridAzureADJoinedDeviceAccepted": True,
}


def tenant_ids(n: int) -> list[str]:
    return [f"{i:08x}-0000-4000-8000-{i:012x}" for i in range(1, n + 1)]


def desired_for(ids: list[str], b2b: bool = False) -> DesiredState:
    return DesiredState(
        {
            tid: DesiredPartner(tid, _settings(i, tid, b2b), None, SourceRef(f"p{i}.yaml"))
            for i, tid in enumerate(ids)
        }
    )


def _b2b(group: str, user: str) -> dict[str, Any]:
    return {
        "usersAndGroups": {
            "accessType": "allowed",
            "targets": [{"target": group, "targetType": "group"}, {"target": user, "targetType": "user"}],
        },
        "applications": {
            "accessType": "blocked",
            "targets": [{"target": "Office365", "targetType": "application"}],
        },
    }


def _settings(i: int, tid: str, b2b: bool) -> dict[str, Any]:
    """inboundTrust; with `b2b`, two B2B settings too, so every channel they govern has an access effect
    to work out: one of 7 groups (shared by many partners) and a user of the partner's own."""
    if not b2b:
        return {"inboundTrust": TRUST}
    group = f"{i % 7:08x}-aaaa-4000-8000-{i % 7:012x}"
    return {
        "inboundTrust": TRUST,
        "b2bCollaborationInbound": _b2b(group, "11111111-2222-4333-8444-555555555555"),
        "b2bDirectConnectOutbound": _b2b(group, tid),
    }


def graph_requests(emu: Emulator) -> int:
    return sum(1 for e in emu.journal if not e.in_batch and e.path.startswith("/v1.0"))


def run_xtap(n: int, latency_ms: int, page_size: int) -> dict[str, Any]:
    ids = tenant_ids(n)
    with Emulator(seed="empty", page_size=page_size) as emu:
        for tid in ids:
            emu.put_partner({"tenantId": tid})
        env = {**os.environ, **emu.env(app="writer")}
        desired = desired_for(ids)
        options = PlanOptions(force=True)  # every partner changes: past the 30 % gate on purpose
        with connect(env) as client:
            client.read_live_state()  # warm up the token so it is not counted below
            emu.faults.latency_ms = latency_ms
            emu.clear_journal()
            t0 = time.perf_counter()
            live = client.read_live_state()
            plan = make_plan(desired, live, options)
            plan_s = time.perf_counter() - t0
            plan_requests = graph_requests(emu)
            emu.clear_journal()
            t0 = time.perf_counter()
            result = Applier(client).apply(plan, desired, options)
            apply_s = time.perf_counter() - t0
            apply_requests = graph_requests(emu)
        assert result.ok, result.failed[:3]
        return {
            "plan_s": plan_s,
            "plan_requests": plan_requests,
            "plan_bound": math.ceil(n / page_size) + 2,
            "apply_s": apply_s,
            "apply_requests": apply_requests,
            "write_batches": math.ceil(n / 20),
            "verify_reads": result.verify_reads,
        }


def run_baseline(n: int, latency_ms: int, page_size: int) -> dict[str, Any]:
    ids = tenant_ids(n)
    with Emulator(seed="empty", page_size=page_size) as emu:
        for tid in ids:
            emu.put_partner({"tenantId": tid})
        env = {**os.environ, **emu.env(app="writer")}
        with connect(env) as client:
            token = client.credential.get_token()
        emu.faults.latency_ms = latency_ms
        emu.clear_journal()
        base = f"{emu.url}/v1.0/policies/crossTenantAccessPolicy/partners"
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(verify=str(emu.ca_file), headers=headers, timeout=60) as http:

            def one(tid: str) -> None:
                http.get(f"{base}/{tid}").raise_for_status()
                http.patch(f"{base}/{tid}", json={"inboundTrust": TRUST}).raise_for_status()

            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=10) as pool:
                list(pool.map(one, ids))
            seconds = time.perf_counter() - t0
        return {"apply_s": seconds, "apply_requests": graph_requests(emu)}


def plan_cpu(n: int, b2b: bool = False) -> float:
    ids = tenant_ids(n)
    live = LiveState(
        {tid: LivePartner(tid, {"tenantId": tid, "inboundTrust": None}) for tid in ids}, SERVICE_DEFAULT
    )
    desired = desired_for(ids, b2b)
    t0 = time.process_time()
    plan = make_plan(desired, live, PlanOptions(force=True))
    seconds = time.process_time() - t0
    assert len(plan.requests) == n
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--partners", type=int, default=1000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--cpu-partners", type=int, default=5000)
    parser.add_argument(
        "--cpu-b2b", action="store_true", help="each partner also changes two B2B settings (access effects)"
    )
    args = parser.parse_args()
    n = args.partners
    x = run_xtap(n, args.latency_ms, args.page_size)
    b = run_baseline(n, args.latency_ms, args.page_size)
    cpu = plan_cpu(args.cpu_partners, args.cpu_b2b)
    print(
        f"{n} partners, all changing; emulator latency {args.latency_ms} ms/request, page size {args.page_size}"
    )
    print(f"{'':32}{'requests':>10}{'wall s':>10}")
    print(
        f"{'xtap plan (read + diff)':32}{x['plan_requests']:>10}{x['plan_s']:>10.2f}   bound ⌈N/page⌉+2 = {x['plan_bound']}"
    )
    print(
        f"{'xtap apply (writes + verify)':32}{x['apply_requests']:>10}{x['apply_s']:>10.2f}   "
        f"= {x['write_batches']} $batch + verification ({x['verify_reads']} full read(s))"
    )
    print(f"{'baseline GET+PATCH, 10 in flight':32}{b['apply_requests']:>10}{b['apply_s']:>10.2f}")
    print(f"apply speed-up over baseline: {b['apply_s'] / x['apply_s']:.1f}x")
    what = "inboundTrust and two B2B settings" if args.cpu_b2b else "inboundTrust"
    print(f"make_plan CPU time for {args.cpu_partners} partners changing {what}: {cpu:.2f} s")


if __name__ == "__main__":
    main()
