"""Every `xtap` command as data: its one-line help, its description and its exit codes.

`xtap --help` is built from this table alone, without importing a command module (start-up, issue 14).
Each command's parser takes its help, description and exit-code epilog from here, and a test holds the
README's command table to the same exit codes: they are written down once.

Kept free of dataclasses and of every other heavy import: this module is on the path of `xtap --help`.
"""

from __future__ import annotations

from reconciler.core.errors import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, EXIT_REFUSED

EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report a SIGINT


class Command:
    """One row of the table, read-only. A plain class with slots: a dataclass or a NamedTuple would
    import dataclasses or typing, a good part of what `xtap --help` may cost."""

    __slots__ = ("description", "exit_codes", "name", "summary")
    name: str
    summary: str  # one line, in `xtap --help`
    description: str  # the head of `xtap NAME --help`
    exit_codes: tuple[tuple[int, str], ...]  # in the order a reader looks for them

    def __init__(
        self, name: str, summary: str, description: str, exit_codes: tuple[tuple[int, str], ...]
    ) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "summary", summary)
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "exit_codes", exit_codes)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"catalog entries are read-only ({name})")


COMMANDS: tuple[Command, ...] = (
    Command(
        "validate",
        "check policy files and xtap.yaml (schema + semantic rules)",
        "Check policy files and xtap.yaml against the schemas and the semantic rules, and report every\n"
        "problem at once as path:line:col. Nothing is sent to Graph.",
        ((EXIT_OK, "valid (warnings allowed)"), (EXIT_ERROR, "errors")),
    ),
    Command(
        "plan",
        "show what apply would change (read-only)",
        "Read the tenant from Microsoft Graph, compare it with the policy files and show what `xtap apply`\n"
        "would send: text by default, Markdown for a pull-request comment, JSON for scripts. Read-only;\n"
        "the safety gates are checked here already.",
        (
            (EXIT_OK, "no changes (or changes, without --detailed-exitcode)"),
            (EXIT_CHANGES, "changes planned (with --detailed-exitcode)"),
            (EXIT_REFUSED, "refused by a safety gate"),
            (EXIT_ERROR, "error (invalid files, sign-in, permission, Graph)"),
        ),
    ),
    Command(
        "apply",
        "apply the policy files (or a saved plan) to the tenant",
        "Plan, ask for confirmation, send the minimal writes in $batch requests, then read the tenant back\n"
        "until it matches. A plan saved by `xtap plan --out` is made again and applied only if it is still\n"
        "exactly that plan: refused if the files, the configuration or the tenant changed since.",
        (
            (EXIT_OK, "applied and verified, or nothing to do"),
            (EXIT_REFUSED, "refused by a safety gate or a stale saved plan (nothing written)"),
            (EXIT_ERROR, "error, a failed write, or not converged"),
        ),
    ),
    Command(
        "drift",
        "report what changed in the tenant behind Git's back (read-only)",
        "Compare the tenant with the policy files and report what differs, what no file manages and, with\n"
        "--previous, what is new since the last report. Read-only; meant to run on a schedule.",
        (
            (EXIT_OK, "no drift (information items alone never count)"),
            (EXIT_CHANGES, "drift"),
            (EXIT_ERROR, "error (invalid files, sign-in, Graph, an unreadable --previous)"),
        ),
    ),
    Command(
        "export",
        "write the live tenant as policy files (adoption starts with an empty plan)",
        "Read the tenant and write default.yaml and one file per partner, named after the partner's\n"
        "display name when the tenant lookup is allowed. The files are read back and planned: the plan\n"
        "must be empty. Read-only towards Graph.",
        (
            (EXIT_OK, "written"),
            (
                EXIT_REFUSED,
                "the folder already holds policy files and --force was not given (nothing written)",
            ),
            (EXIT_ERROR, "error (sign-in, Graph, a file that cannot be written)"),
        ),
    ),
    Command(
        "show",
        "the effective settings of one partner, each set on it or inherited from the default",
        "Show what one partner gets after inheriting the default configuration, leaf by leaf: set on the\n"
        "partner, inherited, or not set. PARTNER is a tenantId, the name of its policy file or a domain.\n"
        "Read-only.",
        ((EXIT_OK, "shown"), (EXIT_ERROR, "error (an unknown partner, sign-in, Graph)")),
    ),
    Command(
        "access",
        "may users of a partner tenant reach an app, and which rule decides (files or --live)",
        "Answer one question from the access model: may a user (--user, --group) of the partner tenant\n"
        "--tenant-id reach an application (--app) over each channel (B2B collaboration, B2B direct connect,\n"
        "tenant restrictions, Microsoft 365 collaboration, app service connect), and why: the rule that\n"
        "decides, with its file:line. From the policy files (default.yaml over Microsoft's service default),\n"
        "or the tenant with --live. Read-only.",
        ((EXIT_OK, "answered"), (EXIT_ERROR, "error (bad input, invalid files, sign-in, Graph)")),
    ),
    Command(
        "lint",
        "posture rules over the effective configuration: risky or dead settings (files or --live)",
        "Check the default and every partner, as they resolve (partner over default, default.yaml over\n"
        "Microsoft's service default), against the posture rules of docs/lint.md: each finding with its rule\n"
        "id, level, file:line:col and a link to its documentation. Text, JSON, SARIF for GitHub code scanning,\n"
        "or workflow annotations. Read-only.",
        (
            (EXIT_OK, "no finding at or above --fail-on (suppressed findings never count)"),
            (EXIT_CHANGES, "findings at or above --fail-on (default: error)"),
            (EXIT_ERROR, "error (invalid files, sign-in, Graph, a file that cannot be written)"),
        ),
    ),
    Command(
        "report",
        "the posture on one self-contained HTML page: partners × channels, settings, findings (files or --live)",
        "Write one HTML file that works offline and prints: a summary, a partners × channels matrix (open,\n"
        "some or closed; inherited or set), each partner's effective settings with where each value comes\n"
        "from, trust, consent and sync, the lint findings and, with --live, the drift. Read-only.",
        (
            (EXIT_OK, "written"),
            (EXIT_ERROR, "error (invalid files, sign-in, Graph, a file that cannot be written)"),
        ),
    ),
    Command(
        "tenants",
        "list the tenants of xtap.yaml (one a line, or JSON for a CI matrix)",
        "List the tenant names of the configuration, in its order: one a line, or with --json one array\n"
        "for a CI matrix. With --tenant, check that this one tenant exists and print it.",
        ((EXIT_OK, "listed"), (EXIT_ERROR, "error (an invalid xtap.yaml, an unknown --tenant)")),
    ),
    Command(
        "github",
        "helpers for xtap's GitHub Actions workflows (used by their steps)",
        "The decisions of xtap's workflow steps, for the `gh` CLI calls around them: which comment or issue\n"
        "is xtap's, what a body says, which tenants an apply run touches.",
        ((EXIT_OK, "done"), (EXIT_ERROR, "error (an unreadable or malformed input)")),
    ),
    Command(
        "emulator",
        "serve an emulated Microsoft Graph and sign-in endpoint on loopback HTTPS",
        "Serve the local Microsoft Graph and identity platform on 127.0.0.1 until Ctrl-C or SIGTERM, and\n"
        "print the environment a client needs (`export KEY=value` lines; --env-file writes them to a file\n"
        "for `source`). `xtap emulator set|delete` make portal changes in a running one.",
        (
            (EXIT_OK, "stopped by Ctrl-C or SIGTERM; set/delete: changed"),
            (EXIT_ERROR, "cannot start; set/delete: refused, or no emulator reachable"),
        ),
    ),
    Command(
        "demo",
        "run validate → plan → apply → drift against an in-process emulator",
        "The whole loop, narrated, against an emulator that lives as long as the command: validate, plan,\n"
        "apply, plan again (empty), a simulated portal change, drift. Nothing leaves 127.0.0.1, the policy\n"
        "files are copied (never changed) and your credentials are not used.",
        ((EXIT_OK, "every step behaved as expected"), (EXIT_ERROR, "a step did not")),
    ),
)

# Every command may also end these ways (the emulator's Ctrl-C is its normal stop: 0); said once, under
# the README's command table too.
COMMON_EXIT_CODES: tuple[tuple[int, str], ...] = (
    (EXIT_ERROR, "on a usage error (an unknown command or option, a missing or invalid argument)"),
    (EXIT_INTERRUPTED, "when interrupted (Ctrl-C)"),
)

BY_NAME = {command.name: command for command in COMMANDS}


def exit_codes_line(name: str) -> str:
    """`0 valid (warnings allowed); 1 errors`: the command's own codes on one line (the README's column)."""
    return "; ".join(f"{code} {meaning}" for code, meaning in BY_NAME[name].exit_codes)


def epilog(name: str) -> str:
    """The `exit codes:` block at the end of `xtap NAME --help`."""
    own = [f"  {code:<3}  {meaning}" for code, meaning in BY_NAME[name].exit_codes]
    common = [f"  {code:<3}  {meaning}" for code, meaning in COMMON_EXIT_CODES]
    return "\n".join(["exit codes:", *own, "as for every command (unless said above):", *common])
