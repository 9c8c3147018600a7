"""The decisions behind xtap's GitHub workflow steps, as pure functions over GitHub's JSON.

The workflows talk to GitHub with the `gh` CLI only; everything that needs judgement — which comment or
issue is ours, whether drift is new, what a body says, which tenants an apply run touches — lives here,
so it is unit-tested instead of hidden in shell.

Shapes are those of the GitHub REST API (`gh api`): a comment or issue has `id`/`number`, `body` and
`user.login`. `gh issue list --json` (GraphQL) shapes with `author.login` are accepted as well.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from reconciler.core.errors import XtapError
from reconciler.core.plan import Plan
from reconciler.present import markdown
from reconciler.present.markdown import BODY_LIMIT, check_tenant_name, escape, fence, truncate
from reconciler.present.plan_markdown import render_markdown

# The account GITHUB_TOKEN writes as. A workflow that posts with a GitHub App token passes that app's
# `<slug>[bot]` login instead (--author).
DEFAULT_AUTHOR = "github-actions[bot]"
# A step summary may hold 1 MiB; stay well below so one oversized plan cannot drop the rest.
SUMMARY_LIMIT = 1_000_000
DRIFT_LABEL = "xtap-drift"
PLAN_ARTIFACT_PREFIX = "xtap-plan-"

DriftAction = Literal["create", "comment", "update", "close", "none"]

_DRIFT_IDS = re.compile(r"<!-- xtap-drift-ids: (\[.*?\]) -->")

_PLAN_STATUS = {
    0: "**No changes.** The tenant already matches the files.",
    2: "**Changes planned.** After merge they are applied from `main` through the `production` environment.",
    3: "**Refused by a safety gate.** Apply would refuse this plan too; see the plan above and "
    "`docs/operations.md` (break-glass).",
    1: "**The plan failed.** The run log has the error.",
}


def plan_marker(tenant: str) -> str:
    """The hidden first line of the plan comment of `tenant` on a pull request."""
    return markdown.marker("plan", tenant)


def drift_marker(tenant: str) -> str:
    """The hidden first line of the drift issue of `tenant`."""
    return markdown.marker("drift", tenant)


def drift_issue_title(tenant: str) -> str:
    return f"xtap drift: tenant {check_tenant_name(tenant)}"


def parse_pages(text: str) -> list[dict[str, Any]]:
    """Objects of a `gh api --paginate` answer.

    `gh api --paginate` prints each page's JSON array back to back (`[...][...]`), `--slurp` wraps the
    pages in one outer array, and a single page is a plain array; all three are accepted.
    """
    decoder = json.JSONDecoder()
    items: list[dict[str, Any]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise XtapError(f"not a JSON list of GitHub objects: {exc.msg} at character {exc.pos}") from exc
        items.extend(_flatten_page(value))
        pos = end
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return items


def _flatten_page(value: object) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise XtapError(f"not a JSON list of GitHub objects: found {type(value).__name__}")
    items: list[dict[str, Any]] = []
    for element in value:
        if isinstance(element, list):  # --slurp: a list of pages
            items.extend(_flatten_page(element))
        elif isinstance(element, dict):
            items.append(element)
        else:
            raise XtapError(f"not a JSON list of GitHub objects: found {type(element).__name__} in the list")
    return items


def strip_workflow_commands(text: str) -> str:
    """`text` without the lines that are workflow commands (`::add-mask::…`, `::error::…`).

    xtap registers every token it obtains with `::add-mask::TOKEN` on standard error. That masks the
    token in the run log, but a step that captures both streams into a file (`2>&1` into apply.txt) would
    carry the token itself into a comment, summary or artifact, so those lines never go further.
    """
    return "".join(line for line in text.splitlines(keepends=True) if not line.lstrip().startswith("::"))


def author_login(item: Mapping[str, Any]) -> str | None:
    """The login of who wrote a comment or issue (REST `user`, GraphQL `author`)."""
    for key in ("user", "author"):
        who = item.get(key)
        if isinstance(who, Mapping) and isinstance(who.get("login"), str):
            login: str = who["login"]
            return login
    return None


def _is_marked(item: Mapping[str, Any], marker: str, author: str) -> bool:
    body = item.get("body")
    # The marker must open the body: a human quoting an xtap comment does not make their comment ours,
    # and only the bot's own comments are ever edited.
    return isinstance(body, str) and body.lstrip().startswith(marker) and _same_login(item, author)


def _same_login(item: Mapping[str, Any], author: str) -> bool:
    login = author_login(item)
    if login is None:
        return False
    # GraphQL (`gh issue list`) names the Actions bot `app/github-actions`, REST `github-actions[bot]`.
    return _normal_login(login) == _normal_login(author)


def _normal_login(login: str) -> str:
    login = login.lower()
    login = login.removeprefix("app/")
    return login.removesuffix("[bot]")


def find_marked_comment(
    comments: Sequence[Mapping[str, Any]], marker: str, *, author: str = DEFAULT_AUTHOR
) -> int | None:
    """The id of the oldest comment by `author` whose body starts with `marker`, else None."""
    ids = [c["id"] for c in comments if _is_marked(c, marker, author) and isinstance(c.get("id"), int)]
    return min(ids) if ids else None


def find_marked_issue(
    issues: Sequence[Mapping[str, Any]], marker: str, *, author: str = DEFAULT_AUTHOR
) -> dict[str, Any] | None:
    """The oldest open issue (not pull request) by `author` whose body starts with `marker`, else None."""
    found = [
        dict(i)
        for i in issues
        if "pull_request" not in i  # the REST issues list also returns pull requests
        and str(i.get("state", "open")).lower() == "open"
        and isinstance(i.get("number"), int)
        and _is_marked(i, marker, author)
    ]
    return min(found, key=lambda i: int(i["number"])) if found else None


def plan_comment_body(
    tenant: str,
    plan: Plan | None,
    exit_code: int,
    *,
    run_url: str | None = None,
    limit: int = BODY_LIMIT,
    posture: str = "",
) -> str:
    """The plan comment of `tenant`: marker, the plan, what the exit code means for the pull request.

    `plan` is the plan `xtap plan --out` saved (None, or ignored, when the plan failed: exit 1). It is
    rendered to fit `limit`: every change is listed; detail that does not fit points at the job summary
    and the artifact, which hold all of it.
    """
    where = f"the job summary and the `{PLAN_ARTIFACT_PREFIX}{tenant}` artifact" + (
        f" of [this run]({run_url})" if run_url else ""
    )
    return _plan_body(tenant, plan, exit_code, run_url=run_url, limit=limit, elsewhere=where, posture=posture)


def plan_summary(
    tenant: str, plan: Plan | None, exit_code: int, *, run_url: str | None = None, limit: int = SUMMARY_LIMIT
) -> str:
    """The job summary of `tenant`'s plan: the same as the comment, with room for every change in full."""
    where = f"the `{PLAN_ARTIFACT_PREFIX}{tenant}` artifact (`plan.json`)"
    return _plan_body(tenant, plan, exit_code, run_url=run_url, limit=limit, elsewhere=where)


def _plan_body(
    tenant: str,
    plan: Plan | None,
    exit_code: int,
    *,
    run_url: str | None,
    limit: int,
    elsewhere: str,
    posture: str = "",
) -> str:
    if exit_code not in _PLAN_STATUS:
        raise XtapError(f"unexpected exit code {exit_code} from xtap plan (expected 0, 1, 2 or 3)")
    marker = plan_marker(tenant)
    head = f"{marker}\n"
    link = f" · [Run log and full plan]({run_url})" if run_url else ""
    foot = f"{posture}\n---\n{_PLAN_STATUS[exit_code]}{link}\n"
    if plan is None or exit_code == 1:  # a failed plan shows nothing that could be half of one
        return f"{head}### xtap plan — tenant {fence(tenant)}\n\n{foot}"
    if plan.tenant_name != tenant:
        raise XtapError(f"the plan is for tenant {plan.tenant_name!r}, not {tenant!r}")
    # A plan that passed its gates only with --force says so (the saved plan keeps the refusals).
    plan = dataclasses.replace(plan, forced=bool(plan.refusals) and exit_code != 3)
    budget = limit - len(head) - len(foot)
    if budget < 1024:
        raise XtapError(f"limit {limit} is too small for the plan comment")
    body = render_markdown(plan, limit=budget, elsewhere=elsewhere, stated_limit=limit)
    return head + _without_line(body, marker) + foot


def _without_line(markdown: str, line: str) -> str:
    """`markdown` without a first line equal to `line` (the renderer's copy of our marker)."""
    first, sep, rest = markdown.partition("\n")
    return rest if first.strip() == line and sep else markdown


# --- posture (xtap lint) in the plan comment ------------------------------------------------------------

POSTURE_LINES = 5  # findings listed by name; the rest are counted (code scanning lists them all)


def _findings(report: Mapping[str, Any], origin: str) -> list[Mapping[str, Any]]:
    """The findings of an `xtap lint --format json` report (format_version 1)."""
    items = report.get("findings")
    if report.get("format_version") != 1 or not isinstance(items, list):
        raise XtapError(f"{origin}: not an xtap lint report (`xtap lint --format json` writes one)")
    if not all(isinstance(i, Mapping) and isinstance(i.get("fingerprint"), str) for i in items):
        raise XtapError(f"{origin}: a finding without a fingerprint")
    return items


def posture_section(
    report: Mapping[str, Any], base: Mapping[str, Any] | None, *, origin: str = "lint report"
) -> str:
    """A few lines for the plan comment: the findings this pull request brings (not in its base's lint
    report, by fingerprint), unsuppressed; every one of them when there is no base report."""
    found = [f for f in _findings(report, origin) if not f.get("suppressed")]
    known = {f["fingerprint"] for f in _findings(base, "base lint report")} if base is not None else set()
    new = [f for f in found if f["fingerprint"] not in known]
    total = f"{len(found)} in all" + (
        f", {n} suppressed" if (n := len(_findings(report, origin)) - len(found)) else ""
    )
    head = "\n#### Posture (`xtap lint`)\n\n"
    if not new:
        return f"{head}No new finding ({total}).\n"
    word = "finding" if len(new) == 1 else "findings"
    lines = [
        f"**{len(new)} new {word}** in this pull request ({total}); code scanning marks them on the files:",
        "",
    ]
    for item in new[:POSTURE_LINES]:
        where = f" — {markdown.code(str(item.get('where', '')))}" if item.get("where") else ""
        level, rule = escape(str(item.get("level", ""))), escape(str(item.get("ruleId", "")))
        lines.append(f"- **{level}** {rule} {escape(str(item.get('message', '')))}{where}")
    if len(new) > POSTURE_LINES:
        lines.append(f"- … and {len(new) - POSTURE_LINES} more.")
    return head + "\n".join(lines) + "\n"


# --- drift ---------------------------------------------------------------------------------------------


def drift_item_ids(report: Mapping[str, Any]) -> list[str]:
    """The stable ids of the drift items of an `xtap drift --format json` report, in report order.

    Information items (`"drift": false`: unknown properties, partners xtap never deletes) are listed in
    the report but are not drift, so they neither open an issue nor count as new drift.
    """
    items = report.get("items")
    if not isinstance(items, list):
        raise XtapError("drift report has no 'items' list: is it the JSON output of `xtap drift`?")
    ids: list[str] = []
    for n, item in enumerate(items):
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise XtapError(f"drift report item {n} has no string 'id'")
        if item.get("drift", True) is not False:
            ids.append(item["id"])
    return ids


def known_drift_ids(issue: Mapping[str, Any] | None) -> frozenset[str]:
    """The drift ids recorded in the hidden line of an open drift issue (empty if none)."""
    if issue is None:
        return frozenset()
    match = _DRIFT_IDS.search(str(issue.get("body") or ""))
    if match is None:
        return frozenset()
    try:
        ids = json.loads(match.group(1))
    except json.JSONDecodeError:
        return frozenset()  # a hand-edited line: treat everything as new rather than fail the run
    return frozenset(i for i in ids if isinstance(i, str)) if isinstance(ids, list) else frozenset()


def new_drift_ids(open_issue: Mapping[str, Any] | None, report: Mapping[str, Any]) -> list[str]:
    """Ids in `report` that the open issue does not know yet, in report order."""
    known = known_drift_ids(open_issue)
    return [i for i in drift_item_ids(report) if i not in known]


def drift_issue_action(
    open_issue: Mapping[str, Any] | None, report: Mapping[str, Any], *, drifted: bool | None = None
) -> DriftAction:
    """What the drift issue of one tenant needs after a drift run.

    `drifted` is the verdict of `xtap drift` (exit code 2); when None, the report's own `drift` flag, or
    else whether it has drift items. Known drift only refreshes the issue body; a comment (which notifies
    subscribers) is for new drift.
    """
    ids = drift_item_ids(report)
    if drifted is None:
        flag = report.get("drift")
        drifted = flag if isinstance(flag, bool) else bool(ids)
    if not drifted:
        return "close" if open_issue is not None else "none"
    if open_issue is None:
        return "create"
    return "comment" if new_drift_ids(open_issue, report) else "update"


def _ids_line(ids: Iterable[str]) -> str:
    # JSON inside an HTML comment: escaping '<' and '>' keeps an id from ending the comment early.
    data = json.dumps(sorted(set(ids)), ensure_ascii=True).replace("<", "\\u003c").replace(">", "\\u003e")
    return f"<!-- xtap-drift-ids: {data} -->"


def drift_issue_body(
    tenant: str,
    report: Mapping[str, Any],
    report_markdown: str,
    *,
    run_url: str | None = None,
    limit: int = BODY_LIMIT,
) -> str:
    """The body of `tenant`'s drift issue: marker, the ids it knows, the latest report."""
    ids = drift_item_ids(report)
    # The report's Markdown brings its own heading and summary line; ours adds what the workflow needs.
    marker = drift_marker(tenant)
    head = f"{marker}\n{_ids_line(ids)}\n"
    report_markdown = _without_line(strip_workflow_commands(report_markdown), marker)
    run = f" Latest report: [drift run]({run_url})." if run_url else ""
    foot = (
        "\n---\nThe live tenant differs from the files on `main`. This issue is kept up to date by the "
        "`xtap drift` workflow and closed when the tenant is clean again; triage: `docs/operations.md`."
        f"{run}\n"
    )
    notice = "**Report truncated** to fit an issue; the full report is in the run's job summary and artifact."
    return head + truncate(report_markdown, limit - len(head) - len(foot), notice) + foot


def drift_comment_body(
    tenant: str,
    report: Mapping[str, Any],
    new_ids: Sequence[str],
    *,
    run_url: str | None = None,
    limit: int = BODY_LIMIT,
) -> str:
    """The comment announcing new drift: one line per new item (its message); the body has the rest."""
    wanted = set(new_ids)
    items = [i for i in report.get("items") or () if isinstance(i, Mapping) and i.get("id") in wanted]
    plural = "s" if len(items) != 1 else ""
    lines = [f"New drift in tenant {fence(tenant)} ({len(items)} item{plural}):", ""]
    for item in items:
        kind = escape(str(item.get("kind") or "drift"))
        message = escape(str(item.get("message") or item["id"]))
        lines.append(f"- **{kind}** {message}")
    text = "\n".join(lines) + "\n"
    foot = f"\nReport: [drift run]({run_url})\n" if run_url else ""
    notice = "… more new items in the issue body."
    return truncate(text, limit - len(foot), notice) + foot


def drift_close_comment(tenant: str, *, run_url: str | None = None) -> str:
    where = f" ([drift run]({run_url}))" if run_url else ""
    return f"Tenant {fence(tenant)} matches the files again{where}; closing."


# --- apply ---------------------------------------------------------------------------------------------

_APPLY_STATUS = {
    0: "**Applied.** The tenant matches the files on `main`.",
    1: "**Apply failed** for part of the plan; what succeeded stays applied. Re-running the workflow "
    "converges without duplicate work (`docs/operations.md`, re-running after a partial apply).",
    3: "**Refused, nothing changed:** the tenant or the files changed since the plan (stale plan), or a "
    "safety gate refused it. The next run plans again.",
}


def apply_summary(tenant: str, exit_code: int, output: str, *, limit: int = SUMMARY_LIMIT) -> str:
    """The job summary of one tenant's apply: status from the exit code, then xtap's output verbatim."""
    status = _APPLY_STATUS.get(exit_code, f"**Apply ended with exit code {exit_code}.** See the run log.")
    longest = max((len(run) for run in re.findall(r"`{3,}", output)), default=2)
    ticks = "`" * (longest + 1)
    head = f"### xtap apply — tenant {fence(tenant)}\n\n{status}\n\n"
    output = strip_workflow_commands(output)
    text = output if output.endswith("\n") or not output else output + "\n"
    budget = limit - len(head) - 2 * (len(ticks) + 1) - 64
    if len(text) > budget:
        text = (
            text[: max(budget, 0)].rsplit("\n", 1)[0] + "\n… (output truncated; the run log has all of it)\n"
        )
    return f"{head}{ticks}text\n{text}{ticks}\n"


# --- apply selection -----------------------------------------------------------------------------------


def tenants_to_apply(plan_exit_codes: Mapping[str, int | None], *, force: bool = False) -> list[str]:
    """Tenants whose plan job asks for an apply, sorted.

    `plan_exit_codes` maps each tenant to its `xtap plan --detailed-exitcode` result (None: no result,
    e.g. the plan job failed before planning). 2 means changes; 3 (refused by a safety gate) is applied
    only with `force`, the break-glass dispatch input; 0, 1 and missing results are not applied.
    """
    wanted = {2, 3} if force else {2}
    return sorted(t for t, code in plan_exit_codes.items() if code in wanted)
