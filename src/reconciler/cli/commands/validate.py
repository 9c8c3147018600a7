"""`xtap validate [PATH...]`: check policy files and xtap.yaml, report every problem, exit 0 or 1."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from reconciler.cli.environment import Env, env_tenant_id
from reconciler.cli.parser import add_command, add_config, add_tenant
from reconciler.core.desired import LoadResult
from reconciler.core.documents import Diagnostic
from reconciler.core.errors import EXIT_ERROR, EXIT_OK
from reconciler.present.annotations import annotation
from reconciler.shell.config import (
    CONFIG_NAMES,
    Config,
    check_config,
    find_config,
    implicit_config,
    load_policies,
)
from reconciler.shell.console import write_command
from reconciler.shell.files import YAML_SUFFIXES, display_path, load_files

DEFAULT_NAMES = ("default.yaml", "default.yml")


def add_parser(subparsers: Any) -> None:
    parser = add_command(subparsers, "validate")
    add_config(parser)
    add_tenant(parser, help="check this tenant's policies folder only (default: every tenant's)")
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="policies folders, partner files, default.yaml or xtap.yaml (default: the tenant's policies)",
    )
    parser.add_argument(
        "--format",
        choices=("text", "github"),
        default="text",
        help="github: ::error/::warning workflow commands (annotations on the PR diff) instead of plain lines",
    )


def run(args: argparse.Namespace, env: Env) -> int:
    diagnostics, files = validate(
        [Path(p) for p in args.paths],
        config_path=Path(args.config) if args.config else None,
        tenant=args.tenant,
        cwd=Path.cwd(),
        fallback_tenant_id=env_tenant_id(env),
    )
    report(diagnostics, files, args.format, sys.stdout)
    return EXIT_ERROR if any(d.is_error for d in diagnostics) else EXIT_OK


def validate(
    paths: Sequence[Path],
    *,
    config_path: Path | None,
    tenant: str | None,
    cwd: Path,
    fallback_tenant_id: str | None = None,
) -> tuple[list[Diagnostic], list[str]]:
    """Every diagnostic of the selected inputs, and the files read."""
    diagnostics: list[Diagnostic] = []
    files: list[str] = []
    config: Config | None = None
    source = config_path if config_path is not None else find_config(cwd)
    explicit_configs = [p for p in paths if p.name in CONFIG_NAMES and p.is_file()]
    if explicit_configs:
        source = explicit_configs[0]
    if source is not None:
        config, found = check_config(source, cwd=cwd, fallback_tenant_id=fallback_tenant_id)
        diagnostics.extend(found)
        files.append(display_path(source if source.is_absolute() else cwd / source))
    if config is None and source is None:
        config = implicit_config(cwd, fallback_tenant_id=fallback_tenant_id)
    results: list[LoadResult] = []
    others = [p for p in paths if p not in explicit_configs]
    if others:
        results.extend(_explicit(others, config, diagnostics))
    elif config is not None:
        # Without --tenant, every tenant's folder is checked; a wrong --tenant is a usage error (XtapError).
        selected = list(config.tenants) if tenant is None else [config.tenant(tenant)]
        seen: set[Path] = set()
        for entry in selected:
            if entry.policies.resolve() not in seen:
                seen.add(entry.policies.resolve())
                results.append(load_policies(entry.policies, config))
    for result in results:
        diagnostics.extend(result.diagnostics)
        files.extend(f for f in result.files if f not in files)
    return diagnostics, files


def _explicit(
    paths: Sequence[Path], config: Config | None, diagnostics: list[Diagnostic]
) -> list[LoadResult]:
    """PATHs given on the command line: folders are policies folders; files are partner or default files."""
    results: list[LoadResult] = []
    partners: list[Path] = []
    default: Path | None = None
    for path in paths:
        if path.is_dir():
            results.append(load_policies(path, config))
        elif not path.exists():
            diagnostics.append(Diagnostic(display_path(path), 0, 0, "error", "no such file or folder"))
        elif not path.name.lower().endswith(YAML_SUFFIXES):
            diagnostics.append(
                Diagnostic(display_path(path), 0, 0, "error", "not a YAML file (.yaml or .yml)")
            )
        elif path.name in DEFAULT_NAMES:
            if default is not None:
                results.append(_load_files((), default, config))
            default = path
        else:
            partners.append(path)
    if partners or default is not None:
        results.append(_load_files(partners, default, config))
    return results


def _load_files(partners: Sequence[Path], default: Path | None, config: Config | None) -> LoadResult:
    ignore = config.ignore if config is not None else frozenset()
    return load_files(partners, default, global_ignore=ignore)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(diagnostics: Sequence[Diagnostic], file_count: int) -> str:
    errors = sum(1 for d in diagnostics if d.is_error)
    warnings = len(diagnostics) - errors
    if not diagnostics:
        return f"{_plural(file_count, 'file')} valid"
    return f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')} in {_plural(file_count, 'file')}"


def github_annotation(diagnostic: Diagnostic) -> str:
    """A GitHub Actions workflow command that annotates the file (and line) in the pull request."""
    return annotation(
        diagnostic.severity, diagnostic.path, diagnostic.line, diagnostic.col, diagnostic.message
    )


def report(diagnostics: Sequence[Diagnostic], files: Sequence[str], fmt: str, out: TextIO) -> None:
    for diagnostic in diagnostics:
        if fmt == "github":
            write_command(out, github_annotation(diagnostic))  # xtap's own command: passes the guard
        else:
            out.write(str(diagnostic) + "\n")
    out.write(summary(diagnostics, len(files)) + "\n")
