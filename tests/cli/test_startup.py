"""Start-up: a command imports what it uses. Not timed (bench/bench_startup.py measures); this holds the
import graph: `xtap --help` imports no command module, and `xtap validate` (the pre-commit hook) none of
the Graph client's libraries."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support import REPO

GRAPH_LIBRARIES = ("httpx", "msal", "cryptography", "requests", "reconciler.shell.graph")

PROBE = """
import json, sys
from reconciler.cli.main import main
code = main(sys.argv[1:], env={})
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def imported(*argv: str) -> tuple[int, set[str]]:
    """Run `xtap ARGV` in a fresh interpreter (from the repository root); its exit code and every module
    loaded by the end."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


def test_validate_imports_no_graph_library_and_no_other_command() -> None:
    code, modules = imported("validate")
    assert code == 0
    assert sorted(m for m in modules if m.split(".")[0] in GRAPH_LIBRARIES or m in GRAPH_LIBRARIES) == []
    assert sorted(m for m in modules if m.startswith("reconciler.cli.commands.")) == [
        "reconciler.cli.commands.validate"
    ]
    assert "reconciler.shell.graph" not in modules
    assert "reconciler.core.planner" not in modules


def test_help_imports_no_command_and_none_of_their_libraries() -> None:
    code, modules = imported("--help")
    assert code == 0
    assert sorted(m for m in modules if m.startswith("reconciler")) == [
        "reconciler",
        "reconciler.cli",
        "reconciler.cli.catalog",
        "reconciler.cli.main",
        "reconciler.cli.parser",
        "reconciler.core",
        "reconciler.core.errors",
    ]
    assert {"yaml", "dataclasses", "typing", "logging", "httpx"} & modules == set()


def test_a_command_that_talks_to_graph_imports_the_client_when_it_signs_in() -> None:
    # The control: the probe does see the client's libraries once a command gets as far as signing in
    # (here it stops there, with no credentials in its environment).
    code, modules = imported("plan")
    assert code == 1
    assert {"httpx", "reconciler.shell.graph"} <= modules
