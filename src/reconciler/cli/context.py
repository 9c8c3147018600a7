"""Wiring shared by the commands that talk to a tenant: config → files → Graph → plan.

The environment is read once, by `cli.main`, and handed to every command as a plain mapping; nothing
below the CLI reads `os.environ`.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.cli.environment import Env as Env  # re-exported: the commands type their env with it
from reconciler.cli.environment import env_tenant_id
from reconciler.cli.memory import collection_paused
from reconciler.core.errors import XtapError
from reconciler.core.export import display_name
from reconciler.core.plan import Plan, PlanOptions
from reconciler.core.planner import planning
from reconciler.core.safety import never_deleted
from reconciler.core.state import DesiredState, LiveState
from reconciler.shell.config import Config, TenantConfig, load_config, load_policies
from reconciler.shell.files import write_output

# Said only when a gate refuses (plan, apply); a forced plan shows the gate as overridden instead.
FORCE_ADVICE = "re-run with --force (or raise the limit under `safety:` in xtap.yaml)"

if TYPE_CHECKING:  # imported when a command signs in: httpx, msal and cryptography cost start-up time
    from reconciler.shell.graph import GraphClient


@dataclass(frozen=True)
class Context:
    config: Config
    tenant: TenantConfig
    desired: DesiredState
    options: PlanOptions
    env: Env
    managed_identity: bool = False  # --managed-identity: sign in as the Azure managed identity


def config_from_args(args: argparse.Namespace, env: Env) -> Config:
    return load_config(
        Path(args.config) if args.config else None, cwd=Path.cwd(), fallback_tenant_id=env_tenant_id(env)
    )


def load_context(args: argparse.Namespace, env: Env, *, prune: bool = False, force: bool = False) -> Context:
    """Config and policy files; invalid files stop here, before anything is sent to Graph."""
    config = config_from_args(args, env)
    tenant = config.tenant(args.tenant)
    with collection_paused():
        result = load_policies(policies_folder(args, tenant), config, prune=prune)
    for diagnostic in result.diagnostics:
        print(diagnostic, file=sys.stderr)
    if not result.ok:
        errors = sum(1 for d in result.diagnostics if d.severity == "error")
        raise XtapError(
            f"the policy files have {errors} error{'s' if errors != 1 else ''}; nothing was sent to Graph"
        )
    options = plan_options(config, tenant, env, prune=prune, force=force)
    return Context(
        config, tenant, result.desired, options, env, bool(getattr(args, "managed_identity", False))
    )


def policies_folder(args: argparse.Namespace, tenant: TenantConfig) -> Path:
    """The POLICIES argument of the command line (`xtap plan out/`), else the tenant's folder."""
    given: str | None = getattr(args, "policies", None)
    return Path(given) if given else tenant.policies


def plan_options(
    config: Config, tenant: TenantConfig, env: Env, *, prune: bool = False, force: bool = False
) -> PlanOptions:
    return PlanOptions(
        prune=prune or config.prune,
        protected=frozenset(t.lower() for t in config.protected_partners),
        ignore=config.ignore,
        max_deletes=config.safety.max_deletes,
        max_update_percent=config.safety.max_update_percent,
        force=force,
        tenant_name=tenant.name,
        tenant_id=tenant.tenant_id or env_tenant_id(env),
    )


def open_client(ctx: Context, *, max_in_flight: int = 4) -> GraphClient:
    from reconciler.shell.graph import connect

    return connect(
        ctx.env,
        tenant_id=ctx.options.tenant_id,
        cloud=ctx.tenant.cloud,
        managed_identity=ctx.managed_identity,
        max_in_flight=max_in_flight,
    )


def plan_live(ctx: Context, client: GraphClient, *, saved: bool = True) -> tuple[Plan, LiveState]:
    """Read the tenant and plan. `saved=False`: the plan is neither saved nor checked against a saved
    one, so it goes without fingerprints (hashing every file's content costs 0.3 s at 10,000 files)."""
    with collection_paused(), planning(ctx.desired, ctx.options) as plans:
        # each page is planned while the next is read; the root policy is read when managed
        live = client.read_live_state(policy=ctx.desired.policy is not None, on_page=plans.add)
        names = doomed_names(ctx, client, live)
        return plans.plan(live, names=names, fingerprints=saved), live


def doomed_names(ctx: Context, client: GraphClient, live: LiveState) -> dict[str, str]:
    """Display names of the partners this plan deletes (no file names them), so the deletion banner and
    every delete say who goes — when the identity may look tenants up; tenantIds otherwise."""
    if not ctx.options.prune:
        return {}
    doomed = sorted(
        tid
        for tid, partner in live.partners.items()
        if tid not in ctx.desired.partners and never_deleted(partner, ctx.options) is None
    )
    if not doomed:
        return {}
    found = client.lookup_tenants(doomed)
    names = {tid: display_name(info) for tid, info in found.infos.items()}
    return {tid: name for tid, name in names.items() if name}


def use_color(env: Env, stream: Any = None) -> bool:
    """Colour on a terminal, unless NO_COLOR is set to anything but "" (no-color.org)."""
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)()) and not env.get("NO_COLOR")


def write_file(path: str, text: str) -> None:
    write_output(path, text)
