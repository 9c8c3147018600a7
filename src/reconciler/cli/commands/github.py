"""`xtap github ...`: the decisions of xtap's workflow steps, for the `gh` CLI calls around them.

Each subcommand reads JSON that `gh api` wrote to a file, decides, and prints a result that a step
appends to `$GITHUB_OUTPUT` or writes a body file for `gh ... --body-file`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reconciler.cli import catalog
from reconciler.cli.environment import Env
from reconciler.cli.parser import add_command, add_leaf, add_tenant
from reconciler.core.errors import EXIT_OK, XtapError
from reconciler.core.plan import Plan, from_json
from reconciler.core.text import printable
from reconciler.present import github, markdown
from reconciler.shell.files import write_output

_TENANT_HELP = "the tenant's name, as in xtap.yaml (required)"


def add_parser(sub: Any) -> None:
    group = add_command(sub, "github", verbose=False)
    # Options live on the leaves only: argparse lets a subparser's defaults overwrite values parsed one
    # level up, so `--tenant` must be parsed where it is used.
    cmds = group.add_subparsers(dest="github_command", metavar="SUBCOMMAND", required=True, title="helpers")
    _add_plan_helpers(cmds)
    _add_drift_helper(cmds)
    _add_apply_helpers(cmds)


def _add_plan_helpers(cmds: Any) -> None:
    p = _helper(cmds, "find-comment", "print the id of the comment that starts with the marker")
    add_tenant(p, help="the tenant's name, as in xtap.yaml (not needed with --marker)")
    _marker_options(p, "plan comment")
    p.add_argument(
        "--comments", metavar="FILE", required=True, help="`gh api --paginate .../comments` output"
    )
    p.add_argument(
        "--author", default=github.DEFAULT_AUTHOR, help="login that posts the comments (%(default)s)"
    )
    p.set_defaults(github_run=_find_comment)

    _add_plan_body_helpers(cmds)


def _add_drift_helper(cmds: Any) -> None:
    p = _helper(
        cmds,
        "drift-action",
        "decide create/comment/update/close/none for a tenant's drift issue and write the bodies",
    )
    add_tenant(p, help=_TENANT_HELP)
    p.add_argument("--issues", metavar="FILE", required=True, help="`gh api --paginate .../issues` output")
    p.add_argument("--report", metavar="FILE", required=True, help="`xtap drift` JSON report")
    p.add_argument("--markdown", metavar="FILE", help="`xtap drift` Markdown report, for the issue body")
    p.add_argument("--exit-code", type=int, help="exit code of `xtap drift` (2: drift, 0: clean)")
    p.add_argument("--body-out", metavar="FILE", help="write the issue body here")
    p.add_argument("--comment-out", metavar="FILE", help="write the comment (new drift, or closing) here")
    p.add_argument("--run-url", metavar="URL", help="link to the workflow run")
    p.add_argument(
        "--author", default=github.DEFAULT_AUTHOR, help="login that opens the issues (%(default)s)"
    )
    p.set_defaults(github_run=_drift_action)


def _add_apply_helpers(cmds: Any) -> None:
    p = _helper(cmds, "apply-summary", "write the job summary of a tenant's apply")
    add_tenant(p, help=_TENANT_HELP)
    p.add_argument("--exit-code", type=int, required=True, help="exit code of `xtap apply`")
    p.add_argument("--output", metavar="FILE", required=True, help="what `xtap apply` printed")
    p.set_defaults(github_run=_apply_summary)

    p = _helper(
        cmds, "apply-tenants", "print a JSON array of the tenants whose plan artifact asks for an apply"
    )
    p.add_argument(
        "--plans",
        metavar="DIR",
        required=True,
        help=f"folder holding one {github.PLAN_ARTIFACT_PREFIX}TENANT/exitcode per planned tenant",
    )
    p.add_argument(
        "--expect", metavar="JSON", help="JSON array of every tenant planned (a missing one is reported)"
    )
    p.add_argument("--force", action="store_true", help="also apply tenants refused by a safety gate (3)")
    p.set_defaults(github_run=_apply_tenants)


def _add_plan_body_helpers(cmds: Any) -> None:
    """plan-comment and plan-summary: the same saved plan, fitted to a comment or in full for a summary."""
    for name, summary, limit, handler in (
        (
            "plan-comment",
            "write the plan comment body of a tenant (every change listed)",
            markdown.BODY_LIMIT,
            _plan_comment,
        ),
        (
            "plan-summary",
            "write the job summary of a tenant's plan (every change in full)",
            github.SUMMARY_LIMIT,
            _plan_summary,
        ),
    ):
        p = _helper(cmds, name, summary)
        add_tenant(p, help=_TENANT_HELP)
        p.add_argument(
            "--plan", metavar="FILE", required=True, help="the plan saved by `xtap plan --out FILE`"
        )
        p.add_argument(
            "--exit-code", type=int, required=True, help="exit code of `xtap plan --detailed-exitcode`"
        )
        p.add_argument("--run-url", metavar="URL", help="link to the workflow run")
        p.add_argument("--limit", type=int, default=limit, help="maximum characters (%(default)s)")
        p.add_argument("--out", metavar="FILE", help="write here instead of standard output")
        if name == "plan-comment":
            p.add_argument(
                "--lint",
                metavar="FILE",
                help="`xtap lint` JSON of the pull request: its new findings are listed",
            )
            p.add_argument(
                "--lint-base", metavar="FILE", help="`xtap lint` JSON of the base branch (what is not new)"
            )
        p.set_defaults(github_run=handler)


def _helper(cmds: Any, name: str, summary: str) -> argparse.ArgumentParser:
    description = summary[0].upper() + summary[1:] + "."
    return add_leaf(cmds, name, summary, description, catalog.epilog("github"))


def _marker_options(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--marker", help=f"the hidden marker (default: the {what} marker of --tenant)")


def run(args: argparse.Namespace, env: Env) -> int:
    handler: Callable[[argparse.Namespace], int] = args.github_run
    return handler(args)


def _tenant(args: argparse.Namespace) -> str:
    if not args.tenant:
        raise XtapError(f"xtap github {args.github_command}: --tenant is required")
    return markdown.check_tenant_name(args.tenant)


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise XtapError(f"cannot read {path}: {exc.strerror}") from None


def _write(path: str, text: str) -> None:
    write_output(path, text)


def _read_json_object(path: str) -> dict[str, Any]:
    try:
        value = json.loads(_read(path))
    except json.JSONDecodeError as exc:
        raise XtapError(f"{path}: not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(value, dict):
        raise XtapError(f"{path}: expected a JSON object")
    return value


def _pages(path: str) -> list[dict[str, Any]]:
    try:
        return github.parse_pages(_read(path))
    except XtapError as exc:
        raise XtapError(f"{path}: {exc}") from None


def _find_comment(args: argparse.Namespace) -> int:
    marker = args.marker or github.plan_marker(_tenant(args))
    found = github.find_marked_comment(_pages(args.comments), marker, author=args.author)
    if found is not None:
        print(found)
    return EXIT_OK


def _saved_plan(args: argparse.Namespace) -> Plan | None:
    """The saved plan; None after a failed plan (exit 1), which may have saved none."""
    if args.exit_code == 1:
        return None
    try:
        data = json.loads(_read(args.plan))
    except json.JSONDecodeError as exc:
        raise XtapError(
            f"{args.plan}: not a saved plan (`xtap plan --out FILE` writes one): {exc.msg} at line {exc.lineno}"
        ) from None
    return from_json(data, origin=args.plan)


def _posture(args: argparse.Namespace) -> str:
    """The posture lines of the comment; none when lint wrote no report (the lint job says why)."""
    if not args.lint:
        return ""
    if not Path(args.lint).is_file():
        print(
            printable(f"xtap: warning: {args.lint} not found; the comment has no posture section"),
            file=sys.stderr,
        )
        return ""
    # The base branch may not lint (another tenant list, invalid files then): everything counts as new.
    base = _read_json_object(args.lint_base) if args.lint_base and Path(args.lint_base).is_file() else None
    return github.posture_section(_read_json_object(args.lint), base, origin=args.lint)


def _plan_comment(args: argparse.Namespace) -> int:
    body = github.plan_comment_body(
        _tenant(args),
        _saved_plan(args),
        args.exit_code,
        run_url=args.run_url,
        limit=args.limit,
        posture=_posture(args),
    )
    _emit(args.out, body)
    return EXIT_OK


def _plan_summary(args: argparse.Namespace) -> int:
    body = github.plan_summary(
        _tenant(args), _saved_plan(args), args.exit_code, run_url=args.run_url, limit=args.limit
    )
    _emit(args.out, body)
    return EXIT_OK


def _emit(out: str | None, text: str) -> None:
    if out:
        _write(out, text)
    else:
        sys.stdout.write(text)


def _drift_action(args: argparse.Namespace) -> int:
    tenant = _tenant(args)
    if args.exit_code not in (None, 0, 2):
        raise XtapError(f"xtap drift exited {args.exit_code}: no decision is taken on a failed drift run")
    issue = github.find_marked_issue(_pages(args.issues), github.drift_marker(tenant), author=args.author)
    report = _read_json_object(args.report)
    drifted = None if args.exit_code is None else args.exit_code == 2
    action = github.drift_issue_action(issue, report, drifted=drifted)
    if args.body_out and action in ("create", "comment", "update"):
        markdown = _read(args.markdown) if args.markdown else ""
        _write(args.body_out, github.drift_issue_body(tenant, report, markdown, run_url=args.run_url))
    if args.comment_out and action == "comment":
        new = github.new_drift_ids(issue, report)
        _write(args.comment_out, github.drift_comment_body(tenant, report, new, run_url=args.run_url))
    if args.comment_out and action == "close":
        _write(args.comment_out, github.drift_close_comment(tenant, run_url=args.run_url))
    # key=value lines, so a step can append them to $GITHUB_OUTPUT as they are.
    print(f"action={action}")
    print(f"issue={issue['number'] if issue else ''}")
    print(f"title={github.drift_issue_title(tenant)}")
    return EXIT_OK


def _apply_summary(args: argparse.Namespace) -> int:
    sys.stdout.write(github.apply_summary(_tenant(args), args.exit_code, _read(args.output)))
    return EXIT_OK


def _apply_tenants(args: argparse.Namespace) -> int:
    root = Path(args.plans)
    codes: dict[str, int | None] = {}
    if root.is_dir():
        for folder in sorted(root.glob(f"{github.PLAN_ARTIFACT_PREFIX}*")):
            codes[folder.name.removeprefix(github.PLAN_ARTIFACT_PREFIX)] = _exit_code_file(
                folder / "exitcode"
            )
    if args.expect:
        for tenant in _tenant_list(args.expect):
            codes.setdefault(tenant, None)
    for tenant, code in sorted(codes.items()):
        if code is None:
            print(
                printable(f"xtap: warning: no plan result for tenant {tenant}; it is not applied"),
                file=sys.stderr,
            )
    print(json.dumps(github.tenants_to_apply(codes, force=args.force), separators=(",", ":")))
    return EXIT_OK


def _exit_code_file(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def _tenant_list(text: str) -> list[str]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise XtapError(f"--expect: not JSON: {exc.msg}") from None
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise XtapError("--expect: expected a JSON array of tenant names")
    return [markdown.check_tenant_name(t) for t in value]
