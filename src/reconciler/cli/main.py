"""`xtap` command line: parses arguments, wires the steps, maps outcomes to exit codes.

This is the one place that reads the process environment: `main` takes a snapshot of it (or the mapping a
caller passes, as the demo and tests do) and hands it to the command.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType

from reconciler import __version__
from reconciler.core.errors import EXIT_ERROR, XtapError
from reconciler.core.text import printable
from reconciler.shell import console

# Each name is a module under reconciler.cli.commands with add_parser(subparsers) and run(args, env) -> int.
COMMANDS: tuple[str, ...] = (
    "validate",
    "plan",
    "apply",
    "drift",
    "export",
    "show",
    "tenants",
    "github",
    "emulator",
    "demo",
)

log = logging.getLogger("reconciler")


def _modules() -> dict[str, ModuleType]:
    return {name: importlib.import_module(f"reconciler.cli.commands.{name}") for name in COMMANDS}


def build_parser(modules: dict[str, ModuleType]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xtap", description="Cross-tenant access policy as code for Microsoft Entra."
    )
    parser.add_argument("--version", action="version", version=f"xtap {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v", "--verbose", action="count", default=0, help="more detail on stderr (-v requests, -vv debug)"
    )
    common.add_argument("--config", metavar="FILE", help="xtap.yaml to use (default: ./xtap.yaml if present)")
    common.add_argument("--tenant", metavar="NAME", help="tenant of a multi-tenant xtap.yaml")
    common.add_argument(
        "--managed-identity",
        action="store_true",
        help="sign in as the Azure managed identity when no other credential is set (self-hosted runners)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in modules.values():
        module.add_parser(sub, common)
    return parser


class _PrintableFormatter(logging.Formatter):
    """Log messages carry Graph's and the files' text: made printable (a traceback at -vv stays as is)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PrintableFormatter("%(message)s"))
    root = logging.getLogger("reconciler")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # Third-party loggers can print headers and bodies; they stay quiet at every verbosity.
    for name in ("httpx", "httpcore", "urllib3", "msal", "requests"):
        logging.getLogger(name).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    environment = dict(os.environ) if env is None else env
    # Under GitHub Actions nothing printed may act as a workflow command (see shell.console).
    with console.guarded(environment):
        return _main(argv, environment)


def _main(argv: Sequence[str] | None, env: Mapping[str, str]) -> int:
    modules = _modules()
    parser = build_parser(modules)
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        code: int = modules[args.command].run(args, env)
        return code
    except XtapError as exc:
        # Messages quote files and Graph: each of their lines is made printable (a message may hold
        # several located errors, one per line).
        lines = str(exc).split("\n")
        print("xtap: error: " + "\n".join(printable(line) for line in lines), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("xtap: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not an expected failure: say so, traceback only when asked
        if args.verbose >= 2:
            raise
        print(
            printable(f"xtap: internal error: {type(exc).__name__}: {exc} (run with -vv for details)"),
            file=sys.stderr,
        )
        return EXIT_ERROR
