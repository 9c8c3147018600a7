"""tools/mutation.py: the score, the equivalent list, the per-module mutmut configuration (issue #18)."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from types import ModuleType

import pytest

from tests.support import REPO


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation_tool", REPO / "tools" / "mutation.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutation_tool"] = module
    spec.loader.exec_module(module)
    return module


tool = _tool()
M = "reconciler.core.safety"


def test_the_score_counts_kills_over_the_mutants_not_listed_as_equivalent() -> None:
    codes = {f"{M}.x_f__mutmut_{i}": code for i, code in enumerate([1, 3, 36, 0, 0, 33, None], 1)}
    score = tool.score(M, codes, [f"{M}.x_f__mutmut_4", "reconciler.core.plan.x_g__mutmut_1"])
    assert (score.mutants, score.killed, score.equivalent) == (7, 3, 1)
    assert score.survivors == (f"{M}.x_f__mutmut_5", f"{M}.x_f__mutmut_6", f"{M}.x_f__mutmut_7")
    assert score.stale == ()
    assert score.percent == pytest.approx(50.0)


def test_an_equivalent_that_is_killed_or_gone_is_stale() -> None:
    codes = {f"{M}.x_f__mutmut_1": 1, f"{M}.x_f__mutmut_2": 0}
    score = tool.score(M, codes, [f"{M}.x_f__mutmut_1", f"{M}.x_f__mutmut_9"])
    assert score.stale == (f"{M}.x_f__mutmut_1", f"{M}.x_f__mutmut_9")
    assert (score.equivalent, score.survivors) == (0, (f"{M}.x_f__mutmut_2",))


def test_every_listed_equivalent_has_a_reason() -> None:
    assert tool.load_equivalent("# c\n\nname.a: because\n") == {"name.a": "because"}
    with pytest.raises(SystemExit, match=r"equivalent-mutants.txt:2: 'name.b' has no reason"):
        tool.load_equivalent("# c\nname.b\n")
    listed = tool.load_equivalent((REPO / "tools" / "equivalent-mutants.txt").read_text(encoding="utf-8"))
    assert listed and all(name.startswith("reconciler.") for name in listed)


def test_each_module_gets_a_mutmut_section_of_its_own() -> None:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    modules = tool.load_modules(REPO / "pyproject.toml")
    planner = modules["core/planner.py"]
    config = tomllib.loads(tool.mutmut_config(text, planner))
    assert config["tool"]["mutmut"]["only_mutate"] == ["src/reconciler/core/planner.py"]
    selection = config["tool"]["mutmut"]["pytest_add_cli_args_test_selection"]
    assert selection[: len(planner.tests)] == list(planner.tests)
    assert all(arg.startswith("--") for arg in selection[len(planner.tests) :])
    assert config["tool"]["pytest"] == tomllib.loads(text)["tool"]["pytest"]  # the rest is kept
    assert (modules["shell/applier.py"].floor, planner.floor) == (90.0, 95.0)


def test_the_equivalent_list_reads_as_a_table_of_short_names_by_module_and_reason() -> None:
    listed = {
        "reconciler.shell.applier.xǁApplierǁ_failure__mutmut_4": "never missing",
        "reconciler.shell.applier.xǁApplierǁ_failure__mutmut_5": "never missing",
        "reconciler.core.planner.x__delta__mutmut_11": "never missing",
        "reconciler.core.planner.x_partner_name__mutmut_9": "the same file name",
        "reconciler.shell.applier.x__failed__mutmut_3": "never missing",
    }
    assert tool.equivalents_table(listed).splitlines() == [
        "| module | mutants | why no behaviour can differ |",
        "|---|---|---|",
        "| shell/applier.py | `Applier._failure #4`, `Applier._failure #5`, `_failed #3` | never missing |",
        "| core/planner.py | `_delta #11` | never missing |",
        "| core/planner.py | `partner_name #9` | the same file name |",
    ]


def test_the_docs_show_the_equivalent_list_as_it_is() -> None:
    """docs/testing.md's table is the list's (`python tools/mutation.py MODULE --report-only --write-docs`
    writes it after the list changed)."""
    listed = tool.load_equivalent((REPO / "tools" / "equivalent-mutants.txt").read_text(encoding="utf-8"))
    docs = (REPO / "docs" / "testing.md").read_text(encoding="utf-8")
    assert tool.replace_between(docs, "equivalents", tool.equivalents_table(listed)) == docs
