"""libyaml's errors in plain words. Pure: the error and the text in, a position and a message out.

The commonest mistakes get a sentence a newcomer can act on, at the line that is wrong: a line indented
more than the keys above it ("mapping values are not allowed in this context", reported at a colon
further right), or less than them ("did not find expected key", reported after the fact). Anything else
keeps libyaml's own words after "invalid YAML:", with the place of its context.
"""

from __future__ import annotations

import re

import yaml

Pos = tuple[int, int]

# What libyaml says when a line is indented more, or less, than the keys it should line up with.
_MORE = frozenset({"mapping values are not allowed in this context"})
_LESS = frozenset(
    {
        "did not find expected key",
        "did not find expected '-' indicator",
        "did not find expected <document start>",
    }
)
# A mapping entry, maybe inside list items: `key:`, `key: value`, `- key: value`, `- - key:`.
_ENTRY = re.compile(
    r"(?P<lead> *(?:- +)*)(?P<key>[^\s#'\"\-\[\]{}][^#]*?|'[^']*'|\"[^\"]*\"):(?P<rest>(?: .*)?)\Z"
)


def syntax_problem(exc: yaml.MarkedYAMLError, text: str, pos: Pos, max_depth: int) -> tuple[Pos, str]:
    """Where to point and what to say for a syntax error libyaml reported at `pos`."""
    mark = exc.problem_mark or exc.context_mark
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        return pos, "invalid YAML: a tab character cannot indent YAML; use spaces"
    if mark is not None and exc.problem in _MORE | _LESS:
        found = _indentation(text, mark.line)
        if found is not None:
            return found
    return pos, _syntax_message(exc, max_depth)


def _indentation(text: str, line: int) -> tuple[Pos, str] | None:
    """The offending line and its siblings above, when the error is a line out of alignment."""
    lines = text.split("\n")
    if line >= len(lines):
        return None
    indent = len(lines[line]) - len(lines[line].lstrip(" "))
    above = _previous_entry(lines, line)
    if above is None:
        return None
    number, column, has_value = above
    where = f"line {number + 1}, column {column + 1}"
    # libyaml's word depends on what it was reading (a plain scalar going on, a comment ending it); the
    # columns tell what happened.
    if indent > column and has_value:
        message = (
            f"invalid YAML: this line is indented more than its siblings above ({where}); align it with them"
        )
    elif indent < column:
        message = (
            f"invalid YAML: this line is indented less than its siblings above ({where}); align it with them"
        )
    else:
        return None
    return (line + 1, indent + 1), message


def _previous_entry(lines: list[str], line: int) -> tuple[int, int, bool] | None:
    """The nearest mapping entry above `line` (blank and comment lines skipped): its line, the column of
    its key (after any `- `), and whether a value follows the colon on that line."""
    for number in range(line - 1, -1, -1):
        stripped = lines[number].strip()
        if not stripped or stripped.startswith("#"):
            continue
        entry = _ENTRY.match(lines[number].rstrip("\r"))
        if entry is None:
            return None
        rest = entry.group("rest").split(" #", 1)[0].strip()
        return number, len(entry.group("lead")), bool(rest)
    return None


def _syntax_message(exc: yaml.MarkedYAMLError, max_depth: int) -> str:
    problem = exc.problem or "syntax error"
    if exc.problem == "but found another document":
        return "a file holds one YAML document; found a second one"
    if exc.problem == "found undefined alias":
        return "YAML aliases are not allowed"
    if problem.startswith("exceeded maximum nesting depth"):
        return f"nesting is deeper than {max_depth} levels"
    if exc.context and exc.context_mark is not None:
        where = f"line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}"
        return f"invalid YAML: {problem} ({exc.context} at {where})"
    return f"invalid YAML: {problem}"


def reader_problem(text: str, exc: yaml.reader.ReaderError) -> tuple[Pos, str]:
    """A character YAML refuses (a control character), where it is."""
    code = exc.character if isinstance(exc.character, int) else ord(exc.character)
    return _byte_pos(text, exc.position), f"invalid character U+{code:04X}"


def flow_cap_position(text: str, start: int, end: int, nth: int) -> Pos | None:
    """Where the `nth` flow bracket still open after `start` opens (quoted text skipped), if before `end`."""
    depth = 0
    quote = ""
    i = start
    while i < end:
        ch = text[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
            if depth >= nth:
                line_start = text.rfind("\n", 0, i) + 1
                return (text.count("\n", 0, i) + 1, i - line_start + 1)
        elif ch in "]}":
            depth -= 1
        i += 1
    return None


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    return lines[line][column : column + 1] if line < len(lines) else ""


def _byte_pos(text: str, byte_offset: int) -> Pos:
    """Line:col of a byte offset into the UTF-8 encoding of `text` (libyaml reports bytes)."""
    prefix = text.encode("utf-8")[:byte_offset].decode("utf-8", errors="replace")
    line = prefix.count("\n") + 1
    col = len(prefix) - (prefix.rfind("\n") + 1) + 1
    return (line, col)
