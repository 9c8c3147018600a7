"""Mutation testing of the core and the applier, module by module, against a floor (docs/testing.md).

    python tools/mutation.py [MODULE ...] [--max-children N] [--keep] [--report-only] [--write-docs]

MODULE is a key of `[tool.xtap.mutation.modules]` in pyproject.toml (`core/planner.py`, `shell/applier.py`,
...); all of them when none is given. For each module, a copy of the repository is made in
`mutants/<module>/` whose `[tool.mutmut]` mutates only that module and records only the tests listed for
it; mutmut 3 then runs each mutant against just those of them that called the mutated function. Then a
table: mutants, killed, equivalent (reviewed, in tools/equivalent-mutants.txt), survived, score — the share
of non-equivalent mutants killed — and the exit code is 1 when a score is under its floor, or when the
equivalent list names a mutant that was killed or no longer exists (the list must be reviewed again).

`--write-docs` puts the reviewed equivalent list as a table into docs/testing.md (between its
`<!-- equivalents -->` markers), and the score table too (`<!-- scores -->`) when no MODULE is given.

To look at a survivor: `cd mutants/core.planner && mutmut show NAME` (or `mutmut results`, `mutmut browse`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "mutants"
EQUIVALENT_FILE = ROOT / "tools" / "equivalent-mutants.txt"
DOCS = ROOT / "docs" / "testing.md"
# What the tests read besides src/ and tests/ (mutmut runs them from its copy).
COPIED = (
    "src",
    "tests",
    "docs",
    "policies",
    "schemas",
    "bench",
    ".github",
    ".ci",
    ".pre-commit-hooks.yaml",
    "README.md",
    "xtap.example.yaml",
)
# mutmut's exit-code meanings (mutmut.stats.status_by_exit_code): a failing test or a test that had to be
# stopped (a mutant that loops) is a kill; no covering test, or every covering test passing, is not.
KILLED = frozenset({1, 3, 24, -24, 36, 152, 255, 37})
MUTANT_NAME = re.compile(r"^reconciler\.(?P<module>\w+\.\w+)\.x_?(?P<function>.+)__mutmut_(?P<number>\d+)$")
MUTMUT_SECTION = re.compile(r"^\[tool\.mutmut\]\n(?:(?!\[).*\n)*", re.MULTILINE)


@dataclass(frozen=True)
class Module:
    key: str  # "core/planner.py"
    tests: tuple[str, ...]
    floor: float  # percent of non-equivalent mutants that must be killed

    @property
    def path(self) -> str:
        return f"src/reconciler/{self.key}"

    @property
    def dotted(self) -> str:
        return "reconciler." + self.key.removesuffix(".py").replace("/", ".")

    @property
    def work(self) -> Path:
        return WORK / self.key.removesuffix(".py").replace("/", ".")


@dataclass(frozen=True)
class Score:
    module: str
    mutants: int
    killed: int
    equivalent: int
    survivors: tuple[str, ...]  # not killed and not listed as equivalent
    stale: tuple[str, ...]  # listed as equivalent, but killed or not generated
    seconds: float = 0.0

    @property
    def percent(self) -> float:
        judged = self.mutants - self.equivalent
        return 100.0 * self.killed / judged if judged else 100.0


def load_modules(pyproject: Path) -> dict[str, Module]:
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    section = data["tool"]["xtap"]["mutation"]
    floors: Mapping[str, float] = section["floors"]
    return {
        key: Module(key, tuple(tests), float(floors[key.split("/")[0]]))
        for key, tests in section["modules"].items()
    }


def load_equivalent(text: str) -> dict[str, str]:
    """`NAME: reason` lines (blank lines and `#` comments skipped); a name without a reason is an error."""
    listed: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(":")
        if not reason.strip():
            raise SystemExit(f"{EQUIVALENT_FILE.name}:{number}: '{line}' has no reason after 'NAME:'")
        listed[name.strip()] = reason.strip()
    return listed


def score(module: str, exit_codes: Mapping[str, int | None], equivalent: Iterable[str]) -> Score:
    """The module's figures from mutmut's exit code per mutant (None: not run, which counts as survived)."""
    mine = {name for name in equivalent if name.startswith(module + ".")}
    killed = {name for name, code in exit_codes.items() if code in KILLED}
    survivors = sorted(set(exit_codes) - killed - mine)
    stale = sorted((mine & killed) | (mine - set(exit_codes)))
    return Score(
        module=module,
        mutants=len(exit_codes),
        killed=len(killed),
        equivalent=len((mine & set(exit_codes)) - killed),
        survivors=tuple(survivors),
        stale=tuple(stale),
    )


def table(scores: Sequence[Score], floors: Mapping[str, float]) -> str:
    lines = [
        "| module | mutants | killed | equivalent | survived | score | floor | time |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in scores:
        lines.append(
            f"| {s.module} | {s.mutants} | {s.killed} | {s.equivalent} | {len(s.survivors)} | "
            f"{s.percent:.1f} % | {floors[s.module]:.0f} % | {s.seconds / 60:.1f} min |"
        )
    return "\n".join(lines)


def short_name(name: str) -> tuple[str, str]:
    """`reconciler.shell.applier.xǁApplierǁ_failure__mutmut_4` -> ("shell/applier.py", "Applier._failure #4")."""
    found = MUTANT_NAME.match(name)
    if found is None:
        raise SystemExit(f"{EQUIVALENT_FILE.name}: '{name}' is not a mutmut mutant name")
    function = found["function"].strip("ǁ").replace("ǁ", ".")
    return found["module"].replace(".", "/") + ".py", f"{function} #{found['number']}"


def equivalents_table(listed: Mapping[str, str]) -> str:
    """The equivalent list as a table: one row per module and reason, in the order of their first entry."""
    rows: dict[tuple[str, str], list[str]] = {}
    for name, reason in listed.items():
        module, short = short_name(name)
        rows.setdefault((module, reason), []).append(short)
    lines = ["| module | mutants | why no behaviour can differ |", "|---|---|---|"]
    lines += [f"| {m} | {', '.join(f'`{n}`' for n in names)} | {why} |" for (m, why), names in rows.items()]
    return "\n".join(lines)


def replace_between(text: str, marker: str, body: str) -> str:
    start, end = f"<!-- {marker} -->\n", f"\n<!-- /{marker} -->"
    if text.count(start) != 1 or text.count(end) != 1:
        raise SystemExit(f"{DOCS.name}: expected one '{start.strip()}' ... '{end.strip()}' block")
    head, rest = text.split(start)
    return head + start + body + end + rest.split(end, 1)[1]


def mutmut_config(pyproject_text: str, module: Module) -> str:
    """The repository's pyproject.toml with a [tool.mutmut] that mutates only `module` and records only
    its tests (the other settings kept)."""
    base = tomllib.loads(pyproject_text)["tool"]["mutmut"]
    settings = {
        **base,
        "only_mutate": [module.path],
        "pytest_add_cli_args_test_selection": [
            *module.tests,
            *(a for a in base["pytest_add_cli_args_test_selection"] if a.startswith("--")),
        ],
    }
    body = "".join(f"{key} = {json.dumps(value)}\n" for key, value in settings.items())
    replaced, count = MUTMUT_SECTION.subn(lambda _m: "[tool.mutmut]\n" + body + "\n", pyproject_text)
    if count != 1:
        raise SystemExit("pyproject.toml: expected exactly one [tool.mutmut] section")
    return replaced


def prepare(module: Module, keep: bool) -> None:
    if module.work.exists() and not keep:
        shutil.rmtree(module.work)
    module.work.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
    for name in COPIED:
        source, target = ROOT / name, module.work / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=ignore, dirs_exist_ok=True)
        elif source.exists():
            shutil.copy2(source, target)
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (module.work / "pyproject.toml").write_text(mutmut_config(text, module), encoding="utf-8")


def refresh_tests(module: Module) -> None:
    """The current tests into the module's copy and into mutmut's own copy of it (which it never updates)."""
    for target in (module.work / "tests", module.work / "mutants" / "tests"):
        shutil.copytree(
            ROOT / "tests", target, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True
        )


def run_mutmut(module: Module, max_children: int, names: Sequence[str] = ()) -> float:
    """mutmut's own output goes to mutants/<module>/mutmut.log; returns the wall time. With `names`, only
    those mutants run again (mutmut records the tests that are new first)."""
    started = time.monotonic()
    env = {k: v for k, v in os.environ.items() if k != "MUTANT_UNDER_TEST"}
    with (module.work / "mutmut.log").open("a" if names else "w", encoding="utf-8") as log:
        done = subprocess.run(
            [sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children), *names],
            cwd=module.work,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(
            f"mutmut failed for {module.key} (exit {done.returncode}): see {module.work}/mutmut.log"
        )
    seconds = time.monotonic() - started
    (module.work / "seconds").write_text(f"{seconds:.0f}\n", encoding="utf-8")  # for --report-only
    return seconds


def last_seconds(module: Module) -> float:
    """The wall time of the module's last run (0 when not recorded)."""
    recorded = module.work / "seconds"
    return float(recorded.read_text(encoding="utf-8")) if recorded.exists() else 0.0


def exit_codes(module: Module) -> dict[str, int | None]:
    meta = module.work / "mutants" / (module.path + ".meta")
    if not meta.exists():
        raise SystemExit(f"no mutmut results for {module.key} ({meta}): run without --report-only first")
    data: dict[str, int | None] = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    return data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("modules", nargs="*", metavar="MODULE", help="e.g. core/planner.py (default: all)")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2, help="mutants run at once")
    parser.add_argument("--keep", action="store_true", help="reuse mutants/<module>/ (only new mutants run)")
    parser.add_argument("--report-only", action="store_true", help="only print the table of the last run")
    parser.add_argument(
        "--retest", action="store_true", help="run the last run's survivors again against the current tests"
    )
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="put the equivalent list (and, for all modules, the scores) into docs/testing.md",
    )
    args = parser.parse_args(argv)
    modules = load_modules(ROOT / "pyproject.toml")
    unknown = [m for m in args.modules if m not in modules]
    if unknown:
        parser.error(f"unknown module(s) {unknown}; known: {', '.join(modules)}")
    equivalent = load_equivalent(EQUIVALENT_FILE.read_text(encoding="utf-8"))
    scores = []
    for key in args.modules or list(modules):
        module = modules[key]
        seconds = last_seconds(module)
        if args.retest:
            again = score(module.dotted, exit_codes(module), equivalent).survivors
            print(f"{key}: {len(again)} survivors again, tests {' '.join(module.tests)}", flush=True)
            refresh_tests(module)
            seconds += run_mutmut(module, args.max_children, again) if again else 0.0
            (module.work / "seconds").write_text(f"{seconds:.0f}\n", encoding="utf-8")
        elif not args.report_only:
            print(f"{key}: mutating, tests {' '.join(module.tests)}", flush=True)
            prepare(module, args.keep)
            seconds = run_mutmut(module, args.max_children)
        result = score(module.dotted, exit_codes(module), equivalent)
        scores.append(Score(**{**result.__dict__, "module": key, "seconds": seconds}))
    floors = {key: modules[key].floor for key in modules}
    print(table(scores, floors))
    if args.write_docs:  # the scores only when every module ran; the equivalent list always
        text = replace_between(DOCS.read_text(encoding="utf-8"), "equivalents", equivalents_table(equivalent))
        if not args.modules:
            text = replace_between(text, "scores", table(scores, floors))
        DOCS.write_text(text, encoding="utf-8")
    failed = False
    for s in scores:
        for name in s.survivors:
            print(f"survived: {name}")
        for name in s.stale:
            print(f"listed as equivalent but killed or not generated (review {EQUIVALENT_FILE.name}): {name}")
        if s.percent < floors[s.module] or s.stale:
            failed = True
    for s in scores:
        if s.percent < floors[s.module]:
            print(
                f"{s.module}: {s.percent:.1f} % of non-equivalent mutants killed, under the floor of {floors[s.module]:.0f} %"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
