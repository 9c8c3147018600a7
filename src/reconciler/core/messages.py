"""The words of validation: a Problem (a message at a path of the data) and the sentences that say what is
wrong in a policy file — named by what was written ("the quoted string 'true'"), with a did-you-mean, the
shape expected, or the place a name belongs. `core.schema_errors` picks which sentence each error of the
JSON Schema library gets; `core.rules` words its own findings with the same helpers.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

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


# --- sentences ------------------------------------------------------------------------------------------

_INTEGER = re.compile(r"[-+]?[0-9]+\Z")
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


def received(value: Any, style: str | None) -> str:
    """What the file holds, named by its YAML type: "the quoted string 'true'", "the integer 1"."""
    if isinstance(value, str):
        written = {"quoted": "the quoted string", "block": "the block string"}.get(style or "", "the string")
        return f"{written} {value!r}"
    if isinstance(value, bool):
        return f"the boolean {describe(value)}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value!r}"
    if value is None:
        return "an empty value (null)" if style == "empty" else "null"
    return describe(value)


def _shape(node: Mapping[str, Any]) -> str:
    """A mapping written complete, as the expected shape: `{target: …, targetType: …}`."""
    return "{" + ", ".join(f"{name}: …" for name in node.get("properties", {})) + "}"


def type_message(node: Mapping[str, Any], value: Any, style: str | None) -> str:
    types = types_of(node)
    got = received(value, style)
    if "boolean" in types:
        return f"expected a boolean (true/false), got {got}{_boolean_hint(value, style)}"
    words = [_type_word(t, node) for t in types]
    quoted_integer = style == "quoted" and "integer" in types and _INTEGER.match(value)
    return f"expected {' or '.join(words)}, got {got}{'; write it without quotes' if quoted_integer else ''}"


def _boolean_hint(value: Any, style: str | None) -> str:
    if style == "quoted" and value in ("true", "false"):
        return "; write it without quotes"
    if style is None and isinstance(value, str) and value.lower() in _YAML11_BOOLEANS:
        # YAML 1.1 read yes/on/... as booleans; YAML 1.2, which xtap reads, as strings.
        return "; write true or false"
    return ""


_YAML11_BOOLEANS = frozenset({"yes", "no", "on", "off", "y", "n"})


def _type_word(name: str, node: Mapping[str, Any]) -> str:
    """A JSON type in words; a mapping of plain values shows its shape, and so does a list of them."""
    if name == "object" and "required" in node:
        return f"a mapping {_shape(node)}"
    items = node.get("items")
    if name == "array" and isinstance(items, Mapping) and "required" in items:
        return f"a list of {_shape(items)}"
    return _TYPE_WORDS.get(name, name)


def last_name(path: JsonPath) -> str:
    for item in reversed(path):
        if isinstance(item, str):
            return item
    return "value"


def unknown_property(wording: Wording, path: JsonPath, key: str, node: Mapping[str, Any], obj: Any) -> str:
    if key.startswith("@"):
        return f"'{key}' is an annotation from a Graph response, not a setting; remove it"
    if not path:
        reason = wording.read_only.get(key)
        if reason:
            return f"'{key}' {reason}"
    reason = wording.unmanaged.get((str(path[-1]), key)) if path else None
    if reason:
        return f"'{key}' {reason}"
    allowed = list(node.get("properties", {}))
    belongs = _belongs_under(key, node, obj)
    if belongs is not None:
        return f"unknown property '{key}' here: {belongs}"
    guess = suggest(key, allowed)
    if guess is not None:
        return f"unknown property '{key}'; did you mean '{guess}'? (names are case-sensitive)"
    if len(allowed) <= 6:
        return f"unknown property '{key}' (expected one of: {', '.join(allowed)})"
    return f"unknown property '{key}'"


def _belongs_under(key: str, node: Mapping[str, Any], obj: Any) -> str | None:
    """Where a member written one level too far left belongs: under the empty property above it (its
    lines lost their indentation), or under the sibling property that has such a member."""
    props: Mapping[str, Any] = node.get("properties", {})
    owners = [name for name, sub in props.items() if key in sub.get("properties", {})]
    if not owners or not isinstance(obj, dict):
        return None
    keys = list(obj)
    above = keys[: keys.index(key)] if key in keys else keys
    empty = [name for name in reversed(above) if name in owners and obj.get(name) is None]
    if empty:
        return f"it belongs under '{empty[0]}' above, which is empty; indent it under {empty[0]}"
    if len(owners) == 1:
        return f"it is a member of {owners[0]}; indent it under {owners[0]}"
    return (
        f"it is a member of {owners[0]} and of {len(owners) - 1} more; indent it under the one it belongs to"
    )


def enum_message(path: JsonPath, value: Any, options: Sequence[Any]) -> str:
    names = [o for o in options if isinstance(o, str)]
    guess = suggest(value, names) if isinstance(value, str) else None
    hint = f"; did you mean '{guess}'?" if guess else ""
    if len(path) >= 2 and path[-2] == "ignore":
        return f"{describe(value)} in ignore is not a managed property{hint}"
    return f"{last_name(path)} must be one of {', '.join(names)}, got {describe(value)}{hint}"


def pattern_message(wording: Wording, pattern: str, value: str) -> str | None:
    if pattern not in wording.patterns:
        return f"{describe(value)} does not match {pattern}"
    template = wording.patterns[pattern]
    return template.format(value=describe(value)) if template is not None else None


def bounds_message(path: JsonPath, node: Mapping[str, Any], value: Any) -> str:
    low, high = node.get("minimum"), node.get("maximum")
    bounds = f"between {low} and {high}" if low is not None and high is not None else None
    if bounds is None:
        bounds = f"at least {low}" if low is not None else f"at most {high}"
    return f"{last_name(path)} must be {bounds}, got {describe(value)}"


def duplicates(items: Sequence[Any]) -> list[int]:
    seen: list[Any] = []
    out = []
    for index, item in enumerate(items):
        if item in seen:
            out.append(index)
        else:
            seen.append(item)
    return out


def types_of(node: Mapping[str, Any]) -> list[str]:
    types = node.get("type", [])
    return [types] if isinstance(types, str) else list(types)


def and_list(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def incomplete_message(
    wording: Wording, node: Mapping[str, Any], path: JsonPath, missing: Sequence[str]
) -> str:
    """An object of plain values written without some members: name them, and how to inherit it whole."""
    members = node.get("properties", {})
    nullable = all("null" in types_of(members.get(name, {})) for name in missing)
    hint = " (null means not set)" if nullable else ""
    owner = str(path[-1])
    absent = wording.absent_under.get(str(path[0]), wording.absent)
    return (
        f"{owner} is missing {and_list(missing)}: write every member{hint}, or leave {owner} out to {absent}"
    )
