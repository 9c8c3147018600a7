"""The decisions behind the workflow steps (reconciler.github) and `xtap github ...` that exposes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main as cli
from reconciler.core.errors import XtapError
from reconciler.core.plan import Change, Fingerprints, Plan, PropertyDiff
from reconciler.present import formats, github, markdown
from tests.support.builders import FAB

BOT = {"login": "github-actions[bot]", "type": "Bot"}
HUMAN = {"login": "alice", "type": "User"}
PLAN_MARKER = "<!-- xtap-plan:contoso -->"
DRIFT_MARKER = "<!-- xtap-drift:contoso -->"


def comment(cid: int, body: str, user: dict[str, str] = BOT) -> dict[str, Any]:
    return {"id": cid, "body": body, "user": user}


def issue(number: int, body: str, user: dict[str, str] = BOT, **extra: Any) -> dict[str, Any]:
    return {"number": number, "body": body, "user": user, "state": "open", **extra}


def item(item_id: str, *, drift: bool = True, message: str = "") -> dict[str, Any]:
    # The shape of `xtap drift --format json` items (reconciler.drift), reduced to what is read here.
    kind = "changed" if drift else "unknown-property"
    return {"id": item_id, "kind": kind, "drift": drift, "message": message or f"{item_id} differs"}


def report(*ids: str, info: tuple[str, ...] = ()) -> dict[str, Any]:
    items = [item(i) for i in ids] + [item(i, drift=False) for i in info]
    return {"drift": bool(ids), "summary": {"drift": len(ids)}, "items": items}


def xtap(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    # Only this command is wired, so the test does not depend on the other command modules.
    monkeypatch.setattr(cli, "COMMANDS", ("github",))
    return cli.main(argv)


# --- markers and names --------------------------------------------------------------------------------


def test_markers_and_title_embed_the_tenant() -> None:
    assert github.plan_marker("contoso") == PLAN_MARKER
    assert github.drift_marker("contoso") == DRIFT_MARKER
    assert github.drift_issue_title("contoso") == "xtap drift: tenant contoso"


@pytest.mark.parametrize("name", ["", "-x", "a b", "a>b", "a\nb", "x/y", "ünï"])
def test_tenant_names_that_could_break_a_marker_or_artifact_are_refused(name: str) -> None:
    with pytest.raises(XtapError) as exc:
        github.plan_marker(name)
    assert str(exc.value) == (
        f"tenant name {name!r} cannot be used in GitHub workflows: use letters, digits, '.', '_' "
        "and '-', starting with a letter or digit"
    )


@pytest.mark.parametrize("name", ["default", "Contoso-EU", "t.1_x", "0"])
def test_tenant_names_the_config_schema_allows_are_accepted(name: str) -> None:
    assert markdown.check_tenant_name(name) == name


# --- gh api --paginate output ----------------------------------------------------------------------------


def test_parse_pages_reads_concatenated_slurped_and_single_pages() -> None:
    a, b, c = comment(1, "a"), comment(2, "b"), comment(3, "c")
    assert github.parse_pages(json.dumps([a, b]) + json.dumps([c])) == [a, b, c]
    assert github.parse_pages(json.dumps([a, b]) + "\n" + json.dumps([c]) + "\n") == [a, b, c]
    assert github.parse_pages(json.dumps([[a, b], [c]])) == [a, b, c]
    assert github.parse_pages(json.dumps([a])) == [a]
    assert github.parse_pages("[]") == []
    assert github.parse_pages("") == []


def test_parse_pages_refuses_what_is_not_a_list_of_objects() -> None:
    with pytest.raises(XtapError, match=r"^not a JSON list of GitHub objects: found int in the list$"):
        github.parse_pages("[1]")
    with pytest.raises(XtapError, match=r"^not a JSON list of GitHub objects: found str$"):
        github.parse_pages('"x"')
    with pytest.raises(
        XtapError, match=r"^not a JSON list of GitHub objects: Expecting value at character 1$"
    ):
        github.parse_pages("[}")


# --- the plan comment -----------------------------------------------------------------------------------


def test_find_marked_comment_returns_the_bots_comment_that_starts_with_the_marker() -> None:
    comments = [
        comment(10, "LGTM", HUMAN),
        comment(11, f"> {PLAN_MARKER}\n> quoted by a human", HUMAN),
        comment(12, f"{PLAN_MARKER}\nplan", HUMAN),  # a human's own marker never makes it ours
        comment(13, "<!-- xtap-plan:fabrikam -->\nother tenant"),
        comment(14, f"{PLAN_MARKER}\nours"),
        comment(15, f"{PLAN_MARKER}\na duplicate from a race"),
    ]
    assert github.find_marked_comment(comments, PLAN_MARKER) == 14
    assert github.find_marked_comment(comments[:4], PLAN_MARKER) is None
    assert github.find_marked_comment([], PLAN_MARKER) is None


def test_find_marked_comment_accepts_another_author_and_graphql_author_shapes() -> None:
    app = {"login": "xtap-bot[bot]", "type": "Bot"}
    comments = [comment(1, f"{PLAN_MARKER}\nby actions"), comment(2, f"{PLAN_MARKER}\nby app", app)]
    assert github.find_marked_comment(comments, PLAN_MARKER, author="xtap-bot[bot]") == 2
    graphql = [{"id": 7, "body": f"{PLAN_MARKER}\n", "author": {"login": "app/github-actions"}}]
    assert github.find_marked_comment(graphql, PLAN_MARKER) == 7
    assert github.find_marked_comment([{"id": 8, "body": PLAN_MARKER}], PLAN_MARKER) is None


def small_plan(tenant: str = "contoso", refusals: tuple[str, ...] = ()) -> Plan:
    change = Change(
        "update",
        "partner",
        "fabrikam",
        FAB,
        "policies/partners/fabrikam.yaml:1:1",
        (PropertyDiff("inboundTrust.isMfaAccepted", False, True),),
    )
    return Plan((change,), Fingerprints({}, ""), tenant_name=tenant, refusals=refusals)


SMALL_PLAN_MARKDOWN = (
    "### xtap plan — tenant <code>contoso</code>\n\n**Plan: 0 to add, 1 to change, 0 to destroy.**\n\n"
    f"#### <code>~</code> update partner fabrikam ({FAB}) — 1 value\n\n"
    "```diff\n- inboundTrust.isMfaAccepted: false\n+ inboundTrust.isMfaAccepted: true\n```\n\n"
    "Declared in <code>policies/partners/fabrikam.yaml:1:1</code>.\n"
)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (0, "**No changes.** The tenant already matches the files."),
        (
            2,
            "**Changes planned.** After merge they are applied from `main` through the `production` environment.",
        ),
        (
            3,
            "**Refused by a safety gate.** Apply would refuse this plan too; see the plan above and "
            "`docs/operations.md` (break-glass).",
        ),
    ],
)
def test_plan_comment_body_is_marker_plan_and_status_with_link(code: int, status: str) -> None:
    body = github.plan_comment_body("contoso", small_plan(), code, run_url="https://gh/run/1")
    assert body == (
        f"{PLAN_MARKER}\n{SMALL_PLAN_MARKDOWN}\n---\n{status} · [Run log and full plan](https://gh/run/1)\n"
    )
    assert github.find_marked_comment([comment(1, body)], PLAN_MARKER) == 1
    assert github.plan_summary("contoso", small_plan(), code, run_url="https://gh/run/1") == body


def test_plan_comment_body_of_a_failed_plan_shows_no_partial_output() -> None:
    expected = f"{PLAN_MARKER}\n### xtap plan — tenant `contoso`\n\n\n---\n**The plan failed.** The run log has the error.\n"
    assert github.plan_comment_body("contoso", None, 1) == expected
    assert github.plan_comment_body("contoso", small_plan(), 1) == expected


def test_plan_comment_body_refuses_an_unknown_exit_code_and_another_tenants_plan() -> None:
    with pytest.raises(XtapError, match=r"^unexpected exit code 5 from xtap plan \(expected 0, 1, 2 or 3\)$"):
        github.plan_comment_body("contoso", None, 5)
    with pytest.raises(XtapError, match=r"^the plan is for tenant 'fabrikam', not 'contoso'$"):
        github.plan_comment_body("contoso", small_plan("fabrikam"), 2)


def test_a_refusal_reads_refused_with_exit_3_and_overridden_when_forced_through() -> None:
    plan = small_plan(refusals=("1 deletion exceeds maxDeletes (0)",))
    assert "**Safety gate refused:** 1 deletion exceeds maxDeletes (0)" in github.plan_comment_body(
        "contoso", plan, 3
    )
    assert "**Safety gate overridden by --force:** 1 deletion" in github.plan_comment_body("contoso", plan, 2)


def test_truncate_markdown_keeps_text_that_fits_and_cuts_on_a_line_boundary() -> None:
    assert markdown.truncate("a\nb\n", 4, "N") == "a\nb\n"
    assert markdown.truncate("line1\nline2\nline3\n", 13, "[cut]") == "line1\n\n[cut]\n"
    assert markdown.truncate("line1\nline2\nline3\n", 12, "[cut]") == "\n[cut]\n"
    assert markdown.truncate("```\ncode\ncode\ncode\n```\n", 20, "[cut]") == "```\ncode\n```\n\n[cut]\n"


# --- the drift issue -----------------------------------------------------------------------------------


def test_drift_issue_action_covers_every_transition() -> None:
    clean, drift = report(), report("partner:1:inboundTrust")
    known = issue(5, github.drift_issue_body("contoso", drift, "r"))
    assert github.drift_issue_action(None, clean) == "none"
    assert github.drift_issue_action(known, clean) == "close"
    assert github.drift_issue_action(None, drift) == "create"
    assert github.drift_issue_action(known, drift) == "update"
    assert github.drift_issue_action(known, report("partner:1:inboundTrust", "partner:2:new")) == "comment"
    assert github.drift_issue_action(known, report("partner:2:new")) == "comment"


def test_information_items_are_not_drift() -> None:
    info_only = report(info=("info:crossCloudMeetingConfiguration",))
    known = issue(5, github.drift_issue_body("contoso", report("p:1"), "r"))
    assert github.drift_item_ids(info_only) == []
    assert github.drift_issue_action(None, info_only) == "none"
    assert github.drift_issue_action(known, info_only) == "close"
    # new information next to known drift is no reason to notify anyone
    assert github.drift_issue_action(known, report("p:1", info=("info:x",))) == "update"


def test_drift_issue_action_follows_the_drift_exit_code_when_given() -> None:
    drift, known = report("p:1"), issue(5, github.drift_issue_body("contoso", report("p:1"), "r"))
    assert github.drift_issue_action(None, drift, drifted=False) == "none"
    assert github.drift_issue_action(known, drift, drifted=False) == "close"
    assert github.drift_issue_action(None, report(), drifted=True) == "create"
    unflagged = {"items": [item("p:1")]}  # no top-level flag: the items decide
    assert github.drift_issue_action(None, unflagged) == "create"


def test_new_drift_ids_are_those_the_issue_body_does_not_record() -> None:
    body = github.drift_issue_body("contoso", report("b", "a"), "report")
    open_issue = issue(5, body)
    assert github.known_drift_ids(open_issue) == frozenset({"a", "b"})
    assert github.new_drift_ids(open_issue, report("c", "a", "d")) == ["c", "d"]
    assert github.new_drift_ids(None, report("x")) == ["x"]
    assert github.known_drift_ids(issue(6, "<!-- xtap-drift-ids: [oops] -->")) == frozenset()


def test_drift_ids_cannot_end_the_hidden_comment_early() -> None:
    hostile = "a --> <script>"
    body = github.drift_issue_body("contoso", report(hostile), "report")
    hidden = body.splitlines()[1]
    assert hidden == '<!-- xtap-drift-ids: ["a --\\u003e \\u003cscript\\u003e"] -->'
    assert github.known_drift_ids(issue(1, body)) == frozenset({hostile})


def test_drift_issue_body_layout() -> None:
    body = github.drift_issue_body(
        "contoso", report("p:2", "p:1", info=("i:1",)), "### xtap drift\n", run_url="https://gh/run/3"
    )
    assert body == (
        f"{DRIFT_MARKER}\n"
        '<!-- xtap-drift-ids: ["p:1", "p:2"] -->\n'
        "### xtap drift\n"
        "\n---\nThe live tenant differs from the files on `main`. This issue is kept up to date by the "
        "`xtap drift` workflow and closed when the tenant is clean again; triage: `docs/operations.md`. "
        "Latest report: [drift run](https://gh/run/3).\n"
    )


def test_drift_comment_lists_the_new_items_messages_escaped() -> None:
    rep = {
        "items": [
            item("p:1", message="inboundTrust.isMfaAccepted of fabrikam.yaml is false live; the file wins"),
            item("p:2", message="partner <b>x</b> | `y` [link](z)"),
        ]
    }
    assert github.drift_comment_body("contoso", rep, ["p:2"], run_url="https://gh/run/4") == (
        "New drift in tenant `contoso` (1 item):\n\n"
        "- **changed** partner &lt;b&gt;x&lt;/b&gt; &#124; &#96;y&#96; &#91;link](z)\n"
        "\nReport: [drift run](https://gh/run/4)\n"
    )
    assert github.drift_comment_body("contoso", rep, ["p:1", "p:2"]).startswith(
        "New drift in tenant `contoso` (2 items):\n\n- **changed** inboundTrust.isMfaAccepted of fabrikam.yaml"
    )


def test_a_report_without_items_is_refused_with_a_clear_message() -> None:
    with pytest.raises(
        XtapError, match=r"^drift report has no 'items' list: is it the JSON output of `xtap drift`\?$"
    ):
        github.drift_issue_action(None, {"summary": {}})
    with pytest.raises(XtapError, match=r"^drift report item 1 has no string 'id'$"):
        github.drift_item_ids({"items": [{"id": "a"}, {"id": 3}]})


def test_find_marked_issue_skips_pull_requests_closed_issues_and_other_tenants() -> None:
    issues = [
        issue(1, f"{DRIFT_MARKER}\n", pull_request={"url": "x"}),
        issue(2, f"{DRIFT_MARKER}\n", state="closed"),
        issue(3, "<!-- xtap-drift:fabrikam -->\n"),
        issue(4, f"{DRIFT_MARKER}\n", HUMAN),
        issue(9, f"{DRIFT_MARKER}\nnewer duplicate"),
        issue(8, f"{DRIFT_MARKER}\nours"),
    ]
    found = github.find_marked_issue(issues, DRIFT_MARKER)
    assert found is not None and found["number"] == 8
    assert github.find_marked_issue(issues[:4], DRIFT_MARKER) is None


# --- apply selection ---------------------------------------------------------------------


def test_tenants_to_apply_takes_changes_and_forced_refusals_only() -> None:
    codes: dict[str, int | None] = {"e": 2, "a": 0, "b": 2, "c": 3, "d": 1, "f": None}
    assert github.tenants_to_apply(codes) == ["b", "e"]
    assert github.tenants_to_apply(codes, force=True) == ["b", "c", "e"]
    assert github.tenants_to_apply({}) == []


# --- xtap github ... --------------------------------------------------------------------------------------


def test_cli_find_comment_prints_the_id_or_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pages = tmp_path / "comments.json"
    pages.write_text(json.dumps([comment(1, "hi", HUMAN)]) + json.dumps([comment(2, f"{PLAN_MARKER}\n")]))
    assert xtap(["github", "find-comment", "--tenant", "contoso", "--comments", str(pages)], monkeypatch) == 0
    assert capsys.readouterr().out == "2\n"
    argv = ["github", "find-comment", "--marker", "<!-- xtap-plan:other -->", "--comments", str(pages)]
    assert xtap(argv, monkeypatch) == 0
    assert capsys.readouterr().out == ""


def test_cli_find_comment_reports_bad_input_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pages = tmp_path / "comments.json"
    pages.write_text("{oops")
    assert xtap(["github", "find-comment", "--tenant", "contoso", "--comments", str(pages)], monkeypatch) == 1
    err = capsys.readouterr().err
    assert (
        err
        == f"xtap: error: {pages}: not a JSON list of GitHub objects: Expecting property name enclosed in double quotes at character 1\n"
    )
    assert xtap(["github", "find-comment", "--comments", str(pages)], monkeypatch) == 1
    assert capsys.readouterr().err == "xtap: error: xtap github find-comment: --tenant is required\n"


def test_cli_plan_comment_and_summary_render_the_saved_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "plan.json").write_text(formats.plan_json(small_plan()))
    out = tmp_path / "comment.md"
    argv = ["--tenant", "contoso", "--plan", str(tmp_path / "plan.json")]
    assert xtap(["github", "plan-comment", *argv, "--exit-code", "2", "--out", str(out)], monkeypatch) == 0
    assert out.read_text() == github.plan_comment_body("contoso", small_plan(), 2)
    assert xtap(["github", "plan-summary", *argv, "--exit-code", "0"], monkeypatch) == 0
    assert capsys.readouterr().out == (
        f"{PLAN_MARKER}\n{SMALL_PLAN_MARKDOWN}\n---\n**No changes.** The tenant already matches the files.\n"
    )
    # A failed plan saved nothing: the file is not read.
    missing = ["--tenant", "contoso", "--plan", str(tmp_path / "none.json"), "--exit-code", "1"]
    assert xtap(["github", "plan-summary", *missing], monkeypatch) == 0
    assert "**The plan failed.**" in capsys.readouterr().out


def test_cli_plan_comment_refuses_what_is_not_a_saved_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "plan.md").write_text("### xtap plan\n")
    argv = ["github", "plan-comment", "--tenant", "contoso", "--plan", str(tmp_path / "plan.md")]
    assert xtap([*argv, "--exit-code", "2"], monkeypatch) == 1
    assert capsys.readouterr().err == (
        f"xtap: error: {tmp_path / 'plan.md'}: not a saved plan (`xtap plan --out FILE` writes one): "
        "Expecting value at line 1\n"
    )


def _drift_files(tmp_path: Path, issues: list[dict[str, Any]], rep: dict[str, Any]) -> list[str]:
    (tmp_path / "issues.json").write_text(json.dumps(issues))
    (tmp_path / "drift.json").write_text(json.dumps(rep))
    (tmp_path / "drift.md").write_text("## report\n")
    return [
        "github",
        "drift-action",
        "--tenant",
        "contoso",
        "--issues",
        str(tmp_path / "issues.json"),
        "--report",
        str(tmp_path / "drift.json"),
        "--markdown",
        str(tmp_path / "drift.md"),
        "--body-out",
        str(tmp_path / "body.md"),
        "--comment-out",
        str(tmp_path / "comment.md"),
        "--run-url",
        "https://gh/run/7",
    ]


def test_cli_drift_action_creates_then_comments_new_drift_then_closes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _drift_files(tmp_path, [], report("p:1"))
    assert xtap([*argv, "--exit-code", "2"], monkeypatch) == 0
    assert capsys.readouterr().out == "action=create\nissue=\ntitle=xtap drift: tenant contoso\n"
    created = (tmp_path / "body.md").read_text()
    assert created == github.drift_issue_body(
        "contoso", report("p:1"), "## report\n", run_url="https://gh/run/7"
    )
    assert not (tmp_path / "comment.md").exists()

    argv = _drift_files(tmp_path, [issue(42, created)], report("p:1", "p:2"))
    assert xtap([*argv, "--exit-code", "2"], monkeypatch) == 0
    assert capsys.readouterr().out == "action=comment\nissue=42\ntitle=xtap drift: tenant contoso\n"
    assert (tmp_path / "comment.md").read_text() == (
        "New drift in tenant `contoso` (1 item):\n\n- **changed** p:2 differs\n\nReport: [drift run](https://gh/run/7)\n"
    )
    updated = (tmp_path / "body.md").read_text()
    assert github.known_drift_ids(issue(42, updated)) == {"p:1", "p:2"}

    argv = _drift_files(tmp_path, [issue(42, updated)], report("p:2", "p:1"))
    assert xtap([*argv, "--exit-code", "2"], monkeypatch) == 0
    assert capsys.readouterr().out.startswith("action=update\nissue=42\n")

    argv = _drift_files(tmp_path, [issue(42, updated)], report())
    assert xtap([*argv, "--exit-code", "0"], monkeypatch) == 0
    assert capsys.readouterr().out.startswith("action=close\nissue=42\n")
    assert (tmp_path / "comment.md").read_text() == (
        "Tenant `contoso` matches the files again ([drift run](https://gh/run/7)); closing."
    )


def test_cli_drift_action_takes_no_decision_on_a_failed_drift_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _drift_files(tmp_path, [issue(42, f"{DRIFT_MARKER}\n")], report())
    assert xtap([*argv, "--exit-code", "1"], monkeypatch) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "xtap: error: xtap drift exited 1: no decision is taken on a failed drift run\n"


def test_cli_apply_tenants_reads_the_plan_artifacts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for tenant, code in {"contoso": "2\n", "fabrikam": "0\n", "tailspin": "3\n", "broken": "x"}.items():
        (tmp_path / f"xtap-plan-{tenant}").mkdir()
        (tmp_path / f"xtap-plan-{tenant}" / "exitcode").write_text(code)
    (tmp_path / "unrelated").mkdir()
    argv = ["github", "apply-tenants", "--plans", str(tmp_path), "--expect", '["contoso","fabrikam","lost"]']
    assert xtap(argv, monkeypatch) == 0
    captured = capsys.readouterr()
    assert captured.out == '["contoso"]\n'
    assert captured.err == (
        "xtap: warning: no plan result for tenant broken; it is not applied\n"
        "xtap: warning: no plan result for tenant lost; it is not applied\n"
    )
    assert xtap([*argv, "--force"], monkeypatch) == 0
    assert capsys.readouterr().out == '["contoso","tailspin"]\n'
    assert xtap(["github", "apply-tenants", "--plans", str(tmp_path / "none")], monkeypatch) == 0
    assert capsys.readouterr().out == "[]\n"


def test_apply_summary_fences_the_output_and_states_the_outcome() -> None:
    out = "Apply: 1 changed.\nVerified: the tenant matches the policy files for everything applied.\n"
    assert github.apply_summary("contoso", 0, out) == (
        "### xtap apply — tenant `contoso`\n\n**Applied.** The tenant matches the files on `main`.\n\n"
        f"```text\n{out}```\n"
    )
    tricky = "a\n```\nb"
    assert github.apply_summary("contoso", 3, tricky).endswith("\n\n````text\na\n```\nb\n````\n")
    assert "**Apply failed** for part of the plan" in github.apply_summary("contoso", 1, "")
    assert "**Apply ended with exit code 7.**" in github.apply_summary("contoso", 7, "")


def test_apply_summary_is_cut_to_the_limit() -> None:
    summary = github.apply_summary("contoso", 0, "x" * 50 + "\n" + "line\n" * 100_000, limit=10_000)
    assert len(summary) <= 10_000
    assert summary.endswith("line\n… (output truncated; the run log has all of it)\n```\n")


def test_cli_apply_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "apply.txt").write_text("Apply: 2 changed.\n")
    argv = ["github", "apply-summary", "--tenant", "contoso", "--exit-code", "0", "--output"]
    assert xtap([*argv, str(tmp_path / "apply.txt")], monkeypatch) == 0
    assert capsys.readouterr().out == github.apply_summary("contoso", 0, "Apply: 2 changed.\n")


def test_workflow_commands_never_reach_a_comment_or_summary() -> None:
    secret = "eyJhbGciOi.fake.jwt"
    raw = f"::add-mask::{secret}\nPlan: 1 to change.\n  ::add-mask::{secret}\n::warning::x\nend\n"
    assert github.strip_workflow_commands(raw) == "Plan: 1 to change.\nend\n"
    assert secret not in github.apply_summary("contoso", 0, raw)
    assert secret not in github.drift_issue_body("contoso", report("a"), raw)
    assert "Plan: 1 to change.\nend\n" in github.apply_summary("contoso", 0, raw)
