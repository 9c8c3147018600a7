"""`xtap apply [PLANFILE]`: send the minimal writes, then verify that the tenant converged."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from reconciler.cli.context import FORCE_ADVICE, Env, load_context, open_client, plan_live, use_color
from reconciler.cli.parser import add_command, add_policies, add_sign_in
from reconciler.core.errors import EXIT_ERROR, EXIT_OK, RefusedError, XtapError
from reconciler.core.plan import Plan, differences, from_json
from reconciler.core.text import printable
from reconciler.present.plan_text import render_text
from reconciler.shell.applier import Applier, ApplyResult


def add_parser(sub: Any) -> None:
    p = add_command(sub, "apply")
    add_policies(p)
    p.add_argument(
        "planfile",
        nargs="?",
        metavar="PLANFILE",
        help="a plan saved by `xtap plan --out`; refused unless the files, the configuration and the tenant "
        "still make exactly that plan. Given alone, a folder is POLICIES and a file is PLANFILE",
    )
    add_sign_in(p)
    p.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation")
    p.add_argument("--prune", action="store_true", help="delete partners that no file declares")
    p.add_argument("--force", action="store_true", help="override the safety gates")
    p.add_argument("--parallel", type=int, default=4, metavar="N", help="batches in flight (default 4)")


def _read_plan(path: str) -> Plan:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise XtapError(f"cannot read plan {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise XtapError(f"{path}: not a valid xtap plan ({exc})") from None
    return from_json(data, origin=path)


def check_saved(saved: Plan, fresh: Plan) -> None:
    """A saved plan is re-derived, never trusted: refused (exit 3, nothing written) unless it was made by
    this xtap from the same files, configuration and tenant, and holds exactly the fresh plan's options,
    requests, refusals and deletions."""
    why = _stale(saved, fresh)
    if why is not None:
        raise RefusedError(f"the saved plan is refused: {why}; make a new plan. Nothing was changed.")


def _stale(saved: Plan, fresh: Plan) -> str | None:
    then, now = saved.fingerprints, fresh.fingerprints
    if then.version != now.version:
        return f"it was made by xtap {then.version or '(unknown version)'}, this is xtap {now.version}"
    if then.config != now.config:
        return "the configuration (xtap.yaml, or the flags) changed since it was made"
    if then.desired != now.desired:
        return "the policy files changed since it was made"
    moved = sorted(k for k in set(then.live) | set(now.live) if then.live.get(k) != now.live.get(k))
    if moved:
        shown = ", ".join(moved[:5]) + (f" and {len(moved) - 5} more" if len(moved) > 5 else "")
        return f"the tenant changed since it was made ({shown})"
    different = differences(saved, fresh)
    return f"it is not the plan these files make ({different})" if different else None


def shown(plan: Plan, planfile: str | None, *, color: bool) -> str:
    """What apply prints before it writes: the whole plan, or for a saved plan that was read when it was
    made, its summary line (as terraform applies a saved plan). A safety gate, refusing or overridden,
    is shown in full either way: that is what the approver must see."""
    if planfile is None or plan.refusals or not plan.has_changes:
        return render_text(plan, color=color)
    return f"Applying the plan saved in {planfile}: {plan.summary_line()}\n"


def _confirm(plan: Plan, auto_approve: bool) -> None:
    if auto_approve:
        return
    if not sys.stdin.isatty():
        raise XtapError("refusing to apply without --auto-approve when not on a terminal")
    print(
        f"\nApply these changes to tenant {plan.tenant_name}? Only 'yes' will be accepted: ",
        end="",
        flush=True,
    )
    if sys.stdin.readline().strip() != "yes":
        raise XtapError("apply cancelled; nothing was changed")


def _progress(done: int, total: int) -> None:
    print(
        f"\rapplying: {done}/{total} requests", end="" if done < total else "\n", file=sys.stderr, flush=True
    )


def report(result: ApplyResult) -> str:
    """What is true after the run: "Verified" only for changes applied and read back; "finishes the rest"
    only when every failure is one another run can get past (not a 400 or a 403)."""
    applied = len(result.applied)
    lines = [f"Apply complete: {applied} applied, {len(result.failed)} failed."]
    for outcome in result.failed:
        c = outcome.change
        lines.append(f"  failed: {c.action} {c.resource} {c.tenant_id or c.name}: {outcome.error}")
    if not result.converged:
        lines.append("Not converged after verification (Graph may still be catching up; re-run to finish):")
        lines.extend(f"  {item}" for item in result.unconverged)
    elif applied and not result.failed:
        lines.append("Verified: the tenant matches the policy files for everything applied.")
    elif applied:
        lines.append(f"Verified: the {applied} applied change(s) were read back and match the policy files.")
    if result.failed and not result.retryable:
        lines.append(
            "Re-running `xtap apply` is safe, but what Graph refused above fails the same way until its "
            "cause is fixed; what was applied stays applied."
        )
    elif result.failed or not result.converged:
        lines.append(
            "Re-running `xtap apply` is safe: it re-plans from the live tenant and finishes the rest."
        )
    return "\n".join(printable(line) for line in lines) + "\n"  # names and Graph's error messages


def positionals(args: argparse.Namespace) -> argparse.Namespace:
    """`xtap apply X`: a folder is the policies folder, anything else a saved plan (as `terraform apply`
    read its one argument). With two arguments, the folder comes first."""
    single = args.policies
    if args.planfile is None and single is not None and not _names_folder(single):
        return argparse.Namespace(**{**vars(args), "policies": None, "planfile": single})
    return args


def _names_folder(path: str) -> bool:
    return Path(path).is_dir() or path.endswith(("/", os.sep))


def run(args: argparse.Namespace, env: Env) -> int:
    args = positionals(args)
    saved = _read_plan(args.planfile) if args.planfile else None
    prune = args.prune or (saved.prune if saved else False)
    ctx = load_context(args, env, prune=prune, force=args.force)
    with open_client(ctx, max_in_flight=args.parallel) as client:
        plan, live = plan_live(ctx, client, saved=saved is not None)  # fingerprints to check a saved plan
        if saved is not None:
            check_saved(saved, plan)  # then the fresh plan is applied, never the saved one
        sys.stdout.write(shown(plan, args.planfile, color=use_color(env)))
        if plan.refused:
            raise RefusedError(
                "the plan was refused by a safety gate (see above); nothing was changed. "
                f"If these changes are meant, {FORCE_ADVICE}"
            )
        if not plan.has_changes:
            return EXIT_OK
        _confirm(plan, args.auto_approve)
        progress = _progress if sys.stderr.isatty() else None
        result = Applier(client, progress=progress).apply(plan, ctx.desired, ctx.options, live)
    sys.stdout.write(report(result))
    return EXIT_OK if result.ok else EXIT_ERROR
