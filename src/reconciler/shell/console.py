"""What xtap prints under GitHub Actions: no line it did not mean as a workflow command can be one.

The Actions runner reads every line a step prints, on both streams, and acts on two forms of workflow
command (actions/runner, `ActionCommand.TryParseV2` and `TryParse`):

- `::name props::data` at the start of a line, after leading whitespace;
- `##[name props]data` *anywhere* in a line (the older form, still parsed).

A policy file name, a `description` or a Graph error message that reaches such a place could stop command
processing (`::stop-commands::TOKEN`), so that a later `::add-mask::` is printed as text and the token it
should hide is logged in clear, or could set outputs and annotations. `printable` already keeps such text
on one line; `CommandGuard` wraps `sys.stdout` and `sys.stderr` while a command runs under Actions and
neutralizes whatever still looks like a command — by escaping the one character that completes it
(`:\\x3a…`, `##\\x5b…`), visibly — except what xtap writes through `write_command` itself: token masks and
`validate --format github` annotations.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Protocol, TextIO


class Stream(Protocol):
    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


_BREAK = re.compile(r"\r\n|\r|\n")  # the runner splits lines at each of these
_V1 = re.compile(r"(?<=##)\[")
# A line that starts (after whitespace, as str.lstrip and the runner's TrimStart see it) with `::`.
_V2_START = re.compile(r"(?:\A|[\r\n])\s*::")


def neutralize(line: str) -> str:
    """`line` (no line break in it) with nothing a runner would read as a workflow command.

    Only the character that completes a command is changed, so the neutralized form of a prefix of a line
    is a prefix of the neutralized line: a partial line flushed early and its rest come out the same as
    the whole line would.
    """
    line = _V1.sub("\\\\x5b", line)
    stripped = line.lstrip()
    if stripped.startswith("::"):
        at = len(line) - len(stripped) + 1
        line = line[:at] + "\\x3a" + line[at + 1 :]
    return line


class CommandGuard(io.TextIOBase):
    """A text stream that passes everything to `inner`, neutralized line by line (see `neutralize`)."""

    def __init__(self, inner: TextIO) -> None:
        super().__init__()
        self.inner = inner
        self._line = ""  # the part of the current line already passed on (raw)
        self._sent = 0  # how much of neutralize(self._line) was written
        self.masked: set[str] = set()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.inner.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.inner, "encoding", "utf-8") or "utf-8"

    def write(self, text: str) -> int:
        clean = "##[" not in text and ("::" not in text or _V2_START.search(text) is None)
        if clean and not self._line:
            # Nothing to neutralize, at a line start: pass it on whole (a big report is one write).
            self.inner.write(text)
            self._line = text[max(text.rfind("\n"), text.rfind("\r")) + 1 :]
            self._sent = len(self._line)
            return len(text)
        pos = 0
        for match in _BREAK.finditer(text):
            self._emit(text[pos : match.start()], match.group())
            pos = match.end()
        self._emit(text[pos:], "")
        return len(text)

    def _emit(self, piece: str, end: str) -> None:
        if not piece and not end:
            return
        self._line += piece
        safe = neutralize(self._line)
        self.inner.write(safe[self._sent :] + end)
        self._sent = len(safe)
        if end:
            self._line, self._sent = "", 0

    def flush(self) -> None:
        self.inner.flush()

    def write_command(self, line: str) -> None:
        """Write `line`, a workflow command xtap composed itself, unchanged and on a line of its own."""
        if self._line:
            self.write("\n")
        write_command(self.inner, line)


def write_command(stream: Stream, line: str) -> None:
    """Write a workflow command xtap composed (`::add-mask::…`, `::error file=…::…`) as one whole line.

    The caller has escaped whatever the command carries; through a `CommandGuard` this is the only way a
    line that starts with `::` gets out.
    """
    if "\n" in line or "\r" in line:
        raise ValueError("a workflow command is one line")
    if isinstance(stream, CommandGuard):
        stream.write_command(line)
    else:
        stream.write(line + "\n")


def add_mask(stream: Stream, secret: str) -> None:
    """Ask the runner to hide `secret` from the log from now on (once per guarded stream)."""
    if not secret:
        return
    if isinstance(stream, CommandGuard):
        if secret in stream.masked:
            return
        stream.masked.add(secret)
    write_command(stream, f"::add-mask::{secret}")
    stream.flush()


@contextmanager
def guarded(env: Mapping[str, str]) -> Iterator[None]:
    """Under GitHub Actions, `sys.stdout` and `sys.stderr` are guarded for the duration; elsewhere, as is.

    A token that is known before anything is printed (`XTAP_ACCESS_TOKEN`) is masked first of all.
    """
    if env.get("GITHUB_ACTIONS") != "true":
        yield
        return
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = CommandGuard(out), CommandGuard(err)
    try:
        add_mask(sys.stderr, env.get("XTAP_ACCESS_TOKEN", ""))
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = out, err
