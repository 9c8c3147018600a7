"""jsonschema-rs errors → our problems: which sentence each error gets, where, and in what order.

The library reports what a validator sees (`"yes" is not of types "boolean", "null"`, one error for all the
unexpected names of an object, a type error *and* an enum error for the same value); people need one
located sentence per mistake. So errors are grouped by the place they concern, the most useful one is
kept (a type error beats an enum error, which beats a pattern), members missing from one object make one
message, and problems come out in the order the file was written: a key's own problems, then its
value's, then what is missing from the object that holds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from reconciler.core import messages
from reconciler.core.messages import JsonPath, PathItem, Problem, Wording, describe, suggest

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


@dataclass(frozen=True)
class _Context:
    """One file's check: how to word it, its schema, its data, how its scalars were written, their order."""

    wording: Wording
    root: Mapping[str, Any]
    data: Any
    styles: Mapping[JsonPath, str]
    order: _Order


def problems(
    wording: Wording,
    root: Mapping[str, Any],
    data: Any,
    errors: Iterable[jsonschema_rs.ValidationError],
    styles: Mapping[JsonPath, str] | None = None,
) -> list[Problem]:
    """Our problems for the library's errors on `data` (and the empty-object warnings), in file order."""
    ctx = _Context(wording, root, data, styles or {}, _Order(data))
    found: list[tuple[SortKey, Problem]] = []
    # Members missing from one object make one message (jsonschema-rs reports each on its own).
    missing: dict[JsonPath, tuple[Mapping[str, Any], set[str]]] = {}
    for error in _one_per_place(errors):
        if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Required):
            place = missing.setdefault(tuple(error.instance_path), (_node(root, error.schema_path), set()))
            place[1].add(error.kind.property)
        else:
            found.extend(_translate(ctx, error))
    for path, (node, names) in missing.items():
        found.extend(_missing(wording, node, path, names - _misspelled(node, _at(data, path)), ctx.order))
    found.extend((ctx.order.at(p.path, _KEY), p) for p in empty_objects(root, ctx.styles))
    found.sort(key=lambda item: item[0])
    return [problem for _, problem in found]


def empty_objects(root: Mapping[str, Any], styles: Mapping[JsonPath, str]) -> list[Problem]:
    """Warnings for `key:` with nothing after it where a mapping may go: YAML reads it as null, which is
    valid, but it is what a block looks like when its lines lost their indentation."""
    out = []
    for path, style in styles.items():
        node = _schema_at(root, path) if style == "empty" else None
        if node is not None and "object" in messages.types_of(node) and "null" in messages.types_of(node):
            message = (
                f"{messages.last_name(path)} is empty (null) — did you mean to indent the lines below it?"
            )
            out.append(Problem(path, message, "warning", on_key=True))
    return out


def _schema_at(root: Mapping[str, Any], path: JsonPath) -> Mapping[str, Any] | None:
    """The subschema that describes the value at `path` of the data, if any."""
    node: Any = root
    for step in path:
        if isinstance(step, int):
            node = node.get("items")
        elif step in node.get("properties", {}):
            node = node["properties"][step]
        else:
            node = node.get("additionalProperties")
        if not isinstance(node, Mapping):
            return None
    found: Mapping[str, Any] = node
    return found


def _translate(ctx: _Context, error: jsonschema_rs.ValidationError) -> list[tuple[SortKey, Problem]]:
    path: JsonPath = tuple(error.instance_path)
    kind, value, order = error.kind, error.instance, ctx.order
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        node = _node(ctx.root, error.schema_path)
        # The data itself, not the library's copy of it: the order of its keys tells what came first.
        obj = _at(ctx.data, path)
        return [
            (order.at((*path, key), _KEY, 1), _key_problem(path, key, ctx.wording, node, obj))
            for key in kind.unexpected
        ]
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.PropertyNames):
        inner = kind.error
        if isinstance(inner.kind, jsonschema_rs.ValidationErrorKind.Pattern) and isinstance(
            inner.instance, str
        ):
            message = messages.pattern_message(ctx.wording, inner.kind.pattern, inner.instance)
            at = (*path, inner.instance)
            return [(order.at(at, _KEY), Problem(at, message, on_key=True))] if message else []
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.MinProperties):
        message = f"{messages.last_name(path)} must name at least one entry"
        return [(order.at(path, _AFTER, 1_000), Problem(path, message))]
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.UniqueItems) and isinstance(value, list):
        return [
            (
                order.at(path, _AFTER, index),
                Problem(
                    (*path, index), f"{describe(value[index])} is listed twice in {messages.last_name(path)}"
                ),
            )
            for index in messages.duplicates(value)
        ]
    message = _value_message(ctx, error, path, value)
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
    message = messages.incomplete_message(wording, node, path, required)
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


def _key_problem(path: JsonPath, key: str, wording: Wording, node: Mapping[str, Any], obj: Any) -> Problem:
    return Problem((*path, key), messages.unknown_property(wording, path, key, node, obj), on_key=True)


def _value_message(
    ctx: _Context, error: jsonschema_rs.ValidationError, path: JsonPath, value: Any
) -> str | None:
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Type):
        node = _node(ctx.root, error.schema_path)
        if value is None and "enum" in node:
            return (
                f"{messages.last_name(path)} must always be given: one of {', '.join(map(str, node['enum']))}"
            )
        return messages.type_message(node, value, ctx.styles.get(path))
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Enum):
        return messages.enum_message(path, value, kind.options)
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Pattern):
        return messages.pattern_message(ctx.wording, kind.pattern, value) if isinstance(value, str) else None
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.MinLength):
        if kind.limit == 1:
            return f"{messages.last_name(path)} must not be empty"
        return f"{messages.last_name(path)} must be at least {kind.limit} characters long"
    if isinstance(
        kind, jsonschema_rs.ValidationErrorKind.Minimum | jsonschema_rs.ValidationErrorKind.Maximum
    ):
        return messages.bounds_message(path, _node(ctx.root, error.schema_path), value)
    # Not reached with our schemas (test_schema holds them to HANDLED_KEYWORDS); still one located line.
    return f"{messages.last_name(path)}: {error.message}"
