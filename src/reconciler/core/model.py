"""The canonical form of cross-tenant access settings (DESIGN §3, "No false drift").

Pure functions only. `canonical(x) == canonical(y)` exactly when Graph would behave the same for x and y:

- a member left out of an object counts as null, and an object whose members are all null equals null
  (Graph returns `automaticUserConsentSettings: {inboundAllowed: null, outboundAllowed: null}` for
  "inherit", graph-api.md §6.1);
- `targets` is an unordered set of (targetType, target) pairs (graph-api.md §6.2);
- GUIDs compare case-insensitively; keywords (`AllUsers`, `Office365`, ...) stay case-sensitive;
- key order is irrelevant, and `@odata.*` annotations are not data.

`expand` gives the wire form of a value: every member of the metadata type present, null where the file
leaves it out, so that a PATCH holding the property means the same under OData merge and under replace.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from reconciler.core import metadata

# `\Z`, not `$`: `$` also matches before a trailing newline ("<guid>\n" from a YAML block scalar).
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")

# Properties the service sets or that are not in the v1.0 "properties that can be updated" table
# (graph-api.md §1): never sent, never diffed.
PARTNER_READ_ONLY = frozenset({"tenantId", "isInMultiTenantOrganization", "isServiceProvider"})
# Default: `automaticUserConsentSettings` is always false/false and read-only there (graph-api.md §3).
DEFAULT_READ_ONLY = frozenset({"id", "isServiceDefault", "automaticUserConsentSettings"})
# `tenantRestrictions.devices` "isn't supported on the server side yet" (graph-api.md §2): not managed.
UNMANAGED_MEMBERS = frozenset({("crossTenantAccessPolicyTenantRestrictions", "devices")})

SYNC_PROPERTY = "identitySynchronization"


def _managed(type_name: str, read_only: frozenset[str]) -> tuple[str, ...]:
    t = metadata.load().type(type_name)
    return tuple(p.name for p in t.properties if p.name not in read_only)


PARTNER_PROPERTIES: tuple[str, ...] = _managed(metadata.PARTNER_TYPE, PARTNER_READ_ONLY)
DEFAULT_PROPERTIES: tuple[str, ...] = _managed(metadata.DEFAULT_TYPE, DEFAULT_READ_ONLY)
SYNC_PROPERTIES: tuple[str, ...] = _managed(metadata.SYNC_TYPE, frozenset({"tenantId"}))


# The same lists from the metadata in force (metadata.using): the constants above are the shipped ones.
def partner_properties() -> tuple[str, ...]:
    return _managed(metadata.PARTNER_TYPE, PARTNER_READ_ONLY)


def default_properties() -> tuple[str, ...]:
    return _managed(metadata.DEFAULT_TYPE, DEFAULT_READ_ONLY)


def sync_properties() -> tuple[str, ...]:
    return _managed(metadata.SYNC_TYPE, frozenset({"tenantId"}))


def property_type(owner: str, name: str) -> metadata.Property | None:
    """The metadata property `name` of type `owner`, or None when it is not managed."""
    if (owner, name) in UNMANAGED_MEMBERS:
        return None
    return metadata.load().type(owner).property(name)


def is_guid(value: object) -> bool:
    return isinstance(value, str) and GUID_RE.match(value) is not None


def _canonical_scalar(value: Any) -> Any:
    # The length test first: the regex is most of the planner's CPU time when run on every string.
    if isinstance(value, str) and len(value) == 36 and GUID_RE.match(value):
        return value.lower()
    return value


def _target_key(item: Any) -> tuple[str, str]:
    if isinstance(item, dict):
        return (str(item.get("targetType")), str(item.get("target")))
    return ("", repr(item))


def canonical(value: Any) -> Any:
    """The comparison form of a JSON value (see the module docstring)."""
    if isinstance(value, dict):
        out = {}
        for key, member in value.items():
            if isinstance(key, str) and key.startswith("@odata."):
                continue
            c = canonical(member)
            if c is not None:
                out[key] = _sorted_targets(c) if key == "targets" and isinstance(c, list) else c
        return out or None
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return _canonical_scalar(value)


def _sorted_targets(items: list[Any]) -> list[Any]:
    unique: dict[tuple[str, str], Any] = {}
    for item in items:
        unique.setdefault(_target_key(item), item)
    return [unique[k] for k in sorted(unique)]


def canonical_property(owner: str, name: str, value: Any) -> Any:
    """Canonical form of one top-level property, with unmanaged members (tenantRestrictions.devices) dropped."""
    return canonical(strip_unmanaged(owner, name, value))


def strip_unmanaged(owner: str, name: str, value: Any) -> Any:
    prop = metadata.load().type(owner).property(name)
    if prop is None or not isinstance(value, dict):
        return value
    return _strip(prop.type, value)


def _strip(type_name: str, value: Any) -> Any:
    md = metadata.load()
    if not isinstance(value, dict) or type_name not in md.types:
        return value
    out = {}
    for key, member in value.items():
        if (type_name, key) in UNMANAGED_MEMBERS:
            continue
        prop = md.type(type_name).property(key)
        if prop is not None and not prop.collection:
            out[key] = _strip(prop.type, member)
        else:
            out[key] = member
    return out


def expand(type_name: str, value: Any) -> Any:
    """The wire form of `value` of metadata type `type_name`: every managed member present, null if absent."""
    md = metadata.load()
    if value is None or type_name not in md.types or not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for prop in md.type(type_name).properties:
        if (type_name, prop.name) in UNMANAGED_MEMBERS:
            continue
        member = value.get(prop.name)
        if member is None:
            out[prop.name] = None
        elif prop.collection:
            out[prop.name] = [expand(prop.type, item) for item in member]
        else:
            out[prop.name] = expand(prop.type, member)
    return out


def expand_property(owner: str, name: str, value: Any) -> Any:
    prop = metadata.load().type(owner).property(name)
    if prop is None:
        return value
    return expand(prop.type, value)


def value_at(value: Any, path: str) -> Any:
    """The member at a dotted path (`inboundTrust.isMfaAccepted`), or None where the path ends early."""
    node: Any = value
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def equal(owner: str, name: str, a: Any, b: Any) -> bool:
    same: bool = canonical_property(owner, name, a) == canonical_property(owner, name, b)
    return same
