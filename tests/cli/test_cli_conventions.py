"""Conventions every `xtap` command keeps: usage errors, help, options where they act, exit codes.

Usage errors exit 1 — 2 means "changes" or "drift" — with the usage of the (sub)command that failed and
a suggestion; every command and option has help; the README's exit codes are the catalog's.
"""

from __future__ import annotations

import argparse
import re

import pytest

from reconciler.cli import catalog
from reconciler.cli.main import build_parser, main
from tests.support import REPO


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parsers under `parser` (argparse keeps them in the choices of its subparsers action)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def leaves() -> dict[str, argparse.ArgumentParser]:
    """`plan` → its parser, `github find-comment` → its parser: every command line that runs something."""
    found: dict[str, argparse.ArgumentParser] = {}
    for entry in catalog.COMMANDS:
        command = subcommands(build_parser(entry.name))[entry.name]
        helpers = subcommands(command)
        if helpers:
            found |= {f"{entry.name} {name}": parser for name, parser in helpers.items()}
        if not helpers or entry.name == "emulator":  # `xtap emulator` runs alone too; set/delete are extra
            found[entry.name] = command
    return found


LEAVES = leaves()
GROUPS = {"github": subcommands(subcommands(build_parser("github"))["github"])}


def long_options(parser: argparse.ArgumentParser) -> list[str]:
    return [o for a in parser._actions for o in a.option_strings if o.startswith("--") and o != "--help"]


def typo(option: str) -> str:
    """`--format` → `--formta`: the last two different letters swapped, so it is no prefix argparse would
    accept (`access` → `accses`, not itself)."""
    chars = list(option)
    i = len(chars) - 1
    while i > 1 and chars[i] == chars[i - 1]:
        i -= 1
    chars[i - 1], chars[i] = chars[i], chars[i - 1]
    assert "".join(chars) != option, option
    return "".join(chars)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv), env={})
    out, err = capsys.readouterr()
    return code, out, err


def usage_of(name: str) -> str:
    return f"usage: xtap {name} [-h]"


def test_every_command_is_covered() -> None:
    assert sorted(LEAVES) == sorted(
        [c.name for c in catalog.COMMANDS if c.name != "github"]
        + [
            f"github {h}"
            for h in (
                "find-comment",
                "plan-comment",
                "plan-summary",
                "drift-action",
                "apply-summary",
                "apply-tenants",
            )
        ]
        + ["emulator set", "emulator delete"]
    )


def test_an_unknown_command_exits_1_with_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "plna")
    assert (code, out) == (1, "")
    assert err == (
        "usage: xtap [-h] [--version] COMMAND ...\n"
        "xtap: error: unknown command 'plna'; did you mean 'plan'? (one of: validate, plan, apply, drift, "
        "export, show, access, lint, report, tenants, github, emulator, demo)\n"
    )


@pytest.mark.parametrize("name", [c.name for c in catalog.COMMANDS])
def test_a_misspelt_command_gets_its_right_name(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, typo(name))
    assert code == 1
    assert err.splitlines()[-1].startswith(
        f"xtap: error: unknown command {typo(name)!r}; did you mean {name!r}?"
    )


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_a_misspelt_helper_gets_its_right_name(group: str, capsys: pytest.CaptureFixture[str]) -> None:
    for helper in GROUPS[group]:
        code, _, err = run(capsys, group, typo(helper))
        assert code == 1
        assert err.startswith(f"usage: xtap {group} [-h] SUBCOMMAND ...\n")
        assert err.splitlines()[-1].startswith(
            f"xtap {group}: error: unknown command {typo(helper)!r}; did you mean {helper!r}?"
        )


@pytest.mark.parametrize("name", sorted(LEAVES))
def test_an_unknown_option_exits_1_with_the_commands_own_usage(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *name.split(), "--bogus")
    assert (code, out) == (1, "")
    assert err.startswith(usage_of(name))
    assert err.splitlines()[-1] == f"xtap {name}: error: unknown option '--bogus' (see `xtap {name} --help`)"


@pytest.mark.parametrize("name", sorted(LEAVES))
def test_every_misspelt_option_gets_its_right_name(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    options = long_options(LEAVES[name])
    assert options
    for option in options:
        code, _, err = run(capsys, *name.split(), typo(option))
        assert code == 1, option
        assert err.startswith(usage_of(name)), option
        assert err.splitlines()[-1] == (
            f"xtap {name}: error: unknown option {typo(option)!r}; did you mean {option!r}?"
        )


def test_a_usage_error_is_not_the_changes_code(capsys: pytest.CaptureFixture[str]) -> None:
    # CI reads 2 from `plan --detailed-exitcode` as "changes planned"; a typo must not look like that.
    code, _, err = run(capsys, "plan", "--detailed-exitcode", "--formt", "markdown")
    assert code == 1
    assert err.splitlines()[-1] == "xtap plan: error: unknown option '--formt'; did you mean '--format'?"


def test_an_unknown_option_is_reported_before_a_missing_one(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "github", "plan-comment", "--tenant", "t", "--pan", "p.md", "--exit-code", "2")
    assert code == 1
    assert (
        err.splitlines()[-1]
        == "xtap github plan-comment: error: unknown option '--pan'; did you mean '--plan'?"
    )


def test_an_invalid_choice_names_the_choices_and_the_closest(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "plan", "--format", "mardown")
    assert code == 1
    assert err.startswith(usage_of("plan"))
    assert err.splitlines()[-1] == (
        "xtap plan: error: argument --format: invalid choice 'mardown'; did you mean 'markdown'? "
        "(one of: text, markdown, json)"
    )


def test_a_stray_argument_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "plan", "out", "extra")
    assert code == 1
    assert err.splitlines()[-1] == "xtap plan: error: unexpected argument: extra"


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys) == (
        1,
        "",
        "usage: xtap [-h] [--version] COMMAND ...\nxtap: error: the following arguments are required: COMMAND\n",
    )


def test_top_level_help_lists_every_command_with_its_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--help")
    assert (code, err) == (0, "")
    listed = re.findall(r"^    (\w+) +(.+)$", out, flags=re.M)
    assert [name for name, _ in listed] == [c.name for c in catalog.COMMANDS]
    assert "Run `xtap COMMAND --help` for a command's options and exit codes." in out
    assert run(capsys, "--version") == (0, "xtap 0.1.0\n", "")


@pytest.mark.parametrize("name", sorted(LEAVES) + sorted(GROUPS))
def test_every_help_has_a_description_option_help_and_the_exit_codes(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *name.split(), "--help")
    assert (code, err) == (0, "")
    parser = LEAVES.get(name) or subcommands(build_parser(name))[name]
    assert parser.description and parser.description in out
    undocumented = [
        a.dest for a in parser._actions if not a.help and not isinstance(a, argparse._SubParsersAction)
    ]
    assert undocumented == []
    command = name.split()[0]
    assert out.endswith(catalog.epilog(command) + "\n")
    assert "  1    on a usage error (an unknown command or option, a missing or invalid argument)\n" in out


SIGN_IN = {"--config", "--tenant", "--managed-identity"}
WHERE = {
    "validate": {"--config", "--tenant"},
    "plan": SIGN_IN,
    "apply": SIGN_IN,
    "drift": SIGN_IN,
    "export": SIGN_IN,
    "show": SIGN_IN,
    "access": SIGN_IN,
    "lint": SIGN_IN,
    "report": SIGN_IN,
    "tenants": {"--config", "--tenant"},
    "emulator": set(),
    "emulator set": set(),
    "emulator delete": set(),
    "demo": set(),
    "github find-comment": {"--tenant"},
    "github plan-comment": {"--tenant"},
    "github plan-summary": {"--tenant"},
    "github drift-action": {"--tenant"},
    "github apply-summary": {"--tenant"},
    "github apply-tenants": set(),
}


@pytest.mark.parametrize("name", sorted(LEAVES))
def test_the_shared_options_are_only_where_they_act(name: str) -> None:
    assert set(long_options(LEAVES[name])) & SIGN_IN == WHERE[name]
    assert "--verbose" in long_options(LEAVES[name])


@pytest.mark.parametrize("name", ["plan", "drift", "show", "apply", "lint", "report"])
def test_the_commands_that_read_policies_take_the_folder_as_an_argument(name: str) -> None:
    positionals = [a.metavar for a in LEAVES[name]._actions if not a.option_strings]
    assert "POLICIES" in positionals


def readme_exit_codes() -> dict[str, str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text.split("## Commands", 1)[1].split("\n\n", 2)[1]
    rows = [line.split(" | ") for line in table.splitlines() if line.startswith("| `xtap ")]
    return {row[0].removeprefix("| `xtap ").split()[0].rstrip("`"): row[2].removesuffix(" |") for row in rows}


def test_the_readme_exit_codes_are_the_catalogs() -> None:
    assert readme_exit_codes() == {c.name: catalog.exit_codes_line(c.name) for c in catalog.COMMANDS}
    text = (REPO / "README.md").read_text(encoding="utf-8")
    common = "; ".join(f"{code} {meaning}" for code, meaning in catalog.COMMON_EXIT_CODES)
    assert f"Unless its row says otherwise, every command also exits {common}." in text


@pytest.mark.parametrize("name", ["README.md", ".pre-commit-hooks.yaml"])
def test_the_pre_commit_examples_pin_a_commit(name: str) -> None:
    # No release is tagged: an example with `rev: v0.1.0` fails in pre-commit for whoever copies it.
    revs = re.findall(r"\brev: (\S+)", (REPO / name).read_text(encoding="utf-8"))
    assert revs == ["<sha>"]


def test_an_option_before_the_command_is_the_top_levels_to_refuse(capsys: pytest.CaptureFixture[str]) -> None:
    # The command's own options parse as usual; the stray one is named with the top level's usage.
    code, out, err = run(capsys, "-v", "plan", "--format", "text")
    assert (code, out) == (1, "")
    assert err == (
        "usage: xtap [-h] [--version] COMMAND ...\nxtap: error: unknown option '-v' (see `xtap --help`)\n"
    )
    code, out, err = run(capsys, "--help", "plan")
    assert (code, err) == (0, "")
    assert [name for name, _ in re.findall(r"^    (\w+) +(.+)$", out, flags=re.M)] == [
        c.name for c in catalog.COMMANDS
    ]
