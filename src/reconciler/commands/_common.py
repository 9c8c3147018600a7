"""Wiring shared by the commands that talk to a tenant: config → files → Graph → plan."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.config import Config, TenantConfig, load_config
from reconciler.errors import XtapError
from reconciler.graph import GraphClient, connect
from reconciler.loader import load_desired
from reconciler.plan import Plan
from reconciler.planner import PlanOptions, make_plan
from reconciler.state import DesiredState, LiveState


@dataclass(frozen=True)
class Context:
    config: Config
    tenant: TenantConfig
    desired: DesiredState
    options: PlanOptions
    managed_identity: bool = False  # --managed-identity: sign in as the Azure managed identity


def load_context(args: argparse.Namespace, *, prune: bool = False, force: bool = False) -> Context:
    """Config and policy files; invalid files stop here, before anything is sent to Graph."""
    config = load_config(Path(args.config) if args.config else None, cwd=Path.cwd())
    tenant = config.tenant(args.tenant)
    result = load_desired(tenant.policies, config=config)
    for diagnostic in result.diagnostics:
        print(diagnostic, file=sys.stderr)
    if not result.ok:
        errors = sum(1 for d in result.diagnostics if d.severity == "error")
        raise XtapError(
            f"the policy files have {errors} error{'s' if errors != 1 else ''}; nothing was sent to Graph"
        )
    options = PlanOptions(
        prune=prune or config.prune,
        protected=frozenset(t.lower() for t in config.protected_partners),
        ignore=config.ignore,
        max_deletes=config.safety.max_deletes,
        max_update_percent=config.safety.max_update_percent,
        force=force,
        tenant_name=tenant.name,
        tenant_id=tenant.tenant_id or os.environ.get("AZURE_TENANT_ID"),
    )
    return Context(config, tenant, result.desired, options, bool(getattr(args, "managed_identity", False)))


def open_client(ctx: Context, *, max_in_flight: int = 4) -> GraphClient:
    return connect(
        os.environ,
        tenant_id=ctx.options.tenant_id,
        cloud=ctx.tenant.cloud,
        managed_identity=ctx.managed_identity,
        max_in_flight=max_in_flight,
    )


def plan_live(ctx: Context, client: GraphClient) -> tuple[Plan, LiveState]:
    live = client.read_live_state()
    return make_plan(ctx.desired, live, ctx.options), live


def use_color(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


def write_file(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise XtapError(f"cannot write {path}: {exc.strerror}") from None
