"""Our words for JSON Schema errors: jsonschema-rs finds the problems in a loaded file, this module says them.

The library reports what a validator sees (`"yes" is not of types "boolean", "null"`, one error for all the
unexpected names of an object, a type error *and* an enum error for the same value); people need one
located sentence per mistake, with a did-you-mean where we can guess. So errors are grouped by the place
they concern, the most useful one is kept (a type error beats an enum error, which beats a pattern), and
problems come out in the order the file was written: a key's own problems, then its value's, then what is
missing from the object that holds it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import jsonschema_rs

PathItem = str | int
JsonPath = tuple[PathItem, ...]

# The keywords this module turns into messages. tests/core/test_messages.py fails when a generated schema
# uses any other (annotations such as `description` carry no constraint), or closes an object without
# `properties`: jsonschema-rs then reports an unknown key without naming it.
HANDLED_KEYWORDS = frozenset(
    {
        "type",
        "enum",
        "properties",
        "additionalProperties",
        "required",
        "items",
        "uniqueItems",
        "pattern",
        "propertyNames",
        "minLength",
        "minProperties",
        "minimum",
        "maximum",
    }
)
ANNOTATION_KEYWORDS = frozenset({"$schema", "$id", "title", "description"})


@dataclass(frozen=True)
class Problem:
    """One finding on a loaded document; the loader turns `path` into a line:col.

    `on_key` places it on the mapping key at `path` (unknown or misspelled names) instead of its value.
    """

    path: JsonPath
    message: str
    severity: Literal["error", "warning"] = "error"
    on_key: bool = False


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """The known name closest to `name`: a case-insensitive match first, then difflib's best guess."""
    options = list(candidates)
    lowered = name.lower()
    for option in options:
        if option.lower() == lowered:
            return option
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if close:
        return close[0]
    close = difflib.get_close_matches(lowered, {o.lower(): o for o in options}, n=1, cutoff=0.6)
    return {o.lower(): o for o in options}[close[0]] if close else None


def describe(value: Any) -> str:
    """How a value reads in a message: strings quoted, containers by kind."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


# --- message texts ------------------------------------------------------------------------------------------

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "null": "null",
    "boolean": "a boolean (true/false)",
}


@dataclass(frozen=True)
class Wording:
    """What the messages of one kind of file may say beyond the data."""

    read_only: Mapping[str, str]  # top-level name -> why it is refused
    unmanaged: Mapping[tuple[str, str], str]  # (property holding it, member) -> why it is refused
    # pattern -> message with {value}, or None where rules.py words it instead
    patterns: Mapping[str, str | None]
    absent: str = "inherit it whole"  # what leaving a property out does, in "leave X out to ..."
    absent_under: Mapping[str, str] = field(default_factory=dict)  # the same, under one top-level property


def _type_message(expected: str | Sequence[str], value: Any) -> str:
    types = [expected] if isinstance(expected, str) else list(expected)
    if "boolean" in types:
        # YAML 1.1 spellings (yes/on/...) reach us as strings; say why they are refused.
        return f"expected a boolean (true/false), got {describe(value)}"
    return f"expected {' or '.join(_TYPE_WORDS.get(t, t) for t in types)}, got {describe(value)}"


def _last_name(path: JsonPath) -> str:
    for item in reversed(path):
        if isinstance(item, str):
            return item
    return "value"


def _unknown_property(wording: Wording, path: JsonPath, key: str, allowed: Sequence[str]) -> str:
    if not path:
        reason = wording.read_only.get(key)
        if reason:
            return f"'{key}' {reason}"
    reason = wording.unmanaged.get((str(path[-1]), key)) if path else None
    if reason:
        return f"'{key}' {reason}"
    guess = suggest(key, allowed)
    if guess is not None:
        return f"unknown property '{key}'; did you mean '{guess}'? (names are case-sensitive)"
    if len(allowed) <= 6:
        return f"unknown property '{key}' (expected one of: {', '.join(allowed)})"
    return f"unknown property '{key}'"


def _enum_message(path: JsonPath, value: Any, options: Sequence[Any]) -> str:
    names = [o for o in options if isinstance(o, str)]
    guess = suggest(value, names) if isinstance(value, str) else None
    hint = f"; did you mean '{guess}'?" if guess else ""
    if len(path) >= 2 and path[-2] == "ignore":
        return f"{describe(value)} in ignore is not a managed property{hint}"
    return f"{_last_name(path)} must be one of {', '.join(names)}, got {describe(value)}{hint}"


def _pattern_message(wording: Wording, pattern: str, value: str) -> str | None:
    if pattern not in wording.patterns:
        return f"{describe(value)} does not match {pattern}"
    template = wording.patterns[pattern]
    return template.format(value=describe(value)) if template is not None else None


def _bounds_message(path: JsonPath, node: Mapping[str, Any], value: Any) -> str:
    low, high = node.get("minimum"), node.get("maximum")
    bounds = f"between {low} and {high}" if low is not None and high is not None else None
    if bounds is None:
        bounds = f"at least {low}" if low is not None else f"at most {high}"
    return f"{_last_name(path)} must be {bounds}, got {describe(value)}"


def _duplicates(items: Sequence[Any]) -> list[int]:
    seen: list[Any] = []
    out = []
    for index, item in enumerate(items):
        if item in seen:
            out.append(index)
        else:
            seen.append(item)
    return out


# --- from library errors to problems ---------------------------------------------------------------------

SortKey = tuple[int, int, int]
_KEY, _VALUE, _AFTER = 0, 1, 2  # a key's own problem, its value's, then what its object is missing


class _Order:
    """Where each path of the data comes in the file's order: entering it, and leaving it (after its
    members), so that a missing member is reported after the members that are there."""

    def __init__(self, data: Any) -> None:
        self.enter: dict[JsonPath, int] = {}
        self.leave: dict[JsonPath, int] = {}
        self._walk(data, ())

    def _walk(self, value: Any, path: JsonPath) -> None:
        self.enter[path] = len(self.enter) + len(self.leave)
        if isinstance(value, dict):
            for key, member in value.items():
                self._walk(member, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self._walk(item, (*path, index))
        self.leave[path] = len(self.enter) + len(self.leave)

    def at(self, path: JsonPath, phase: int, sub: int = 0) -> SortKey:
        table = self.leave if phase == _AFTER else self.enter
        probe = path
        while probe not in table and probe:
            probe = probe[:-1]
        return (table.get(probe, 0), phase, sub)


def _node(root: Mapping[str, Any], schema_path: Sequence[PathItem]) -> Mapping[str, Any]:
    """The schema object that holds the keyword at the end of `schema_path`."""
    node: Any = root
    for step in schema_path[:-1]:
        node = node[step]
    return node if isinstance(node, Mapping) else {}


def _one_per_place(errors: Iterable[jsonschema_rs.ValidationError]) -> list[jsonschema_rs.ValidationError]:
    """Keep the most useful error of each place: a type error alone (the value's other keywords are moot),
    else an enum error alone (a pattern or length of a value that is not even allowed is noise)."""
    by_place: dict[JsonPath, list[jsonschema_rs.ValidationError]] = {}
    for error in errors:
        by_place.setdefault(tuple(error.instance_path), []).append(error)
    kept: list[jsonschema_rs.ValidationError] = []
    for found in by_place.values():
        for name in ("type", "enum"):
            first = next((e for e in found if e.kind.name == name), None)
            if first is not None:
                kept.append(first)
                break
        else:
            kept.extend(found)
    return kept


def problems(
    wording: Wording,
    root: Mapping[str, Any],
    data: Any,
    errors: Iterable[jsonschema_rs.ValidationError],
) -> list[Problem]:
    """Our problems for the library's errors on `data`, in file order."""
    order = _Order(data)
    found: list[tuple[SortKey, Problem]] = []
    # Members missing from one object make one message (jsonschema-rs reports each on its own).
    missing: dict[JsonPath, tuple[Mapping[str, Any], set[str]]] = {}
    for error in _one_per_place(errors):
        if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Required):
            place = missing.setdefault(tuple(error.instance_path), (_node(root, error.schema_path), set()))
            place[1].add(error.kind.property)
        else:
            found.extend(_translate(wording, root, error, order))
    for path, (node, names) in missing.items():
        found.extend(_missing(wording, node, path, names - _misspelled(node, _at(data, path)), order))
    found.sort(key=lambda item: item[0])
    return [problem for _, problem in found]


def _translate(
    wording: Wording, root: Mapping[str, Any], error: jsonschema_rs.ValidationError, order: _Order
) -> list[tuple[SortKey, Problem]]:
    path: JsonPath = tuple(error.instance_path)
    kind = error.kind
    value = error.instance
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        allowed = list(_node(root, error.schema_path).get("properties", {}))
        return [
            (order.at((*path, key), _KEY, 1), _key_problem(path, key, wording, allowed))
            for key in kind.unexpected
        ]
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.PropertyNames):
        inner = kind.error
        if isinstance(inner.kind, jsonschema_rs.ValidationErrorKind.Pattern) and isinstance(
            inner.instance, str
        ):
            message = _pattern_message(wording, inner.kind.pattern, inner.instance)
            at = (*path, inner.instance)
            return [(order.at(at, _KEY), Problem(at, message, on_key=True))] if message else []
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.MinProperties):
        message = f"{_last_name(path)} must name at least one entry"
        return [(order.at(path, _AFTER, 1_000), Problem(path, message))]
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.UniqueItems) and isinstance(value, list):
        return [
            (
                order.at(path, _AFTER, index),
                Problem((*path, index), f"{describe(value[index])} is listed twice in {_last_name(path)}"),
            )
            for index in _duplicates(value)
        ]
    message = _value_message(wording, root, error, path, value)
    return [(order.at(path, _VALUE), Problem(path, message))] if message else []


def _missing(
    wording: Wording, node: Mapping[str, Any], path: JsonPath, names: set[str], order: _Order
) -> list[tuple[SortKey, Problem]]:
    """The members missing from the object at `path`, in the schema's order.

    The top of a file and a list item (a target) miss a *required property*; any other object is a
    value written incomplete, which says how to write it whole or to inherit it whole.
    """
    required = [name for name in node.get("required", []) if name in names]
    if not required:
        return []
    if not path or isinstance(path[-1], int):
        return [
            (order.at(path, _AFTER, index), Problem(path, f"missing required property '{name}'"))
            for index, name in enumerate(required)
        ]
    members = node.get("properties", {})
    nullable = all("null" in _types(members.get(name, {})) for name in required)
    hint = " (null means not set)" if nullable else ""
    owner = str(path[-1])
    absent = wording.absent_under.get(str(path[0]), wording.absent)
    message = (
        f"{owner} is missing {_and(required)}: write every member{hint}, or leave {owner} out to {absent}"
    )
    return [(order.at(path, _AFTER), Problem(path, message, on_key=True))]


def _at(data: Any, path: JsonPath) -> Any:
    for step in path:
        data = data[step]
    return data


def _misspelled(node: Mapping[str, Any], value: Any) -> set[str]:
    """Members written under a wrong name: the unknown-property message already names them, so the
    object does not also count them as missing."""
    known = list(node.get("properties", {}))
    if not isinstance(value, dict):
        return set()
    guesses = (suggest(key, known) for key in value if key not in known)
    return {guess for guess in guesses if guess is not None}


def _types(node: Mapping[str, Any]) -> list[str]:
    types = node.get("type", [])
    return [types] if isinstance(types, str) else list(types)


def _and(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _key_problem(path: JsonPath, key: str, wording: Wording, allowed: Sequence[str]) -> Problem:
    return Problem((*path, key), _unknown_property(wording, path, key, allowed), on_key=True)


def _value_message(
    wording: Wording,
    root: Mapping[str, Any],
    error: jsonschema_rs.ValidationError,
    path: JsonPath,
    value: Any,
) -> str | None:
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Type):
        node = _node(root, error.schema_path)
        if value is None and "enum" in node:
            return f"{_last_name(path)} must always be given: one of {', '.join(map(str, node['enum']))}"
        # The schema's own order of types ("a mapping or null"); the library reorders them.
        return _type_message(node.get("type", kind.types), value)
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Enum):
        return _enum_message(path, value, kind.options)
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Pattern):
        return _pattern_message(wording, kind.pattern, value) if isinstance(value, str) else None
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.MinLength):
        if kind.limit == 1:
            return f"{_last_name(path)} must not be empty"
        return f"{_last_name(path)} must be at least {kind.limit} characters long"
    if isinstance(
        kind, jsonschema_rs.ValidationErrorKind.Minimum | jsonschema_rs.ValidationErrorKind.Maximum
    ):
        return _bounds_message(path, _node(root, error.schema_path), value)
    # Not reached with our schemas (test_schema holds them to HANDLED_KEYWORDS); still one located line.
    return f"{_last_name(path)}: {error.message}"
