"""GitHub Actions workflow annotations (`::error file=…,line=…::message`): what `validate --format github`
and `lint --format github` print so that GitHub marks the line in the pull request. Pure.

The runner reads `%`, CR and LF escaped in the message, and `:` and `,` too in the properties; text from
files is made printable first, so nothing in it can end the command or start another.
"""

from __future__ import annotations

from typing import Literal

from reconciler.core.text import printable

Command = Literal["error", "warning", "notice"]


def _escape_data(text: str) -> str:
    # `##[` anywhere in a line is the runner's older command form: a file name may carry one.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace("##[", "##\\x5b")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(command: Command, path: str, line: int, col: int, message: str, *, title: str = "") -> str:
    """The workflow command annotating `path` (at `line`:`col` unless `line` is 0) with `message`."""
    fields = f"file={_escape_property(printable(path))}"
    if line:
        fields += f",line={line},col={col}"
    if title:
        fields += f",title={_escape_property(printable(title))}"
    return f"::{command} {fields}::{_escape_data(printable(message))}"
