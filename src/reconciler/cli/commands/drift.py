"""`xtap drift`: read-only report of what changed in the tenant behind Git's back (docs/drift-export.md).

Exit codes: 0 no drift, 2 drift (information items alone never count), 1 error.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.cli.context import Env, load_context, open_client, plan_live, use_color, write_file
from reconciler.cli.parser import add_command, add_policies, add_sign_in
from reconciler.core import drift, drift_json
from reconciler.core.errors import EXIT_CHANGES, EXIT_OK, XtapError
from reconciler.present import formats

_EXTENSIONS = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".txt": "text"}


def add_parser(sub: Any) -> None:
    p = add_command(sub, "drift")
    add_policies(p)
    add_sign_in(p)
    p.add_argument(
        "--format",
        choices=formats.DRIFT.names,
        help="format on stdout (default: text on a terminal, markdown otherwise and under GitHub Actions)",
    )
    p.add_argument(
        "--out",
        action="append",
        default=[],
        metavar="FILE",
        help="also write the report to FILE; .json → JSON, .md → Markdown, .txt → text, else --format "
        "or Markdown (may repeat)",
    )
    p.add_argument(
        "--previous",
        metavar="REPORT.json",
        help="an earlier JSON report: mark each item new or not, and list what was resolved since",
    )


def out_format(path: str, default: str) -> str:
    return _EXTENSIONS.get(Path(path).suffix.lower(), default)


def stdout_format(chosen: str | None, env: Env) -> str:
    """--format, else text for a person at a terminal; Markdown where a program or a CI log reads it."""
    if chosen is not None:
        return chosen
    on_terminal = bool(getattr(sys.stdout, "isatty", lambda: False)())
    return "text" if on_terminal and env.get("GITHUB_ACTIONS") != "true" else "markdown"


def read_previous(path: str) -> drift.Previous:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        # The first scheduled run has no earlier report: everything it finds is new.
        print(f"xtap: warning: previous report {path} not found; every item counts as new", file=sys.stderr)
        return drift.Previous(None, ())
    except (OSError, UnicodeDecodeError) as exc:
        raise XtapError(f"cannot read previous report {path}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise XtapError(f"{path}: not an xtap drift report (invalid JSON: {exc})") from None
    return drift_json.read_previous(data, origin=path)


def run(args: argparse.Namespace, env: Env) -> int:
    ctx = load_context(args, env)
    previous = read_previous(args.previous) if args.previous else None
    with open_client(ctx) as client:
        plan, live = plan_live(ctx, client)
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    report = drift.build_report(
        plan, live, protected=ctx.options.protected, previous=previous, generated_at=now
    )
    shown = stdout_format(args.format, env)
    options = formats.RenderOptions(color=use_color(env), verbose=args.verbose)
    sys.stdout.write(formats.DRIFT.render(report, shown, options))
    for path in args.out:
        fmt = out_format(path, args.format or "markdown")
        write_file(path, formats.DRIFT.render(report, fmt, formats.RenderOptions(verbose=args.verbose)))
    return EXIT_CHANGES if report.drift else EXIT_OK
