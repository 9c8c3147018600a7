"""`xtap lint`: posture rules over the effective configuration, from the files or the tenant (#17).

Exit codes: 0 nothing at or above --fail-on (suppressed findings never count), 2 findings that do, 1 error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reconciler import __version__
from reconciler.cli.context import Context, Env, load_context, open_client, policies_folder
from reconciler.cli.parser import add_command, add_policies, add_sign_in
from reconciler.core import lint, posture
from reconciler.core.errors import EXIT_CHANGES, EXIT_OK
from reconciler.present import formats, lint_text, sarif
from reconciler.shell.console import write_command
from reconciler.shell.files import display_path, write_output

FORMATS = ("text", "json", "sarif", "github")
_EXTENSIONS = {".sarif": "sarif", ".json": "json", ".txt": "text"}


def add_parser(sub: Any) -> None:
    p = add_command(sub, "lint")
    add_policies(p)
    add_sign_in(p)
    p.add_argument("--live", action="store_true", help="lint the tenant as it is, not the policy files")
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="on stdout: text (default), json, sarif (code scanning) or github (workflow annotations)",
    )
    p.add_argument(
        "--out",
        action="append",
        default=[],
        metavar="FILE",
        help="also write the findings to FILE; .sarif → SARIF, .json → JSON, .txt → text, else --format "
        "(may repeat)",
    )
    p.add_argument(
        "--fail-on",
        choices=lint.LEVELS,
        default="error",
        help="exit 2 when a finding at this level or above is not suppressed (default: error)",
    )


def read_posture(ctx: Context, live: bool) -> posture.Posture:
    if not live:
        return posture.from_files(ctx.desired)
    with open_client(ctx) as client:
        state = client.read_live_state()
    return posture.from_live(state, ctx.desired)


def render(findings: Sequence[lint.Finding], fmt: str, source: str, fallback: str, verbose: int) -> str:
    if fmt == "json":
        return formats.json_text(lint.to_json(findings, source))
    if fmt == "sarif":
        return sarif.render(findings, version=__version__, fallback_uri=fallback)
    return lint_text.render_text(findings, verbose=verbose)


def run(args: argparse.Namespace, env: Env) -> int:
    ctx = load_context(args, env)
    found = lint.lint(read_posture(ctx, args.live), ctx.config.lint_disable)
    source = "live" if args.live else "files"
    # Where a finding that no file holds is shown: the default.yaml that would set it.
    fallback = display_path(policies_folder(args, ctx.tenant) / "default.yaml")
    if args.format == "github":
        for command in lint_text.workflow_commands(found, fallback):
            write_command(sys.stdout, command)  # xtap's own command: passes the guard
        sys.stdout.write(lint_text.summary(found) + "\n")
    else:
        sys.stdout.write(render(found, args.format, source, fallback, args.verbose))
    for path in args.out:
        fmt = _EXTENSIONS.get(Path(path).suffix.lower(), args.format)
        fmt = "text" if fmt == "github" else fmt
        write_output(path, render(found, fmt, source, fallback, args.verbose))
    return EXIT_CHANGES if lint.failing(found, args.fail_on) else EXIT_OK
