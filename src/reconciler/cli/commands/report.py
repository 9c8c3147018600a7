"""`xtap report --out report.html`: the posture on one self-contained HTML page (#17).

From the policy files by default; with --live, the tenant as it is, its lint findings and its drift
from the files. Read-only towards Graph.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from reconciler import __version__
from reconciler.cli.context import Env, load_context, open_client, plan_live
from reconciler.cli.parser import add_command, add_policies, add_sign_in
from reconciler.core import drift, lint, posture
from reconciler.core.errors import EXIT_OK
from reconciler.present import lint_text, report_html
from reconciler.shell.files import display_path, write_output


def add_parser(sub: Any) -> None:
    p = add_command(sub, "report")
    add_policies(p)
    add_sign_in(p)
    p.add_argument("--live", action="store_true", help="the tenant as it is, with its drift from the files")
    p.add_argument("--out", required=True, metavar="FILE", help="the HTML file to write (report.html)")


def run(args: argparse.Namespace, env: Env) -> int:
    ctx = load_context(args, env)
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    drift_report = None
    if args.live:
        with open_client(ctx) as client:
            plan, live = plan_live(ctx, client)
        state = posture.from_live(live, ctx.desired)
        drift_report = drift.build_report(plan, live, protected=ctx.options.protected, generated_at=now)
    else:
        state = posture.from_files(ctx.desired)
    found = lint.lint(state, ctx.config.lint_disable)
    report = report_html.Report(ctx.tenant.name, state, found, now, __version__, drift_report)
    write_output(args.out, report_html.render(report))
    partners = len(state.partners)
    sys.stdout.write(
        f"wrote {display_path(args.out)}: {partners} partner{'s' if partners != 1 else ''}, "
        f"{lint_text.summary(found)}\n"
    )
    return EXIT_OK
