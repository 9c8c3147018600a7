"""The posture lines of the plan comment (`xtap github plan-comment --lint/--lint-base`): the findings a
pull request brings, by fingerprint, kept short and escaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.core.errors import XtapError
from reconciler.present.github import posture_section
from tests.support.e2e import xtap

# `xtap github plan-comment` for tenant t, a plan file x and plan's exit code 1; the --lint options vary.
PLAN_COMMENT = ("github", "plan-comment", "--tenant", "t", "--plan", "x", "--exit-code", "1")


def finding(n: int, *, suppressed: bool = False, message: str = "m") -> dict[str, Any]:
    return {
        "ruleId": "XTAP002",
        "level": "warning",
        "message": f"{message} {n}",
        "where": f"policies/partners/p{n}.yaml:3:1",
        "fingerprint": f"{n:032x}",
        "suppressed": suppressed,
    }


def report(*items: dict[str, Any]) -> dict[str, Any]:
    return {"format_version": 1, "findings": list(items)}


def test_only_findings_the_base_does_not_have_are_new() -> None:
    head = report(finding(1), finding(2), finding(3, suppressed=True))
    assert posture_section(head, report(finding(1))) == (
        "\n#### Posture (`xtap lint`)\n\n"
        "**1 new finding** in this pull request (2 in all, 1 suppressed); code scanning marks them on the files:\n\n"
        "- **warning** XTAP002 m 2 — <code>policies/partners/p2.yaml:3:1</code>\n"
    )
    assert posture_section(head, report(finding(1), finding(2))) == (
        "\n#### Posture (`xtap lint`)\n\nNo new finding (2 in all, 1 suppressed).\n"
    )


def test_without_a_base_everything_is_new_and_the_list_stays_short() -> None:
    text = posture_section(report(*(finding(n) for n in range(8))), None)
    assert "**8 new findings**" in text
    assert text.count("\n- **warning**") == 5
    assert text.endswith("- … and 3 more.\n")


def test_messages_from_files_are_escaped() -> None:
    text = posture_section(report(finding(1, message="<img src=x> `x` [a](b)")), None)
    assert "&lt;img src=x&gt; &#96;x&#96; &#91;a](b) 1" in text


def test_a_report_that_is_not_lints_is_refused() -> None:
    with pytest.raises(XtapError, match=r"^lint.json: not an xtap lint report"):
        posture_section({"items": []}, None, origin="lint.json")


def test_plan_comment_without_the_lint_report_says_so_and_has_no_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lint.json").write_text('{"format_version": 1, "findings": []}')
    code, out, err = xtap(capsys, *PLAN_COMMENT, "--lint", "gone.json")
    assert (code, err) == (0, "xtap: warning: gone.json not found; the comment has no posture section\n")
    assert "Posture" not in out
    code, out, err = xtap(capsys, *PLAN_COMMENT, "--lint", "lint.json", "--lint-base", "gone.json")
    assert (code, err) == (0, "")
    assert "#### Posture (`xtap lint`)\n\nNo new finding (0 in all).\n" in out
