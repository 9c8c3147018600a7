"""The reliability fault matrix as a table: every fault × `xtap plan` / `xtap apply` against the emulator.

    python bench/reliability_table.py [--markdown]

Runs the scenarios of `tests/support/reliability.py` (the same ones `pytest -m reliability` asserts) and
prints one row per scenario and command: exit code, outer HTTP requests to Graph, retries (answers that
made the client retry: 429, 503, 504, 401 and dropped connections, counted in the emulator's journal),
writes that took effect, writes the fault-free re-run still had to make, and the outcome (`converged`,
`duplicated` or `lost`). Any row whose checks fail (exit code, plan shown, reads, faults seen) is listed
with its reasons on stderr, and the exit code is then 1. docs/reliability.md records a run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.support.reliability import KILLED, SCENARIOS, Row, run, table  # noqa: E402


def text_table(rows: list[Row]) -> str:
    head = ("scenario", "command", "exit", "requests", "retries", "writes", "re-run", "outcome", "seconds")
    body = [
        (
            r.scenario,
            r.command,
            ("killed" if r.exit_code == KILLED else str(r.exit_code))
            + ("" if r.exit_code == r.expected_exit else f" (expected {r.expected_exit})"),
            str(r.requests),
            str(r.retries),
            str(r.writes),
            str(r.rerun_writes),
            r.outcome,
            f"{r.seconds:.1f}",
        )
        for r in rows
    ]
    widths = [max(len(x[i]) for x in (head, *body)) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in (head, *body)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print the Markdown table of the docs")
    args = parser.parse_args()
    rows: list[Row] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="xtap-reliability-") as tmp:
        for i, scenario in enumerate(SCENARIOS):
            for command in ("plan", "apply"):
                rows.append(run(scenario, command, Path(tmp) / f"{i}-{command}"))
    print(table(rows) if args.markdown else text_table(rows))
    bad = [r for r in rows if r.problems]
    for r in bad:
        print(f"{r.scenario} / {r.command}: " + "; ".join(r.problems), file=sys.stderr)
    print(f"{len(rows)} runs, {len(rows) - len(bad)} as expected, {time.monotonic() - started:.0f} s in all")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
