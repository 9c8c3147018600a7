"""How values read for people: one compact line per value, and what "inherit" resolves to. Pure.

Used by the plan renderers, the drift report (whose JSON carries these texts) and `xtap show`, so a value
reads the same everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from reconciler.core import effective
from reconciler.core.plan import Change


def format_value(value: Any) -> str:
    """A compact, unambiguous one-line form of a canonical value."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        if all(isinstance(v, dict) and "target" in v for v in value):
            return "[" + ", ".join(f"{v.get('target')} ({v.get('targetType')})" for v in value) + "]"
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    if value is True or value is False or value is None:  # most leaves: spelled without json.dumps
        return "true" if value else "false" if value is False else "null"
    return json.dumps(value)  # numbers as JSON spells them


def describe(change: Change, path: str, value: Any, defaults: Mapping[str, Any]) -> str:
    """A value of a diff, saying what "inherit" (a null partner property) resolves to."""
    if value is None and change.resource == "partner" and change.action == "update":
        inherited = effective.inherited(defaults, path)
        if inherited is not None:
            return f"inherit (default: {format_value(inherited)})"
        return "inherit"
    return format_value(value)


def title(resource: str, name: str, tenant_id: str | None) -> str:
    """How a resource is named for people: `partner fabrikam (90e2…)`, `default configuration`."""
    if resource == "default":
        return "default configuration"
    if resource == "policy":
        return "cross-tenant access policy"
    what = "identity sync" if resource == "identitySynchronization" else resource
    if tenant_id and name and name != tenant_id:
        return f"{what} {name} ({tenant_id})"
    return f"{what} {tenant_id or name}"
