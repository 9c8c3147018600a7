"""`xtap tenants`: the tenant names of the configuration, one a line or as a JSON array for a CI matrix."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from reconciler.config import Config, load_config
from reconciler.errors import EXIT_OK
from reconciler.github import check_tenant_name


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "tenants",
        parents=[common],
        help="list the tenants of the configuration (with --tenant: check that one exists)",
    )
    p.add_argument(
        "--json", action="store_true", help='print one JSON array for a CI matrix, e.g. ["default"]'
    )


def tenant_names(config: Config, only: str | None = None) -> list[str]:
    """Names in configuration order; with `only`, just that one (an unknown name is an error)."""
    if only is not None:
        return [config.tenant(only).name]
    return [t.name for t in config.tenants]


def run(args: argparse.Namespace) -> int:
    config = load_config(Path(args.config) if args.config else None, cwd=Path.cwd())
    names = tenant_names(config, args.tenant)
    # The names feed matrix jobs, artifact names and hidden markers: refuse here, once, what they can't carry.
    for name in names:
        check_tenant_name(name)
    print(json.dumps(names, separators=(",", ":")) if args.json else "\n".join(names))
    return EXIT_OK
