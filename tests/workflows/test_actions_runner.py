"""The Actions runner stand-in (tests/support/actions_runner.py) does what GitHub does for the forms our
workflows use: if it evaluated a condition or an output wrongly, the workflow tests would prove nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.support.actions_runner import FAKE_GH, FakeGitHub, evaluate, interpolate, job_runs


def test_expressions_compare_combine_and_negate() -> None:
    ctx = {"github": {"event_name": "pull_request", "ref": "refs/heads/main"}, "steps": {}}
    assert evaluate("${{ github.event_name == 'pull_request' }}", ctx) is True
    assert evaluate("github.event_name != 'pull_request'", ctx) is False
    assert evaluate("github.event_name == 'push' || github.ref == 'refs/heads/main'", ctx) is True
    assert evaluate("github.event_name == 'pull_request' && !(github.ref == 'refs/heads/main')", ctx) is False
    assert evaluate("always() && !cancelled()", ctx) is True
    assert evaluate("failure()", ctx) is False
    # An unknown context value reads as the empty string, as on GitHub.
    assert evaluate("steps.plan.outputs.code == ''", ctx) is True


def test_interpolation_writes_booleans_as_github_does() -> None:
    ctx = {"matrix": {"tenant": "prod"}, "vars": {"FLAG": True}}
    assert interpolate("xtap-plan-${{ matrix.tenant }}", ctx) == "xtap-plan-prod"
    assert interpolate("${{ matrix.tenant == 'prod' }}/${{ vars.FLAG }}", ctx) == "true/true"
    assert interpolate("${{ vars.MISSING }}", ctx) == ""


def test_a_job_needs_every_needed_job_to_succeed_unless_its_condition_says_otherwise() -> None:
    ctx = {"needs": {"plan": {"result": "failure"}}}
    assert job_runs({"needs": "plan"}, ctx) is False
    assert job_runs({"needs": ["plan"], "if": "always()"}, ctx) is True
    assert job_runs({"needs": ["plan"], "if": "failure()"}, ctx) is False  # failure() is never true here
    assert job_runs({"needs": ["plan"]}, {"needs": {"plan": {"result": "success"}}}) is True
    assert (
        job_runs({"if": "github.event_name == 'push'"}, {"github": {"event_name": "pull_request"}}) is False
    )


@pytest.fixture
def world(tmp_path: Path) -> FakeGitHub:
    oidc = SimpleNamespace(subject="", env=lambda: {})
    graph = SimpleNamespace(url="https://127.0.0.1:1", ca_file=tmp_path / "ca.pem")
    return FakeGitHub(tmp_path, graph, oidc, {"NAME": "from-vars"}, {})


def ctx(world: FakeGitHub) -> dict[str, Any]:
    return {"github": world.github_context("push")}


def test_steps_outputs_conditions_and_failure_flow_as_on_github(world: FakeGitHub) -> None:
    workflow = {
        "jobs": {
            "demo": {
                "outputs": {"answer": "${{ steps.first.outputs.value }}"},
                "steps": [
                    {
                        "id": "first",
                        "run": 'echo "value=${NAME}-42" >> "$GITHUB_OUTPUT"',
                        "env": {"NAME": "${{ vars.NAME }}"},
                    },
                    {"name": "seen", "if": "steps.first.outputs.value == 'from-vars-42'", "run": "echo seen"},
                    {"name": "skipped", "if": "steps.first.outputs.value == 'other'", "run": "echo never"},
                    {"name": "fails", "run": "false; echo unreachable"},
                    {"name": "after-failure", "run": "echo not run"},
                    {
                        "name": "always",
                        "if": "always()",
                        "run": 'echo "summary line" >> "$GITHUB_STEP_SUMMARY"',
                    },
                ],
            }
        }
    }
    run = world.run_job(workflow, "demo", ctx(world))
    assert run.result == "failure"
    assert run.outputs == {"answer": "from-vars-42"}
    assert [entry.split("\n", 1)[0] for entry in run.log] == [
        "--- first (exit 0)",
        "--- seen (exit 0)",
        "--- fails (exit 1)",
        "--- always (exit 0)",
    ]
    assert "unreachable" not in "".join(run.log)
    assert run.summary == "summary line\n"


def test_a_skipped_job_runs_nothing(world: FakeGitHub) -> None:
    workflow = {"jobs": {"demo": {"if": "github.event_name == 'schedule'", "steps": [{"run": "exit 1"}]}}}
    run = world.run_job(workflow, "demo", ctx(world))
    assert (run.result, run.log) == ("skipped", [])


def test_artifacts_go_from_one_job_to_another(world: FakeGitHub) -> None:
    upload = {
        "jobs": {
            "up": {
                "steps": [
                    {"run": "echo 2 > exitcode"},
                    {
                        "uses": "actions/upload-artifact@x",
                        "with": {"name": "plan-${{ matrix.tenant }}", "path": "exitcode"},
                    },
                ]
            }
        }
    }
    download = {
        "jobs": {
            "down": {
                "steps": [
                    {"uses": "actions/download-artifact@x", "with": {"pattern": "plan-*", "path": "plans"}},
                    {"id": "read", "run": 'echo "code=$(cat plans/plan-prod/exitcode)" >> "$GITHUB_OUTPUT"'},
                ],
                "outputs": {"code": "${{ steps.read.outputs.code }}"},
            }
        }
    }
    assert world.run_job(upload, "up", ctx(world), {"tenant": "prod"}).result == "success"
    assert world.run_job(download, "down", ctx(world)).outputs == {"code": "2"}


def test_the_fake_gh_pages_like_gh_api_paginate(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    bot = {"login": "github-actions[bot]"}
    comments = [{"id": i, "issue": 7, "body": f"c{i}", "user": bot} for i in range(1, 6)]
    state.write_text(json.dumps({"comments": comments, "issues": [], "calls": [], "next_id": 10}))
    gh = tmp_path / "gh.py"
    gh.write_text(FAKE_GH)
    out = subprocess.run(
        [sys.executable, str(gh), "api", "--paginate", "repos/o/r/issues/7/comments"],
        env={"FAKE_GH_STATE": str(state)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # Three pages of at most two, back to back, as `gh api --paginate` prints them.
    assert out == json.dumps(comments[:2]) + json.dumps(comments[2:4]) + json.dumps(comments[4:])
    assert json.loads(state.read_text())["calls"] == [["api", "--paginate", "repos/o/r/issues/7/comments"]]
