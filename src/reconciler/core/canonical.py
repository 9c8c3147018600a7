"""Canonical form of plain JSON values — the comparison form core/model.py describes, without the
metadata: members left out count as null, sets (`UNORDERED`) are sorted, GUIDs lowercase, `@odata.*`
annotations dropped. model.py re-exports it; its metadata-aware forms (`canonical_property`) build on it.
Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# `\Z`, not `$`: `$` also matches before a trailing newline ("<guid>\n" from a YAML block scalar).
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
# Collections whose order means nothing (a set of targets, a set of clouds).
UNORDERED = frozenset({"targets", "allowedCloudEndpoints"})


def is_guid(value: object) -> bool:
    return isinstance(value, str) and GUID_RE.match(value) is not None


def scalar(value: Any) -> Any:
    """A plain value's canonical form: a GUID in lowercase, anything else as it is."""
    # The length test first: the regex is most of the planner's CPU time when run on every string.
    if isinstance(value, str) and len(value) == 36 and GUID_RE.match(value):
        return value.lower()
    return value


def target_key(item: Any) -> tuple[str, str]:
    """The identity of a target in a set of targets: (targetType, target), GUIDs lowercase."""
    if isinstance(item, Mapping):
        return (str(item.get("targetType")), str(scalar(item.get("target"))))
    return ("", repr(scalar(item)))


def canonical_set(items: list[Any]) -> list[Any]:
    """A list that means a set: duplicates dropped, sorted by identity (the one target canonical form)."""
    unique: dict[tuple[str, str], Any] = {}
    for item in items:
        unique.setdefault(target_key(item), item)
    return [unique[k] for k in sorted(unique)]


def is_object(value: Any) -> bool:
    # dict first: the Mapping ABC check is slow, and what xtap reads from YAML and JSON is dicts.
    return isinstance(value, dict) or (not isinstance(value, _PLAIN) and isinstance(value, Mapping))


_PLAIN = (str, int, float, list, type(None))


def canonical(value: Any) -> Any:
    """The comparison form of a JSON value (core/model.py's docstring says what it means)."""
    # Hot: every partner read goes through here. Plain values are handled inline, without a call each.
    kind = type(value)
    if kind is dict or (kind is not list and kind is not str and is_object(value)):
        out = {}
        for key, member in value.items():
            if isinstance(key, str) and key.startswith("@odata."):
                continue
            if member is None:
                continue
            c = scalar(member) if type(member) in SCALARS else canonical(member)
            if c is not None:
                out[key] = canonical_set(c) if key in UNORDERED and isinstance(c, list) else c
        return out or None
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return scalar(value)


SCALARS = frozenset({str, int, float, bool})  # exactly these types: `scalar` is all they need
