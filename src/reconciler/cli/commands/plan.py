"""`xtap plan`: read the tenant, diff it against the files, show what apply would send."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from reconciler.cli.context import (
    FORCE_ADVICE,
    Env,
    load_context,
    open_client,
    plan_live,
    use_color,
    write_file,
)
from reconciler.cli.parser import add_command, add_policies, add_sign_in
from reconciler.core.errors import EXIT_CHANGES, EXIT_OK, RefusedError
from reconciler.present import formats


def add_parser(sub: Any) -> None:
    p = add_command(sub, "plan")
    add_policies(p)
    add_sign_in(p)
    p.add_argument("--out", metavar="FILE", help="also save the plan as JSON, for `xtap apply FILE`")
    p.add_argument(
        "--format",
        choices=formats.PLAN.names,
        default="text",
        help="format on stdout (default: text); markdown is the pull-request comment",
    )
    p.add_argument(
        "--detailed-exitcode", action="store_true", help="exit 2 when there are changes (0 when none)"
    )
    p.add_argument("--prune", action="store_true", help="plan deletion of partners that no file declares")
    p.add_argument("--force", action="store_true", help="override the safety gates")


def run(args: argparse.Namespace, env: Env) -> int:
    ctx = load_context(args, env, prune=args.prune, force=args.force)
    with open_client(ctx) as client:
        # Fingerprints only where they are written: the saved plan and the JSON format.
        plan, _live = plan_live(ctx, client, saved=bool(args.out) or args.format == "json")
    sys.stdout.write(formats.PLAN.render(plan, args.format, formats.RenderOptions(color=use_color(env))))
    if args.out:
        write_file(args.out, formats.plan_json(plan))
    if plan.refused:
        raise RefusedError(
            "the plan was refused by a safety gate (see above); nothing will be applied. "
            f"If these changes are meant, {FORCE_ADVICE}"
        )
    if args.detailed_exitcode and plan.has_changes:
        return EXIT_CHANGES
    return EXIT_OK
