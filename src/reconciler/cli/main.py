"""`xtap` command line: parses arguments, wires the steps, maps outcomes to exit codes.

This is the one place that reads the process environment: `main` takes a snapshot of it (or the mapping a
caller passes, as the demo and tests do) and hands it to the command.

Only the chosen command's module is imported (start-up, issue 14): `xtap --help` lists the commands from
the catalog, and the Graph client (httpx, msal, cryptography) is imported by the commands that talk to
Graph, when they do.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType

from reconciler import __version__
from reconciler.cli import catalog
from reconciler.cli.parser import Parser
from reconciler.core.errors import EXIT_ERROR, EXIT_OK, XtapError

# Each name is a module under reconciler.cli.commands with add_parser(subparsers) and run(args, env) -> int;
# the catalog says what each does.
COMMANDS: tuple[str, ...] = tuple(command.name for command in catalog.COMMANDS)


def command_module(name: str) -> ModuleType:
    return importlib.import_module(f"reconciler.cli.commands.{name}")


def chosen_command(argv: Sequence[str]) -> str | None:
    """The command named on the line: its first word that is not an option, if it is one of ours."""
    word = next((w for w in argv if not w.startswith("-")), None)
    return word if word in catalog.BY_NAME else None


def build_parser(command: str | None = None, *, alone: bool = True) -> Parser:
    """The top-level parser with the full parser of `command`; `alone`, nothing else.

    Each parser argparse builds costs start-up time (its translations are looked up on disk), so when
    the line starts with the command, the others, which cannot be parsed anyway, are not built. Else
    (`xtap --help`, `xtap -v plan`, a misspelt command) every command is listed by its one line.
    """
    parser = Parser(
        prog="xtap",
        description="Cross-tenant access policy as code for Microsoft Entra.",
        epilog="Run `xtap COMMAND --help` for a command's options and exit codes.",
    )
    parser.add_argument("--version", action="version", version=f"xtap {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, title="commands")
    for entry in catalog.COMMANDS:
        if entry.name == command:
            command_module(entry.name).add_parser(sub)
        elif not (alone and command is not None):
            sub.add_parser(entry.name, help=entry.summary, add_help=False)
    return parser


def _configure_logging(verbosity: int) -> None:
    import logging  # not on the path of `xtap --help`

    from reconciler.core.text import printable

    class PrintableFormatter(logging.Formatter):
        """Log messages carry Graph's and the files' text: made printable (a -vv traceback stays as is)."""

        def formatMessage(self, record: logging.LogRecord) -> str:
            return printable(super().formatMessage(record))

    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(PrintableFormatter("%(message)s"))
    root = logging.getLogger("reconciler")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False
    # Third-party loggers can print headers and bodies; they stay quiet at every verbosity.
    for name in ("httpx", "httpcore", "urllib3", "msal", "requests"):
        logging.getLogger(name).setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    if argv is None:  # the process's own command line: xtap is the whole process
        from reconciler.cli import memory

        memory.whole_process()
    environment = dict(os.environ) if env is None else env
    if environment.get("GITHUB_ACTIONS") == "true":
        # Under GitHub Actions nothing printed may act as a workflow command (see shell.console).
        from reconciler.shell import console

        with console.guarded(environment):
            return _main(argv, environment)
    return _main(argv, environment)


def _main(argv: Sequence[str] | None, env: Mapping[str, str]) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    command = chosen_command(words)
    parser = build_parser(command, alone=bool(words) and words[0] == command)
    try:
        args = parser.parse_args(words)
    except SystemExit as exc:  # --help, --version or a usage error; argparse has printed it
        return exc.code if isinstance(exc.code, int) else EXIT_OK if exc.code is None else EXIT_ERROR
    verbose: int = getattr(args, "verbose", 0)
    _configure_logging(verbose)
    try:
        code: int = command_module(args.command).run(args, env)
        return code
    except XtapError as exc:
        from reconciler.core.text import printable  # not on the path of `xtap --help`

        # Messages quote files and Graph: each of their lines is made printable (a message may hold
        # several located errors, one per line).
        lines = str(exc).split("\n")
        print("xtap: error: " + "\n".join(printable(line) for line in lines), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("xtap: interrupted", file=sys.stderr)
        return catalog.EXIT_INTERRUPTED
    except Exception as exc:  # a bug, not an expected failure: say so, traceback only when asked
        if verbose >= 2:
            raise
        from reconciler.core.text import printable

        print(
            printable(f"xtap: internal error: {type(exc).__name__}: {exc} (run with -vv for details)"),
            file=sys.stderr,
        )
        return EXIT_ERROR
