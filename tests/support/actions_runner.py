"""A stand-in for the GitHub Actions runner, to run xtap's own workflow files end to end in tests.

Each job's steps run as GitHub runs them (`bash --noprofile --norc -eo pipefail`), with `${{ }}`
expressions, step outputs, `if:` conditions and job outputs evaluated for the forms these workflows use.
`uses:` steps are stood in for: checkout (a fresh copy of the repository per job; one with `path:`
copies the pull request's base there), setup-python (this interpreter), upload/download-artifact (a
folder), upload-sarif (kept by category, as code scanning would). Every GitHub API call goes to a fake
`gh` that keeps comments and issues in a JSON file. Tokens come from a stand-in of the Actions OIDC endpoint whose
subject is what GitHub would put in it for that job, and the emulator checks it against the federated
credentials of docs/setup.md: the workflows only work if the documented subjects are right.

Its own behaviour is tested in tests/workflows/test_actions_runner.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.emulator import App
from tests.support import REPO

ROOT = REPO
WORKFLOWS = ROOT / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
PRODUCTION = "production"

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


def jobs(wf: Workflow) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = wf["jobs"]
    return result


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = job.get("steps", [])
    return result


def environment(job: dict[str, Any]) -> str | None:
    env = job.get("environment")
    if isinstance(env, dict):
        env = env.get("name")
    return env if isinstance(env, str) else None


def _needs(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


ORG_REPO = "contoso/policies"
SUBJECTS = {
    "pull_request": f"repo:{ORG_REPO}:pull_request",
    "main": f"repo:{ORG_REPO}:ref:refs/heads/main",
    "production": f"repo:{ORG_REPO}:environment:production",
}
FABRIKAM = "90e29127-71ad-49c7-9ce8-db3f41ea06f1"
PARTNER_FILE = f"""\
tenantId: {FABRIKAM}
description: Fabrikam — joint venture
inboundTrust:
  isMfaAccepted: true
  isCompliantDeviceAccepted: false
  isHybridAzureADJoinedDeviceAccepted: false
automaticUserConsentSettings: {{inboundAllowed: true, outboundAllowed: true}}
"""

FAKE_GH = r"""
import json, os, re, sys
from urllib.parse import parse_qs

path = os.environ["FAKE_GH_STATE"]
with open(path) as f:
    state = json.load(f)
args = sys.argv[1:]
state["calls"].append(args)
BOT = {"login": "github-actions[bot]", "type": "Bot"}


def read(name):
    with open(name) as f:
        return f.read()


def option(name):
    return args[args.index(name) + 1] if name in args else None


def new_id():
    state["next_id"] += 1
    return state["next_id"]


def page(items):
    # like `gh api --paginate`: one JSON array per page of 2, back to back
    pages = [items[i:i + 2] for i in range(0, len(items), 2)] or [[]]
    sys.stdout.write("".join(json.dumps(p) for p in pages))


if args[0] == "api":
    method = option("--method") or "GET"
    url = next(a for i, a in enumerate(args[1:], 1)
               if not a.startswith("-") and args[i - 1] not in ("--method", "--jq", "-F"))
    route, _, query = url.partition("?")
    field = option("-F")
    body = read(field.split("=@", 1)[1]) if field else None
    if route.endswith("/commits/main"):
        print(state["main_sha"])
    elif m := re.fullmatch(r"repos/[^/]+/[^/]+/issues/(\d+)/comments", route):
        if method == "GET":
            page([c for c in state["comments"] if c["issue"] == int(m.group(1))])
        else:
            assert method == "POST", method
            state["comments"].append({"id": new_id(), "issue": int(m.group(1)), "body": body, "user": BOT})
    elif m := re.fullmatch(r"repos/[^/]+/[^/]+/issues/comments/(\d+)", route):
        assert method == "PATCH", method
        comment = next(c for c in state["comments"] if c["id"] == int(m.group(1)))
        comment["body"] = body
    elif re.fullmatch(r"repos/[^/]+/[^/]+/issues", route):
        q = parse_qs(query)
        page([i for i in state["issues"] if i["state"] == q["state"][0]
              and q["labels"][0] in [label["name"] for label in i["labels"]]])
    else:
        sys.exit(f"fake gh: no route for {url}")
elif args[0] == "label":
    state["labels"].append(args[2])
elif args[:2] == ["issue", "create"]:
    state["issues"].append({"number": new_id(), "title": option("--title"), "state": "open",
                            "labels": [{"name": option("--label")}], "body": read(option("--body-file")),
                            "user": BOT})
elif args[:2] == ["issue", "edit"]:
    next(i for i in state["issues"] if i["number"] == int(args[2]))["body"] = read(option("--body-file"))
elif args[:2] == ["issue", "comment"]:
    state["comments"].append({"id": new_id(), "issue": int(args[2]), "body": read(option("--body-file")),
                              "user": BOT})
elif args[:2] == ["issue", "close"]:
    next(i for i in state["issues"] if i["number"] == int(args[2]))["state"] = "closed"
else:
    sys.exit(f"fake gh: unexpected {args}")
with open(path, "w") as f:
    json.dump(state, f)
"""

_TOKEN = re.compile(r"'[^']*'|&&|\|\||==|!=|!|\(|\)|[A-Za-z_][\w.-]*(?:\(\))?|\S")


def _lookup(ctx: dict[str, Any], dotted: str) -> Any:
    node: Any = ctx
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return "" if node is None else node


def evaluate(expr: str, ctx: dict[str, Any]) -> Any:
    """A GitHub expression of the forms these workflows use (comparisons, &&, ||, !, status functions)."""
    expr = expr.strip()
    if expr.startswith("${{") and expr.endswith("}}"):
        expr = expr[3:-2].strip()
    out = []
    for tok in _TOKEN.findall(expr):
        if tok.startswith("'"):
            out.append(repr(tok[1:-1]))
        elif tok in ("&&", "||", "!"):
            out.append({"&&": " and ", "||": " or ", "!": " not "}[tok])
        elif tok in ("==", "!=", "(", ")"):
            out.append(tok)
        elif tok in ("cancelled()", "failure()"):
            out.append("False")
        elif tok in ("always()", "success()", "true", "false"):
            out.append(str(tok != "false"))
        else:
            value = _lookup(ctx, tok)
            out.append(repr(value if not isinstance(value, bool) else str(value).lower()))
    return eval("".join(out), {"__builtins__": {}})


def interpolate(text: Any, ctx: dict[str, Any]) -> str:
    def one(match: re.Match[str]) -> str:
        value = evaluate(match.group(1), ctx)
        return str(value).lower() if isinstance(value, bool) else str(value)

    return re.sub(r"\$\{\{(.*?)\}\}", one, str(text))


def job_runs(job: dict[str, Any], ctx: dict[str, Any]) -> bool:
    """A job's `if:`; without a status function GitHub implies success(): every needed job succeeded."""
    cond = str(job.get("if", ""))
    if not any(f in cond for f in ("cancelled()", "always()", "failure()")):
        needed = ctx.get("needs", {})
        if any(needed.get(n, {}).get("result") != "success" for n in _needs(job)):
            return False
    return not cond or bool(evaluate(cond, ctx))


class FakeGitHub:
    """The world around a workflow run: repository files, GitHub's API state, artifacts, identities."""

    def __init__(
        self, root: Path, emu: Any, oidc: Any, vars_: dict[str, str], env_vars: dict[str, str]
    ) -> None:
        self.root, self.emu, self.oidc = root, emu, oidc
        # Several tenants (xtap.yaml): one emulator per tenant, as each emulator serves one tenant.
        self.tenant_emus: dict[str, Any] = {}
        self.apps: tuple[App, ...] = ()
        self.vars, self.env_vars = vars_, env_vars  # env_vars: variables of the production environment
        self.repo = root / "repo"
        # The base branch of the pull request (a checkout with `path:` and `ref:` gets it); None: the same
        # files as the pull request.
        self.base: Path | None = None
        # What upload-sarif sent to code scanning: category → the SARIF file's text.
        self.code_scanning: dict[str, str] = {}
        (self.repo / "policies" / "partners").mkdir(parents=True)
        (self.repo / "policies" / "partners" / "fabrikam.yaml").write_text(PARTNER_FILE)
        self.artifacts = root / "artifacts"
        self.artifacts.mkdir()
        self.bin = root / "bin"
        self.bin.mkdir()
        (self.bin / "gh").write_text(f"#!{sys.executable}\n{FAKE_GH}")
        (self.bin / "xtap").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m reconciler "$@"\n')
        for tool in ("gh", "xtap"):
            (self.bin / tool).chmod(0o755)
        self.state_file = root / "github.json"
        self.sha = "1" * 40
        self.save(
            {"main_sha": self.sha, "comments": [], "issues": [], "labels": [], "calls": [], "next_id": 100}
        )
        self.runs = 0

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.state_file.read_text())
        return result

    def save(self, state: dict[str, Any]) -> None:
        self.state_file.write_text(json.dumps(state))

    def github_context(self, event: str, **extra: Any) -> dict[str, Any]:
        ref = "refs/pull/7/merge" if event == "pull_request" else "refs/heads/main"
        pr = {"number": 7, "head": {"repo": {"full_name": ORG_REPO}}}
        return {
            "event_name": event,
            "repository": ORG_REPO,
            "ref": ref,
            "sha": self.sha,
            "server_url": "https://github.com",
            "run_id": "4242",
            "token": "ghs_fake_token",
            "workflow": event,
            "event": {"pull_request": pr} if event == "pull_request" else {},
        } | extra

    def run_job(
        self,
        workflow: str | Workflow,
        job_id: str,
        ctx: dict[str, Any],
        matrix: dict[str, str] | None = None,
    ) -> JobRun:
        """Run one job of a shipped workflow (by file name) or of a workflow given as data."""
        job = jobs(workflows()[workflow] if isinstance(workflow, str) else workflow)[job_id]
        in_production = environment(job) == PRODUCTION
        ctx = {
            **ctx,
            "matrix": matrix or {},
            "steps": {},
            "vars": self.vars | (self.env_vars if in_production else {}),
        }
        if not job_runs(job, ctx):
            return JobRun(job_id, "skipped", {}, "", [])
        self.runs += 1
        work = self.root / f"run{self.runs}-{job_id}"
        shutil.copytree(self.repo, work)
        # What GitHub puts in the OIDC token's subject for this job (docs/setup.md, federated credentials).
        event = ctx["github"]["event_name"]
        self.oidc.subject = SUBJECTS[
            "production" if in_production else "pull_request" if event == "pull_request" else "main"
        ]
        summary = work / "_summary.md"
        summary.touch()
        emu = self.tenant_emus.get(ctx["matrix"].get("tenant", ""), self.emu)
        base = {
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "HOME": str(self.root),
            "PYTHONPATH": str(ROOT / "src"),
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": ORG_REPO,
            "GITHUB_SHA": self.sha,
            "GITHUB_STEP_SUMMARY": str(summary),
            "FAKE_GH_STATE": str(self.state_file),
            "XTAP_GRAPH_URL": emu.url,
            "AZURE_AUTHORITY_HOST": emu.url,
            "SSL_CERT_FILE": str(emu.ca_file),
            **self.oidc.env(),
        }
        job_env = {k: interpolate(v, ctx) for k, v in job.get("env", {}).items()}
        failed, log = False, []
        for n, step in enumerate(steps(job)):
            cond = str(step.get("if", ""))
            if not any(f in cond for f in ("cancelled()", "always()", "failure()")) and failed:
                continue
            if cond and not evaluate(cond, ctx):
                continue
            if "uses" in step:
                self._action(step, ctx, work)
                continue
            if "pip install" in str(step["run"]):
                continue  # xtap runs from this checkout's src/ through the shim
            output = work / f"_output{n}"
            output.touch()
            script = work / f"_step{n}.sh"
            script.write_text(str(step["run"]))
            env = base | job_env | {k: interpolate(v, ctx) for k, v in step.get("env", {}).items()}
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                cwd=work,
                env=env | {"GITHUB_OUTPUT": str(output)},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            log.append(
                f"--- {step.get('name', step.get('id', n))} (exit {proc.returncode})\n{proc.stdout}{proc.stderr}"
            )
            outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
            if "id" in step:
                ctx["steps"][step["id"]] = {"outputs": outputs}
            failed = failed or proc.returncode != 0
        job_outputs = {k: interpolate(v, ctx) for k, v in job.get("outputs", {}).items()}
        return JobRun(job_id, "failure" if failed else "success", job_outputs, summary.read_text(), log)

    def _action(self, step: dict[str, Any], ctx: dict[str, Any], work: Path) -> None:
        uses, given = str(step["uses"]), step.get("with", {})
        if uses.startswith("actions/checkout@") and "path" in given:  # a second checkout, beside the first
            shutil.copytree(self.base or self.repo, work / interpolate(given["path"], ctx))
        elif uses.startswith("github/codeql-action/upload-sarif@"):
            category = interpolate(given.get("category", ""), ctx)
            self.code_scanning[category] = (work / interpolate(given["sarif_file"], ctx)).read_text()
        elif uses.startswith("actions/upload-artifact@"):
            target = self.artifacts / interpolate(given["name"], ctx)
            target.mkdir(exist_ok=True)
            for name in str(given["path"]).split():
                if (work / name).exists():
                    shutil.copy(work / name, target / name)
        elif uses.startswith("actions/download-artifact@"):
            dest = work / given["path"]
            if "name" in given:
                shutil.copytree(self.artifacts / interpolate(given["name"], ctx), dest)
            else:
                prefix = str(given["pattern"]).rstrip("*")
                for folder in self.artifacts.glob(prefix + "*"):
                    shutil.copytree(folder, dest / folder.name)


@dataclass
class JobRun:
    job: str
    result: str
    outputs: dict[str, str]
    summary: str
    log: list[str]

    def __str__(self) -> str:
        return f"{self.job}: {self.result}\n" + "\n".join(self.log)
