"""The plan comment as a reviewer sees it: built by the real workflow path, rendered as GitHub renders it.

`python -m tests.support.comment_png OUT.png` writes the screenshot the README shows
(docs/img/plan-comment.png). `tests/present/test_plan_comment_browser.py` checks the same page.

The pull request: the example tenant of `policies/` has been applied (with prune) to the emulator's demo
tenant, then a change narrows Fabrikam's guest access to one group and Office 365 while opening B2B
direct connect to that group, adds Adatum as a new partner, and deletes Tailspin's file. It goes through
the steps of `.github/workflows/plan.yml`: `xtap plan --format markdown --out plan.json
--detailed-exitcode`, `xtap lint` of the pull request and of its base, `xtap github plan-comment`.

GitHub's rendering is approximated with markdown-it-py (CommonMark + GFM tables, strikethrough and
alerts; raw HTML on, as in comments), ```` ```diff ```` blocks coloured with GitHub's own classes
(`pl-md` deleted, `pl-mi1` inserted), and github-markdown-css (vendored beside this file, MIT) at the
width of a pull-request comment.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.cli.main import main as xtap
from reconciler.emulator import Emulator
from tests.support import REPO, browser
from tests.support.e2e import dump

TENANT = "prod"
RUN_URL = "https://github.com/contoso-it/entra-policies/actions/runs/1"
CSS = Path(__file__).with_name("github-markdown-light.css")
WIDTH = 900  # px: the body of a comment in a pull request's conversation, at GitHub's full-width layout
FABRIKAM_TEAM = "6f546279-4da5-4b53-a095-09ea0cef9971"
ADATUM = "2f6a8c1e-4b3d-4e5f-9a7b-1c2d3e4f5a6b"
ADATUM_PILOT = "7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a"


def _rule(target: str, target_type: str) -> dict[str, Any]:
    return {"accessType": "allowed", "targets": [{"target": target, "targetType": target_type}]}


def change_files(policies: Path) -> None:
    """The pull request's change to the example policies."""
    fabrikam = policies / "partners" / "fabrikam.yaml"
    body = yaml.safe_load(fabrikam.read_text(encoding="utf-8"))
    team_to_office = {
        "usersAndGroups": _rule(FABRIKAM_TEAM, "group"),
        "applications": _rule("Office365", "application"),
    }
    body["b2bCollaborationInbound"] = team_to_office
    body["b2bDirectConnectInbound"] = team_to_office
    fabrikam.write_text(dump(body), encoding="utf-8")
    adatum = {
        "tenantId": ADATUM,
        "description": "Adatum — pilot project, ticket SEC-1610",
        "inboundTrust": {
            "isMfaAccepted": True,
            "isCompliantDeviceAccepted": False,
            "isHybridAzureADJoinedDeviceAccepted": False,
        },
        "b2bCollaborationOutbound": {
            "usersAndGroups": _rule(ADATUM_PILOT, "group"),
            "applications": _rule("AllApplications", "application"),
        },
    }
    (policies / "partners" / "adatum.yaml").write_text(dump(adatum), encoding="utf-8")
    (policies / "partners" / "tailspin.yaml").unlink()


def _checkout(folder: Path, tenant_id: str) -> None:
    """A policies repository: the example files and an `xtap.yaml` that prunes."""
    shutil.copytree(REPO / "policies", folder / "policies")
    (folder / "xtap.yaml").write_text(
        f"tenants:\n  {TENANT}:\n    tenantId: {tenant_id}\n    policies: policies\nprune: true\n",
        encoding="utf-8",
    )


def _run(env: dict[str, str], *argv: str, expect: tuple[int, ...]) -> int:
    """One step of the workflow, its output kept unless it goes wrong."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = xtap(list(argv), env)
    if code not in expect:
        raise RuntimeError(
            f"xtap {' '.join(argv)} exited {code}, expected one of {expect}:\n{out.getvalue()}"
        )
    return code


@dataclass(frozen=True)
class PullRequest:
    comment: str  # what `xtap github plan-comment` wrote
    plan: dict[str, Any]  # the plan it was written from (`xtap plan --out plan.json`)


def pull_request_comment() -> PullRequest:
    """The comment `xtap github plan-comment` writes for the pull request described above."""
    with Emulator(seed="demo") as emu, tempfile.TemporaryDirectory(prefix="xtap-comment-") as tmp:
        env = emu.env(app="writer")
        base, head = Path(tmp) / "base", Path(tmp) / "head"
        _checkout(base, emu.tenant_id)
        _checkout(head, emu.tenant_id)
        change_files(head / "policies")
        # Relative paths, as in the workflow: the comment says `policies/partners/...`, not a temp folder.
        with contextlib.chdir(base):
            _run(env, "apply", "--tenant", TENANT, "--auto-approve", expect=(0,))
            _run(env, "lint", "--tenant", TENANT, "--out", "../lint-base.json", expect=(0, 2))
        with contextlib.chdir(head):
            code = _run(
                env,
                *("plan", "--tenant", TENANT, "--format", "markdown", "--out", "plan.json"),
                "--detailed-exitcode",
                expect=(2, 3),
            )
            _run(env, "lint", "--tenant", TENANT, "--out", "lint.json", expect=(0, 2))
            _run(
                env,
                *("github", "plan-comment", "--tenant", TENANT, "--plan", "plan.json"),
                *("--exit-code", str(code), "--run-url", RUN_URL),
                *("--lint", "lint.json", "--lint-base", "../lint-base.json", "--out", "comment.md"),
                expect=(0,),
            )
            return PullRequest(
                Path("comment.md").read_text(encoding="utf-8"),
                json.loads(Path("plan.json").read_text(encoding="utf-8")),
            )


def _fence(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    """A fenced block as GitHub marks it up; in a `diff` block each `-`/`+` line gets the class GitHub's
    stylesheet colours (`pl-md` deleted, `pl-mi1` inserted)."""
    token = tokens[idx]
    lang = token.info.strip().split(maxsplit=1)[0] if token.info.strip() else ""
    lines = []
    for line in token.content.removesuffix("\n").split("\n"):
        css = {"-": "pl-md", "+": "pl-mi1"}.get(line[:1]) if lang == "diff" else None
        text = html.escape(line, quote=False)
        lines.append(f'<span class="{css}">{text}</span>' if css else text)
    body = "\n".join(lines)
    if not lang:
        return f"<pre><code>{body}</code></pre>\n"
    return f'<div class="highlight highlight-source-{html.escape(lang)}"><pre>{body}</pre></div>\n'


def render(markdown: str) -> str:
    """`markdown` as the HTML of a GitHub comment body: CommonMark, GFM tables, strikethrough and alerts,
    raw HTML passed through (`<details>`, `<code>`)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True, "alerts": True}).enable(["table", "strikethrough"])
    md.add_render_rule("fence", _fence)
    return md.render(markdown)


def to_html(markdown: str) -> str:
    """A page holding `markdown` rendered as a GitHub comment body, at the width of one."""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>xtap plan comment</title>\n'
        f"<style>\n{CSS.read_text(encoding='utf-8')}\n</style>\n"
        f"<style>body {{ margin: 0; background: #fff; }} "
        f".markdown-body {{ box-sizing: border-box; width: {WIDTH}px; padding: 16px; }}</style>\n"
        f'</head><body><article class="markdown-body">\n{render(markdown)}</article></body></html>\n'
    )


def show(tab: Any, markdown: str, folder: Path) -> None:
    """Open `markdown`, rendered, in the browser tab `tab`, every `<details>` open."""
    page = folder / "comment.html"
    page.write_text(to_html(markdown), encoding="utf-8")
    tab.goto(page.as_uri())
    tab.eval_on_selector_all("details", "all => all.forEach(d => { d.open = true; })")


def screenshot(markdown: str, png: Path) -> None:
    """The rendered comment, cropped to the comment."""
    with tempfile.TemporaryDirectory(prefix="xtap-comment-") as tmp, browser.page() as tab:
        show(tab, markdown, Path(tmp))
        tab.locator("article.markdown-body").screenshot(path=str(png))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m tests.support.comment_png OUT.png")
    screenshot(pull_request_comment().comment, Path(sys.argv[1]))
