"""Benchmark: `xtap lint` and `xtap report` over generated policy files, and one partner with a long list.

Run: PYTHONPATH=src python bench/bench_lint.py [--files 1000] [--targets 2000]
Prints the time of each step (best of 3). Not a test: the figures go in docs/performance.md.

Both commands resolve every partner with the access model and ask it, per rule, who gets in over a few
channels; the second case shows what a partner with thousands of targets costs (each question is
evaluated over the representative principals and apps, docs/access.md).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_validate import generate

from reconciler.core import lint, posture
from reconciler.present import report_html, sarif
from reconciler.shell.files import load_desired


def long_list(folder: Path, targets: int) -> None:
    rng = random.Random(11)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(targets + 1)]
    lines = "".join(f"      - {{target: {g}, targetType: group}}\n" for g in ids[1:])
    (folder / "partners" / "long.yaml").write_text(
        f"tenantId: {ids[0]}\ndescription: one long allow list\n"
        "inboundTrust: {isMfaAccepted: true, isCompliantDeviceAccepted: true, isHybridAzureADJoinedDeviceAccepted: false}\n"
        "b2bCollaborationInbound:\n  usersAndGroups:\n    accessType: allowed\n    targets:\n"
        f"{lines}"
        "  applications: {accessType: allowed, targets: [{target: AllApplications, targetType: application}]}\n",
        encoding="utf-8",
    )


def best(fn: object, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def measure(folder: Path, label: str) -> None:
    desired = load_desired(folder).desired
    state = posture.from_files(desired)
    found = lint.lint(state)
    seconds = best(lambda: lint.lint(posture.from_files(desired)))
    print(f"{label}: lint {seconds * 1000:.0f} ms ({len(state.partners)} partners, {len(found)} findings)")
    seconds = best(lambda: sarif.render(found, version="bench"))
    print(f"{label}: SARIF {seconds * 1000:.0f} ms")
    report = report_html.Report("bench", state, found, "2026-01-01T00:00:00Z", "bench")
    page = report_html.render(report)
    seconds = best(lambda: report_html.render(report))
    print(f"{label}: report {seconds * 1000:.0f} ms ({len(page) / 1e6:.1f} MB of HTML)")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--targets", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        many = Path(tmp) / "many"
        generate(many, args.files)
        measure(many, f"{args.files} partners")
        single = Path(tmp) / "single"
        (single / "partners").mkdir(parents=True)
        long_list(single, args.targets)
        measure(single, f"1 partner, {args.targets} targets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
