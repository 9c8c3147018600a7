"""One YAML policy file → plain data with the line:col of every key and value. Pure: text in, data out.

YAML is read with a deliberately small subset of YAML (docs/file-format.md):

- The event stream of libyaml (PyYAML's C parser) is composed here, iteratively, so that every mapping key
  and value keeps its line:col, duplicate keys are refused (PyYAML silently keeps the last one), aliases
  are refused where they appear (no alias expansion, so no "billion laughs"), nesting is bounded (PyYAML's
  recursive composer crashes the interpreter on ~100k nested brackets) and only one document is read.
- Scalars are resolved like YAML 1.2's core schema, not YAML 1.1: `yes`/`on`/`no`/`off` stay strings (the
  schema then says "expected a boolean (true/false)"), dates stay strings, `012` stays a string.
- Numbers must be what JSON and Graph can carry: integers within 64 bits, floats finite (Python would
  refuse int() of a 5,000-digit scalar, and `1e999` would become infinity).
- Input must be UTF-8 (a BOM is tolerated) and at most 1 MiB.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from reconciler.core import yaml_errors
from reconciler.core.messages import Problem, describe
from reconciler.core.text import printable

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32

Severity = Literal["error", "warning"]
Pos = tuple[int, int]
JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in an input file. line 0 means "the file (or folder) as a whole"."""

    path: str
    line: int
    col: int
    severity: Severity
    message: str

    def __str__(self) -> str:
        # Paths and messages quote the files: a control character in them must not act on the reader.
        where = f"{self.path}:{self.line}:{self.col}" if self.line else self.path
        return printable(f"{where}: {self.severity}: {self.message}")

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


@dataclass(frozen=True)
class YamlDocument:
    """Plain JSON-like data plus where each part of it was written."""

    path: str
    data: Any
    # path into data -> (position of its mapping key or None, position of its value)
    positions: Mapping[JsonPath, tuple[Pos | None, Pos]] = field(default_factory=dict)
    # how scalars were written where it matters to a message: "quoted", "block", "empty"
    styles: Mapping[JsonPath, str] = field(default_factory=dict)

    def pos(self, path: JsonPath, *, on_key: bool = False) -> Pos:
        """The nearest known position of `path` (its key if asked and known, else its value)."""
        probe = path
        while True:
            entry = self.positions.get(probe)
            if entry is not None:
                key_pos, value_pos = entry
                return key_pos if on_key and key_pos is not None and probe == path else value_pos
            if not probe:
                return (1, 1)
            probe = probe[:-1]

    def diagnostic(self, problem: Problem) -> Diagnostic:
        line, col = self.pos(problem.path, on_key=problem.on_key)
        return Diagnostic(self.path, line, col, problem.severity, problem.message)


# --- YAML ---------------------------------------------------------------------------------------------------

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUES = frozenset({"true", "True", "TRUE"})
_FALSES = frozenset({"false", "False", "FALSE"})
_INT_RE = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
# Like YAML 1.2 core, except that a leading zero (`012`, YAML 1.1 octal) keeps the scalar a string.
_FLOAT_RE = re.compile(r"[-+]?(?:\.[0-9]+|(?:0|[1-9][0-9]*)(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset({None, "!", *(_CORE + t for t in ("str", "int", "float", "bool", "null"))})
_MAP_TAGS = frozenset({None, "!", _CORE + "map"})
_SEQ_TAGS = frozenset({None, "!", _CORE + "seq"})


INT_BITS = 64
_INT_DIGITS = len(str(2 ** (INT_BITS - 1)))  # more digits than this cannot fit, whatever they are


class _OutOfRange:
    """A number JSON and Graph cannot carry; `message` says why (placed where it is written)."""

    def __init__(self, message: str) -> None:
        self.message = message


def _shown_number(text: str, unit: str) -> str:
    return text if len(text) <= 25 else f"a {len(text.lstrip('+-'))}-{unit}"


_INT_LIMIT = 2 ** (INT_BITS - 1)


def _integer(text: str) -> Any:
    # Digits first: int() itself refuses more than 4,300 of them, with an error that is no message of ours.
    if len(text) <= _INT_DIGITS + 1:
        value = int(text)
        if -_INT_LIMIT <= value < _INT_LIMIT:
            return value
    return _OutOfRange(
        f"integer out of range: {_shown_number(text, 'digit integer')} (integers must fit in {INT_BITS} bits)"
    )


def _float(text: str) -> Any:
    number = float(text)
    if math.isinf(number):
        return _OutOfRange(
            f"number out of range: {_shown_number(text, 'character number')} is too large to be a finite number"
        )
    return number


def _resolve_plain(text: str) -> Any:
    """YAML 1.2 core-schema resolution of an untagged plain scalar (never a date, never `yes` → True)."""
    if text in _NULLS:
        return None
    if text in _TRUES:
        return True
    if text in _FALSES:
        return False
    if _INT_RE.match(text):
        return _integer(text)
    if _FLOAT_RE.match(text):
        return _float(text)
    return text


class _TooDeep(Exception):
    def __init__(self, event: Any) -> None:
        super().__init__("too deep")
        self.event = event


@dataclass(slots=True)
class _Frame:
    container: dict[str, Any] | list[Any]
    path: JsonPath
    is_map: bool
    key: str | None = None  # mapping: the key whose value comes next
    key_pos: Pos | None = None
    skip_value: bool = False  # mapping: the next value belongs to a refused key
    key_lines: dict[str, int] = field(default_factory=dict)


_SCALAR, _ALIAS = yaml.ScalarEvent, yaml.AliasEvent
_MAP_START, _SEQ_START = yaml.MappingStartEvent, yaml.SequenceStartEvent
_MAP_END, _SEQ_END = yaml.MappingEndEvent, yaml.SequenceEndEvent
_NODE_EVENTS = frozenset({_SCALAR, _ALIAS, _MAP_START, _SEQ_START})
_LoaderClass: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


Positions = dict[JsonPath, tuple[Pos | None, Pos]]
# How a scalar was written, where it matters to a message: "quoted" ('x' or "x"), "block" (| or >), or
# "empty" (a key with nothing after it, which YAML reads as null).
Styles = dict[JsonPath, str]


class _Composer:
    """Builds data + positions from libyaml's events; collects every YAML-level problem it can."""

    def __init__(self, text: str) -> None:
        self.get_event = _LoaderClass(text).get_event
        self.positions: Positions = {}
        self.styles: Styles = {}
        self.problems: list[tuple[Pos, str]] = []
        self.stack: list[_Frame] = []
        self.root: Any = _MISSING
        self.skip = 0  # depth inside a subtree we refuse (complex key, value of a duplicate key, too deep)
        self.documents = 0
        self.read_to = 0  # text index after the last event taken (where an early scanner error is searched)

    def run(self) -> None:
        # The hot loop of reading a file, in one function: a call per event costs more than the work.
        get_event, stack, positions = self.get_event, self.stack, self.positions
        styles, problems = self.styles, self.problems
        while True:
            event: Any = get_event()
            if event is None:
                return
            self.read_to = event.end_mark.index
            kind = type(event)
            if self.skip:
                self._skipping(event, kind)
                continue
            if kind is _MAP_END or kind is _SEQ_END:
                stack.pop()
                continue
            if kind not in _NODE_EVENTS:
                if self._structure(event, kind):
                    return
                continue
            mark = event.start_mark
            pos = (mark.line + 1, mark.column + 1)
            parent = stack[-1] if stack else None
            key_pos = None
            path: JsonPath = ()
            discard = False
            if parent is not None:
                if parent.is_map:
                    if parent.key is None:
                        self.skip = _take_key(parent, event, pos, problems)
                        continue
                    path, key_pos = (*parent.path, parent.key), parent.key_pos
                else:
                    path = (*parent.path, len(parent.container))
                discard = parent.skip_value
            # A value: the root, a sequence item, or the value of parent.key.
            if kind is _SCALAR:
                style = event.style
                if (style or event.value == "") and not discard:
                    styles[path] = _STYLES.get(style, "empty") if style else "empty"
                value = _scalar(event, pos, problems)
            else:
                value = self._collection(event, kind, pos, path, discard)
            if parent is None:
                self.root = value
            elif not parent.is_map:
                parent.container.append(value)  # type: ignore[union-attr]
            else:
                if discard:
                    parent.skip_value = False
                else:
                    parent.container[parent.key] = value  # type: ignore[index,call-overload]
                parent.key = None
                parent.key_pos = None
            if not discard:
                positions[path] = (key_pos, pos)

    def _skipping(self, event: Any, kind: type) -> None:
        if kind is _MAP_START or kind is _SEQ_START:
            self.skip += 1
            if len(self.stack) + self.skip > MAX_DEPTH:
                raise _TooDeep(event)
        elif kind is _MAP_END or kind is _SEQ_END:
            self.skip -= 1

    def _structure(self, event: Any, kind: type) -> bool:
        """A document's start, the stream's end; True to stop reading."""
        if kind is yaml.DocumentStartEvent:
            self.documents += 1
            if self.documents > 1:
                mark = event.start_mark
                message = "a file holds one YAML document; found a second one"
                self.problems.append(((mark.line + 1, mark.column + 1), message))
                return True
        return kind is yaml.StreamEndEvent

    def _collection(self, event: Any, kind: type, pos: Pos, path: JsonPath, discard: bool) -> Any:
        """The value an alias or the start of a mapping or sequence makes (None where refused)."""
        if kind is _ALIAS:
            self.problems.append((pos, "YAML aliases are not allowed"))
            return None
        is_map = kind is _MAP_START
        if event.tag not in (_MAP_TAGS if is_map else _SEQ_TAGS):
            self.problems.append((pos, f"unsupported YAML tag '{_show_tag(event.tag)}'"))
        if len(self.stack) >= MAX_DEPTH:
            raise _TooDeep(event)
        if discard:
            self.skip = 1
            return None
        value: dict[str, Any] | list[Any] = {} if is_map else []
        self.stack.append(_Frame(value, path, is_map))
        return value


_STYLES = {"'": "quoted", '"': "quoted", "|": "block", ">": "block"}


def _compose(text: str) -> tuple[Any, Positions, Styles, list[tuple[Pos, str]]]:
    """Data, positions and scalar styles of one YAML document, and every YAML-level problem found."""
    composer = _Composer(text)
    problems = composer.problems
    try:
        composer.run()
    except _TooDeep as exc:
        # Stop reading at once: libyaml's scanner does O(depth) work per token, so reading on through
        # 100k nested brackets would take minutes.
        mark = exc.event.start_mark
        problems.append(((mark.line + 1, mark.column + 1), f"nesting is deeper than {MAX_DEPTH} levels"))
        return _MISSING, composer.positions, composer.styles, problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        if mark is not None and (exc.problem or "").startswith("exceeded maximum nesting depth"):
            # PyYAML ≥ 6.0.4 stops its scanner at 1,000 levels, and inside the 1,024-character look-ahead
            # of a flow collection that comes before our own limit sees level 33: point where it would have.
            depth = MAX_DEPTH - len(composer.stack) - composer.skip + 1
            pos = yaml_errors.flow_cap_position(text, composer.read_to, mark.index, depth) or pos
        pos, message = yaml_errors.syntax_problem(exc, text, pos, MAX_DEPTH)
        problems.append((pos, message))
        return _MISSING, composer.positions, composer.styles, problems
    except yaml.reader.ReaderError as exc:
        problems.append(yaml_errors.reader_problem(text, exc))
        return _MISSING, composer.positions, composer.styles, problems
    return composer.root, composer.positions, composer.styles, problems


def _take_key(parent: _Frame, event: Any, pos: Pos, problems: list[tuple[Pos, str]]) -> int:
    """Record a mapping key; returns how deep to skip (a refused complex key's subtree)."""
    kind = type(event)
    if kind is yaml.ScalarEvent:
        if event.tag not in _SCALAR_TAGS:
            problems.append((pos, f"unsupported YAML tag '{_show_tag(event.tag)}'"))
        key = event.value
        first = parent.key_lines.get(key)
        if first is not None:
            problems.append((pos, f"duplicate key '{key}' (first defined at line {first})"))
            parent.skip_value = True
            parent.key = key  # placeholder so the next event is read as this key's value
            return 0
        parent.key_lines[key] = pos[0]
        parent.key = key
        parent.key_pos = pos
        return 0
    parent.key = ""  # placeholder: the value that follows is discarded
    parent.skip_value = True
    if kind is yaml.AliasEvent:
        problems.append((pos, "YAML aliases are not allowed"))
        return 0
    problems.append((pos, "mapping keys must be plain strings"))
    return 1


def _scalar(event: Any, pos: Pos, problems: list[tuple[Pos, str]]) -> Any:
    tag = event.tag
    if tag is None:
        # Untagged: plain scalars are resolved, quoted and block scalars are strings.
        value = _resolve_plain(event.value) if not event.style else event.value
    elif tag not in _SCALAR_TAGS:
        problems.append((pos, f"unsupported YAML tag '{_show_tag(tag)}'"))
        return None  # reported once here; a null draws no second message from the schema
    elif tag == _CORE + "str" or event.style:
        value = event.value
    else:
        value = _resolve_plain(event.value)
    if isinstance(value, _OutOfRange):
        problems.append((pos, value.message))
        return None
    return value


def _show_tag(tag: str) -> str:
    """A tag as it was written: `!!binary`, not `tag:yaml.org,2002:binary`."""
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


def parse_yaml(raw: bytes, path: str) -> tuple[YamlDocument | None, list[Diagnostic]]:
    """Bytes of one file → its document (None when unreadable) and every YAML-level problem."""
    if len(raw) > MAX_BYTES:
        return None, [Diagnostic(path, 1, 1, "error", f"file is larger than 1 MiB ({len(raw)} bytes)")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")) + 1
        byte = raw[exc.start]
        message = f"file is not valid UTF-8 (byte 0x{byte:02x} at offset {exc.start})"
        return None, [Diagnostic(path, line, col, "error", message)]
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        data, positions, styles, problems = _compose(text)
    except (RecursionError, MemoryError):  # pragma: no cover - bounded by MAX_BYTES and MAX_DEPTH
        return None, [Diagnostic(path, 1, 1, "error", "file is too complex to read")]
    diagnostics = [Diagnostic(path, line, col, "error", message) for (line, col), message in problems]
    if data is _MISSING:
        if not problems:
            diagnostics.append(Diagnostic(path, 1, 1, "error", "the file is empty; expected a mapping"))
        return None, diagnostics
    if not isinstance(data, dict):
        line, col = positions.get((), (None, (1, 1)))[1]
        got = describe(data) if data is not None else "nothing (null)"
        diagnostics.append(Diagnostic(path, line, col, "error", f"expected a mapping at the top, got {got}"))
        return None, diagnostics
    return YamlDocument(path, data, positions, styles), diagnostics
