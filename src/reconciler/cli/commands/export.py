"""`xtap export`: write the live tenant as policy files, so adoption starts with an empty plan.

Read-only towards Graph. Display names for file names and comments come from the tenant-lookup API
(findTenantInformationByTenantId, in `$batch` requests of 20); without CrossTenantInformation.ReadBasic.All
that lookup is refused, and export still works: files are named by tenantId, and it says so once.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reconciler.cli.context import Context, Env, config_from_args, open_client, plan_options, write_file
from reconciler.cli.parser import add_command, add_sign_in
from reconciler.core import export
from reconciler.core.errors import EXIT_OK, RefusedError, XtapError
from reconciler.core.planner import make_plan
from reconciler.core.state import DesiredState, LiveState
from reconciler.core.text import printable
from reconciler.shell.config import load_policies
from reconciler.shell.files import YAML_SUFFIXES, display_path
from reconciler.shell.graph import GraphClient


def add_parser(sub: Any) -> None:
    p = add_command(sub, "export")
    add_sign_in(p)
    p.add_argument("--out-dir", metavar="DIR", help="where to write (default: the tenant's policies folder)")
    p.add_argument("--force", action="store_true", help="overwrite existing policy files")


def lookup_tenants(client: GraphClient, tenant_ids: list[str]) -> dict[str, Mapping[str, Any] | None]:
    """tenantId → tenantInformation (None when unknown); a refused lookup is one warning, not a failure."""
    found = client.lookup_tenants(tenant_ids)
    if found.problem is not None:
        print(
            f"xtap: warning: the tenant lookup failed ({found.problem}); partners without a display name "
            "are named by tenantId",
            file=sys.stderr,
        )
    return dict(found.infos)


def _existing_policy_files(out_dir: Path) -> list[str]:
    found = []
    for name in ("default.yaml", "default.yml"):
        if (out_dir / name).exists():
            found.append(name)
    partners = out_dir / "partners"
    if partners.is_dir():
        for path in sorted(partners.rglob("*")):
            if path.is_file() and path.name.lower().endswith(YAML_SUFFIXES):
                found.append(path.relative_to(out_dir).as_posix())
    return found


def _shown(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def run(args: argparse.Namespace, env: Env) -> int:
    config = config_from_args(args, env)
    tenant = config.tenant(args.tenant)
    out_dir = Path(args.out_dir) if args.out_dir else tenant.policies
    existing = _existing_policy_files(out_dir)
    if existing and not args.force:
        raise RefusedError(
            f"{display_path(out_dir)} already holds policy files ({_shown(existing)}); nothing was written. "
            "Re-run with --force to overwrite them, or choose another --out-dir"
        )
    # Export compares the files it wrote with the tenant as a plain plan would: no prune, no gates.
    options = dataclasses.replace(plan_options(config, tenant, env), prune=False)
    ctx = Context(config, tenant, DesiredState(), options, env, args.managed_identity)
    with open_client(ctx) as client:
        live = client.read_live_state()
        infos = lookup_tenants(client, sorted(live.partners))
    schemas = Path(os.path.relpath(Path.cwd() / "schemas", out_dir.resolve())).as_posix()
    result = export.export_files(live, infos, schemas=schemas)
    for note in result.notes:
        print(printable(f"xtap: warning: {note}"), file=sys.stderr)
    for relative, text in result.files.items():
        target = out_dir / relative
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise XtapError(f"cannot create {display_path(target.parent)}: {exc.strerror}") from None
        write_file(str(target), text)
    left = [name for name in existing if name not in result.files]
    if left:
        print(
            f"xtap: warning: left in place (not written by this export): {_shown(left)}; "
            "check them for duplicate tenantIds",
            file=sys.stderr,
        )
    # The next step is named only once the files are known to plan empty: never a promise that fails.
    planned_empty = _self_check(out_dir, live, ctx)
    _report(out_dir, result, infos, plan_command(args, tenant.policies, out_dir) if planned_empty else None)
    return EXIT_OK


def plan_command(args: argparse.Namespace, policies: Path, out_dir: Path) -> str:
    """The `xtap plan` that reads what export wrote: the same configuration and tenant, and the folder
    unless it is the tenant's own."""
    words = ["xtap", "plan"]
    if args.config:
        words += ["--config", args.config]
    if args.tenant:
        words += ["--tenant", args.tenant]
    if out_dir.resolve() != policies.resolve():
        words.append(display_path(out_dir))
    return shlex.join(words)


def _report(
    out_dir: Path,
    result: export.ExportResult,
    infos: Mapping[str, Mapping[str, Any] | None],
    next_command: str | None,
) -> None:
    shown = display_path(out_dir)
    default = "default.yaml" in result.files
    lines = [
        f"Exported {len(result.partner_files)} partner{'s' if len(result.partner_files) != 1 else ''}"
        + (" and the default configuration" if default else "")
        + f" to {shown}/"
    ]
    if default:
        lines.append("  default.yaml")
    for tid, path in sorted(result.partner_files.items(), key=lambda kv: kv[1]):
        name = export.display_name(infos.get(tid))
        lines.append(f"  {path}  {tid}" + (f"  {export.comment(name)[2:]}" if name else ""))
    if next_command is not None:
        lines.append(f"Next: `{next_command}` shows no changes; commit the files.")
    sys.stdout.write("\n".join(printable(line) for line in lines) + "\n")  # display names are Graph's


def _self_check(out_dir: Path, live: LiveState, ctx: Context) -> bool:
    """Read the files back through the loader and plan them: export's contract is an empty plan."""
    loaded = load_policies(out_dir, ctx.config)
    for diagnostic in loaded.diagnostics:
        print(diagnostic, file=sys.stderr)
    if not loaded.ok:
        print(
            "xtap: warning: the tenant's live settings break the rules above; `xtap plan` refuses the files "
            "until they are fixed",
            file=sys.stderr,
        )
        return False
    plan = make_plan(loaded.desired, live, ctx.options)
    if plan.has_changes:  # a bug in export (or files left in place): say so rather than hide it
        print(f"xtap: warning: the exported files do not plan empty: {plan.summary_line()}", file=sys.stderr)
    return not plan.has_changes
