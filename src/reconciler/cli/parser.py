"""argparse with xtap's conventions, and the options several commands share.

- A usage error exits 1, never argparse's 2: 2 means "changes" for `plan --detailed-exitcode` and "drift"
  for `drift`, and CI reads it so.
- The usage printed is the one of the (sub)command that failed to parse, not the top level's: argparse
  hands a subcommand's unknown options back to the top level, which would report them.
- An unknown command, choice or option comes with "did you mean" when one is close.

Each command adds only the shared options that act on it, so `--help` never lists an option that does
nothing there.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence

from reconciler.cli import catalog
from reconciler.core.errors import EXIT_ERROR

# `typing` is not imported to run: `xtap --help` would pay for it. mypy treats any name TYPE_CHECKING as
# true, so the names below exist for the type checker only (annotations are not evaluated).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn


class Parser(argparse.ArgumentParser):
    _words: tuple[str, ...] = ()

    def error(self, message: str) -> NoReturn:
        # An unknown option explains the rest ("--formt markdown": markdown is then a stray argument, and
        # a required option may look missing), so it is reported first.
        unknown = self._unknown_options()
        if unknown:
            message = self._unrecognized(unknown)
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")

    def parse_known_args(  # type: ignore[override]  # one signature: xtap never passes a namespace type
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        # A subcommand's parser is run through this method; refusing leftovers here, where they were
        # met, is what prints that subcommand's usage instead of the top level's.
        self._words = tuple(sys.argv[1:] if args is None else args)
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(self._unrecognized(extras))
        return parsed, extras

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is None or value in choices:
            return
        names = [str(choice) for choice in choices]
        hint = did_you_mean(str(value), names)
        if isinstance(choices, dict):  # the subparsers: a command name
            raise argparse.ArgumentError(
                None, f"unknown command {value!r}{hint} (one of: {', '.join(names)})"
            )
        raise argparse.ArgumentError(action, f"invalid choice {value!r}{hint} (one of: {', '.join(names)})")

    def _long_options(self) -> list[str]:
        return [o for action in self._actions for o in action.option_strings if o.startswith("--")]

    def _unknown_options(self) -> list[str]:
        """The `--words` this parser was given that are none of its options (nor a prefix argparse takes)."""
        if self._subparsers is not None:  # the words of a subcommand are its own parser's business
            return []
        known = self._long_options()
        unknown = []
        for word in self._words:
            if word == "--":
                break
            name = word.split("=", 1)[0]
            if name.startswith("--") and not any(
                o == name or (self.allow_abbrev and o.startswith(name)) for o in known
            ):
                unknown.append(name)
        return unknown

    def _unrecognized(self, extras: list[str]) -> str:
        options = [a for a in extras if a.startswith("-") and a != "-"]
        if not options:
            return f"unexpected argument{'s' if len(extras) > 1 else ''}: {' '.join(extras)}"
        wrong = options[0].split("=", 1)[0]
        hint = did_you_mean(wrong, self._long_options()) or f" (see `{self.prog} --help`)"
        return f"unknown option {wrong!r}{hint}"


def did_you_mean(wrong: str, candidates: Iterable[str]) -> str:
    """`; did you mean 'plan'?` when one candidate is close to `wrong`, else an empty string."""
    import difflib  # only on the error path: it is not needed to start

    # Compared without the dashes every option shares, which would make any two options look alike.
    by_name = {candidate.lstrip("-"): candidate for candidate in candidates}
    key = wrong.lstrip("-")
    # Two letters typed in the wrong order: difflib rates that low on short words (`otu` for `out`).
    close = [name for name in by_name if _transposed(key, name)]
    close = close or difflib.get_close_matches(key, list(by_name), n=1, cutoff=0.6)
    return f"; did you mean {by_name[close[0]]!r}?" if close else ""


def _transposed(a: str, b: str) -> bool:
    """`a` is `b` with two neighbouring letters swapped."""
    if len(a) != len(b):
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def add_command(sub: Any, name: str, *, verbose: bool = True) -> Parser:
    """The parser of command `name`: its help, description and exit codes from the catalog."""
    entry = catalog.BY_NAME[name]
    return add_leaf(sub, name, entry.summary, entry.description, catalog.epilog(name), verbose=verbose)


def add_leaf(
    sub: Any, name: str, summary: str, description: str, epilog: str, *, verbose: bool = True
) -> Parser:
    """A (sub)command's parser; `description` and `epilog` keep their line breaks."""
    parser: Parser = sub.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if verbose:
        add_verbose(parser)
    return parser


def add_verbose(parser: argparse.ArgumentParser) -> None:
    # On every command (scripts pass it uniformly); it selects what reaches stderr, and stays silent
    # where a command logs nothing.
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more detail on stderr (-v requests, -vv debug)"
    )


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="xtap.yaml to use (default: ./xtap.yaml if present)")


def add_tenant(parser: argparse.ArgumentParser, help: str = "tenant of a multi-tenant xtap.yaml") -> None:
    parser.add_argument("--tenant", metavar="NAME", help=help)


def add_sign_in(parser: argparse.ArgumentParser) -> None:
    """What a command that talks to Graph needs: the configuration, the tenant, the credential."""
    add_config(parser)
    add_tenant(parser)
    parser.add_argument(
        "--managed-identity",
        action="store_true",
        help="sign in as the Azure managed identity when no other credential is set (self-hosted runners)",
    )


def add_policies(parser: argparse.ArgumentParser) -> None:
    """The optional POLICIES folder of the commands that read one tenant's files (`xtap plan out/`)."""
    parser.add_argument(
        "policies",
        nargs="?",
        metavar="POLICIES",
        help="the policies folder (default: the tenant's folder in xtap.yaml, else ./policies)",
    )
