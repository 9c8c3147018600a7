"""What the output formats and their safety cost: rendering big plans and drift reports, and the guard.

    python bench/bench_render.py [--partners 10000] [--repeat 5]

A synthetic plan of `--partners` changes (a tenth creates with 13 values, the rest updates of 3 trust
values, one 100 KB create sorted first) is rendered as text, as the 65,536-character PR comment (every
header kept, tables fitted) and as the job summary; the drift report of a tenant where every partner
drifted is rendered as text, Markdown and JSON (and as json.dumps alone, to see what the escaping adds).
Then 1 MiB of plan text goes through the Actions `CommandGuard` a line at a time (as print writes),
against writing it to the same in-memory stream directly, and the whole drift JSON in one write. Best of `--repeat` runs, CPU
time (`time.process_time`). Not a test: figures vary with the machine; docs/performance.md records a run.
"""

from __future__ import annotations

import argparse
import io
import json
import time
from collections.abc import Callable
from typing import Any

from reconciler.core import drift, drift_json
from reconciler.core.plan import Change, Fingerprints, Plan, PropertyDiff, to_json
from reconciler.present import drift_markdown, drift_text, formats, github, plan_text
from reconciler.shell.console import CommandGuard

TRUST = ("isMfaAccepted", "isCompliantDeviceAccepted", "isHybridAzureADJoinedDeviceAccepted")


def tid(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def big_plan(partners: int) -> Plan:
    groups = [{"target": tid(i), "targetType": "group"} for i in range(2500)]
    huge = Change(
        "create",
        "partner",
        "aaa-huge",
        tid(10**9),
        "policies/partners/aaa-huge.yaml:1:1",
        (PropertyDiff("b2bCollaborationInbound.usersAndGroups.targets", None, groups),),
    )
    changes: list[Change] = [huge]
    for i in range(partners):
        source = f"policies/partners/p{i}.yaml:1:1"
        if i % 10 == 0:
            diffs = tuple(PropertyDiff(f"m365CollaborationInbound.x{j}", None, True) for j in range(13))
            changes.append(Change("create", "partner", f"p{i}", tid(i), source, diffs))
        else:
            diffs = tuple(PropertyDiff(f"inboundTrust.{t}", False, True) for t in TRUST)
            changes.append(Change("update", "partner", f"p{i}", tid(i), source, diffs))
    return Plan(tuple(changes), Fingerprints({}, ""), tenant_name="bench")


def drift_report(plan: Plan) -> drift.DriftReport:
    items = []
    for change in plan.changes[1:]:
        for diff in change.diffs:
            ident = drift.item_id("changed", "partner", change.tenant_id, diff.path, diff.before)
            message = f"{diff.path} of partner {change.name} is {diff.before} in the tenant but {diff.after} in the file"
            items.append(
                drift.DriftItem(
                    ident,
                    "changed",
                    True,
                    "partner",
                    change.name,
                    change.tenant_id,
                    message,
                    source=change.source,
                    path=diff.path,
                    declared=diff.after,
                    live=diff.before,
                    declared_text=str(diff.after),
                    live_text=str(diff.before),
                )
            )
    return drift.DriftReport(tuple(items), tenant_name="bench")


def best(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.process_time()
        result = work()
        times.append(time.process_time() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partners", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    plan, r = big_plan(args.partners), args.repeat
    report = drift_report(plan)
    rows = [
        ("plan: text", lambda: plan_text.render_text(plan)),
        ("plan: PR comment (fitted)", lambda: github.plan_comment_body("bench", plan, 2)),
        ("plan: job summary", lambda: github.plan_summary("bench", plan, 2)),
        ("plan: JSON (escaped)", lambda: formats.plan_json(plan)),
        ("plan: JSON (json.dumps alone)", lambda: json.dumps(to_json(plan), indent=2, ensure_ascii=False)),
        (f"drift ({len(report.items)} items): text", lambda: drift_text.render_text(report)),
        ("drift: Markdown (fitted)", lambda: drift_markdown.render_markdown(report)),
        ("drift: JSON (escaped)", lambda: formats.drift_json(report)),
        (
            "drift: JSON (json.dumps alone)",
            lambda: json.dumps(drift_json.to_json(report), indent=2, ensure_ascii=False),
        ),
    ]
    print(f"{args.partners} partners, best of {r}, CPU seconds")
    for name, work in rows:
        seconds, text = best(r, work)
        print(f"  {name:<38} {seconds:7.3f} s  {len(text) / 1024:9.0f} KiB")
    text = plan_text.render_text(plan)
    chunk = text[: 1 << 20]

    def direct() -> None:
        io.StringIO().write(chunk)

    def guarded() -> None:
        stream = CommandGuard(io.StringIO())  # type: ignore[arg-type]
        for line in chunk.splitlines(keepends=True):  # as print() writes: a line at a time
            stream.write(line)

    big = formats.drift_json(report)

    def guarded_once() -> None:
        CommandGuard(io.StringIO()).write(big)  # type: ignore[arg-type]

    for name, work in (
        ("1 MiB of text, direct", direct),
        ("1 MiB of text, CommandGuard, by line", guarded),
        (f"{len(big) >> 20} MiB drift JSON, CommandGuard", guarded_once),
    ):
        seconds, _ = best(r, work)
        print(f"  {name:<38} {seconds:7.3f} s")


if __name__ == "__main__":
    main()
