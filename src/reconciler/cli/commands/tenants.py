"""`xtap tenants`: the tenant names of the configuration, one a line or as a JSON array for a CI matrix."""

from __future__ import annotations

import argparse
import json
from typing import Any

from reconciler.cli.context import Env, config_from_args
from reconciler.cli.parser import add_command, add_config, add_tenant
from reconciler.core.errors import EXIT_OK
from reconciler.present.markdown import check_tenant_name
from reconciler.shell.config import Config


def add_parser(sub: Any) -> None:
    p = add_command(sub, "tenants")
    add_config(p)
    add_tenant(p, help="print only this tenant, after checking that it exists")
    p.add_argument(
        "--json", action="store_true", help='print one JSON array for a CI matrix, e.g. ["default"]'
    )


def tenant_names(config: Config, only: str | None = None) -> list[str]:
    """Names in configuration order; with `only`, just that one (an unknown name is an error)."""
    if only is not None:
        return [config.tenant(only).name]
    return [t.name for t in config.tenants]


def run(args: argparse.Namespace, env: Env) -> int:
    config = config_from_args(args, env)
    names = tenant_names(config, args.tenant)
    # The names feed matrix jobs, artifact names and hidden markers: refuse here, once, what they can't carry.
    for name in names:
        check_tenant_name(name)
    print(json.dumps(names, separators=(",", ":")) if args.json else "\n".join(names))
    return EXIT_OK
