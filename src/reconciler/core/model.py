"""What a cross-tenant setting *is* for xtap: the one walk over the Graph metadata, the canonical form
values are compared in, and the wire form they are sent in (docs/plan-apply.md). Pure.

**The walk.** `members(type)` lists a metadata type's members as xtap sees them (managed or not, walked
into or a leaf); `transform` rebuilds a value member by member along it, `leaf_paths` lists a type's
leaves. Everything that needs "the members of this setting" — comparison, wire bodies, export, effective
settings — goes through these, so a member Graph adds to the metadata is handled everywhere at once.

**Canonical form** (`canonical`, `canonical_property`): `canonical(x) == canonical(y)` exactly when Graph
behaves the same for x and y:
- a member left out counts as null, and an object whose members are all null equals null (Graph returns
  `automaticUserConsentSettings: {inboundAllowed: null, outboundAllowed: null}` for "inherit");
- `targets` (and `allowedCloudEndpoints`) are unordered sets; other lists keep their order (an identity
  provider precedence order means what it says);
- GUIDs compare case-insensitively; keywords (`AllUsers`, `Office365`, …) stay case-sensitive;
- key order is irrelevant, `@odata.*` annotations are not data, and members the v1.0 metadata does not know
  (a beta member Graph returns anyway) are never compared: xtap could neither write nor send them.

**Wire form** (`wire_property`): what a PATCH or POST carries for one top-level property — the desired
value with its empty (null) members left out, as Microsoft's own examples do, plus the members the
metadata knows but xtap does not manage (`tenantRestrictions.devices`) copied from the live value, so
nothing the file doesn't own is lost whether Graph merges nested values or replaces them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from reconciler.core import metadata
from reconciler.core.canonical import GUID_RE as GUID_RE
from reconciler.core.canonical import SCALARS, is_object, scalar
from reconciler.core.canonical import UNORDERED as UNORDERED
from reconciler.core.canonical import canonical as canonical
from reconciler.core.canonical import canonical_set as canonical_set
from reconciler.core.canonical import is_guid as is_guid
from reconciler.core.canonical import target_key as target_key

# Properties the service sets, or that the v1.0 "properties that can be updated" table leaves out: never
# sent, never diffed.
PARTNER_READ_ONLY = frozenset({"tenantId", "isInMultiTenantOrganization", "isServiceProvider"})
# Default: `automaticUserConsentSettings` is always false/false and read-only there (v1.0
# crossTenantAccessPolicyConfigurationDefault resource).
DEFAULT_READ_ONLY = frozenset({"id", "isServiceDefault", "automaticUserConsentSettings"})
# The root policy: only its list of allowed clouds is managed (policyBase's displayName/description are
# Microsoft's own text, `deletedDateTime` is read-only).
POLICY_MANAGED = frozenset({"allowedCloudEndpoints"})
# `tenantRestrictions.devices` "isn't supported on the server side yet" (v1.0 tenantRestrictions
# resource): known to the metadata, not managed by xtap, carried over untouched.
UNMANAGED_MEMBERS = frozenset({("crossTenantAccessPolicyTenantRestrictions", "devices")})

SYNC_PROPERTY = "identitySynchronization"

# The order of Graph's resource pages and examples: files, `show` and the effective settings list members
# in it; members it does not name follow in metadata order (so a property Graph adds later has a place).
DOC_ORDER: tuple[str, ...] = (
    "tenantId",
    "allowedCloudEndpoints",
    "inboundTrust",
    "automaticUserConsentSettings",
    "b2bCollaborationInbound",
    "b2bCollaborationOutbound",
    "b2bDirectConnectInbound",
    "b2bDirectConnectOutbound",
    "tenantRestrictions",
    "appServiceConnectInbound",
    "m365CollaborationInbound",
    "m365CollaborationOutbound",
    "invitationRedemptionIdentityProviderConfiguration",
    "usersAndGroups",
    "users",
    "applications",
    "accessType",
    "targets",
    "target",
    "targetType",
    "isMfaAccepted",
    "isCompliantDeviceAccepted",
    "isHybridAzureADJoinedDeviceAccepted",
    "inboundAllowed",
    "outboundAllowed",
    "primaryIdentityProviderPrecedenceOrder",
    "fallbackIdentityProvider",
    "displayName",
    "userSyncInbound",
)
_RANK = {name: index for index, name in enumerate(DOC_ORDER)}


def ordered(names: Iterable[str]) -> list[str]:
    """`names` in DOC_ORDER; names it does not know keep their given (metadata) order, after the known ones."""
    listed = list(names)
    return sorted(listed, key=lambda n: (_RANK.get(n, len(_RANK)), listed.index(n)))


# --- the managed catalog, from whatever metadata is loaded --------------------------------------------------

T = TypeVar("T")
_DERIVED: dict[tuple[int, str], tuple[metadata.Metadata, Any]] = {}


def derived(md: metadata.Metadata, key: str, build: Callable[[], T]) -> T:
    """`build()` once per metadata object and key (the metadata can be swapped, e.g. by a test)."""
    entry = _DERIVED.get((id(md), key))
    if entry is None or entry[0] is not md:
        entry = (md, build())
        _DERIVED[(id(md), key)] = entry
    value: T = entry[1]
    return value


def _catalog(md: metadata.Metadata) -> dict[str, tuple[str, ...]]:
    return derived(md, "catalog", lambda: _build_catalog(md))


def _build_catalog(md: metadata.Metadata) -> dict[str, tuple[str, ...]]:
    def managed(type_name: str, read_only: frozenset[str]) -> tuple[str, ...]:
        return tuple(p.name for p in md.type(type_name).properties if p.name not in read_only)

    return {
        "PARTNER_PROPERTIES": managed(metadata.PARTNER_TYPE, PARTNER_READ_ONLY),
        "DEFAULT_PROPERTIES": managed(metadata.DEFAULT_TYPE, DEFAULT_READ_ONLY),
        "SYNC_PROPERTIES": managed(metadata.SYNC_TYPE, frozenset({"tenantId"})),
        "POLICY_PROPERTIES": tuple(
            p.name for p in md.type(metadata.POLICY_TYPE).properties if p.name in POLICY_MANAGED
        ),
    }


def __getattr__(name: str) -> tuple[str, ...]:
    # PARTNER_PROPERTIES and friends are read from the metadata in use at the time of the access (PEP 562),
    # never frozen at import: a newer (or a test's synthetic) metadata needs no code change.
    catalog = _catalog(metadata.load())
    if name in catalog:
        return catalog[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


PARTNER_PROPERTIES: tuple[str, ...]
DEFAULT_PROPERTIES: tuple[str, ...]
SYNC_PROPERTIES: tuple[str, ...]
POLICY_PROPERTIES: tuple[str, ...]


# --- the walk -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One member of a structured metadata type, as xtap sees it."""

    name: str
    type: str
    collection: bool
    managed: bool  # False for UNMANAGED_MEMBERS
    structured: bool  # its type is a complex type: walked into (item by item for a collection)


def _members(md: metadata.Metadata, type_name: str) -> dict[str, Member]:
    return derived(md, f"members:{type_name}", lambda: _build_members(md, type_name))


def _build_members(md: metadata.Metadata, type_name: str) -> dict[str, Member]:
    if type_name not in md.types:
        return {}
    return {
        p.name: Member(
            p.name, p.type, p.collection, (type_name, p.name) not in UNMANAGED_MEMBERS, p.type in md.types
        )
        for p in md.type(type_name).properties
    }


def members(type_name: str) -> dict[str, Member]:
    """The members of `type_name` by name (empty for a primitive or enum type)."""
    # Hot (once per object walked): a dict per metadata object, without `derived`'s key building.
    md = metadata.load()
    if _MEMBERS_OF[0] is not md:
        _MEMBERS.clear()
        _MEMBERS_OF[0] = md
    found = _MEMBERS.get(type_name)
    if found is None:
        found = _MEMBERS[type_name] = _members(md, type_name)
    return found


_MEMBERS: dict[str, dict[str, Member]] = {}
_MEMBERS_OF: list[metadata.Metadata | None] = [None]  # the metadata _MEMBERS was filled from


def property_member(owner: str, name: str) -> Member | None:
    """The top-level property `name` of `owner` as a member, or None when the metadata doesn't know it."""
    return members(owner).get(name)


DROP: Any = object()  # returned by a `transform` visitor: leave this member out

Visitor = Callable[[str, "Member | None", Any], Any]


def transform(
    type_name: str, value: Any, visit: Visitor, path: str = "", *, documented_order: bool = False
) -> Any:
    """Rebuild `value` (of metadata type `type_name`) member by member.

    `visit(path, member, child)` sees every key of every object at any depth — `member` is None when the
    metadata does not know the key — with its child already rebuilt (objects are walked first, collection
    items one by one), and returns the new child or DROP. Values that are not objects come back unchanged.
    Keys keep their order, or with `documented_order` follow DOC_ORDER, then the metadata's, then the value's.
    """
    if not isinstance(value, Mapping):
        return value
    known = members(type_name)
    keys = list(value)
    if documented_order:
        listed = [k for k in ordered(known) if k in value]
        keys = listed + [k for k in keys if k not in known]
    out: dict[str, Any] = {}
    for key in keys:
        child = value[key]
        member = known.get(key)
        here = f"{path}.{key}" if path else key
        if member is not None and member.structured:
            if member.collection and isinstance(child, list):
                child = [
                    transform(member.type, item, visit, here, documented_order=documented_order)
                    for item in child
                ]
            else:
                child = transform(member.type, child, visit, here, documented_order=documented_order)
        result = visit(here, member, child)
        if result is not DROP:
            out[key] = result
    return out


def leaf_paths(type_name: str, prefix: str = "", *, managed_only: bool = True) -> list[str]:
    """Every leaf path of a metadata type, in DOC_ORDER (objects are walked, collections are leaves)."""
    md = metadata.load()
    key = f"leaves:{type_name}:{prefix}:{managed_only}"
    return list(derived(md, key, lambda: _leaf_paths(type_name, prefix, managed_only)))


def _leaf_paths(type_name: str, prefix: str, managed_only: bool) -> list[str]:
    known = members(type_name)
    out: list[str] = []
    for name in ordered(known):
        member = known[name]
        if managed_only and not member.managed:
            continue
        path = f"{prefix}.{name}" if prefix else name
        if member.collection or not member.structured:
            out.append(path)
        else:
            out.extend(leaf_paths(member.type, path, managed_only=managed_only))
    return out


def unknown_members(type_name: str, value: Any, prefix: str = "") -> list[str]:
    """Paths of the members the metadata does not know, at any depth (annotations aside)."""
    found: list[str] = []

    def visit(path: str, member: Member | None, child: Any) -> Any:
        if member is None and "@" not in path:  # `@odata.type` and friends are annotations, not members
            found.append(f"{prefix}.{path}" if prefix else path)
        return child

    transform(type_name, value, visit)
    return found


def property_type(owner: str, name: str) -> metadata.Property | None:
    """The metadata property `name` of type `owner`, or None when it is not managed."""
    if (owner, name) in UNMANAGED_MEMBERS:
        return None
    return metadata.load().type(owner).property(name)


# --- canonical form ---------------------------------------------------------------------------------------


# While a plan is made, the same values are put in canonical form several times (the diff, then the access
# impact of before and after): `memo()` remembers each result for as long as the plan is being made.
_MEMO: list[dict[tuple[str, str, int], tuple[Any, Any]]] = []


@contextmanager
def memo() -> Iterator[None]:
    _MEMO.append({})
    try:
        yield
    finally:
        _MEMO.pop()


def canonical_property(owner: str, name: str, value: Any) -> Any:
    """Canonical form of one top-level property, with the members xtap doesn't manage left out."""
    if value is None:
        return None
    if _MEMO:
        key = (owner, name, id(value))
        hit = _MEMO[-1].get(key)
        if hit is not None and hit[0] is value:  # the same object, alive: id() was not reused
            return hit[1]
        result = _canonical_property(owner, name, value)
        _MEMO[-1][key] = (value, result)
        return result
    return _canonical_property(owner, name, value)


def _canonical_property(owner: str, name: str, value: Any) -> Any:
    member = property_member(owner, name)
    if member is None or not member.structured:
        flat = canonical(value)  # a top-level set (allowedCloudEndpoints) has no parent key to mark it
        return canonical_set(flat) if name in UNORDERED and isinstance(flat, list) else flat
    if member.collection and isinstance(value, list):
        return [_canonical_managed(member.type, item) for item in value]
    return _canonical_managed(member.type, value)


def _canonical_managed(type_name: str, value: Any) -> Any:
    """`value` in canonical form without the members xtap doesn't manage (unknown to the metadata or
    UNMANAGED_MEMBERS), in one walk: they are left out on the way (the planner canonicalises every partner
    read, so one pass instead of two counts)."""
    if not (type(value) is dict or is_object(value)):
        return canonical(value)
    known = members(type_name)
    out = {}
    for key, child in value.items():
        member = known.get(key)
        if member is None or not member.managed or child is None:
            continue
        if not member.structured:
            c = scalar(child) if type(child) in SCALARS else canonical(child)
        elif member.collection and isinstance(child, list):
            c = [_canonical_managed(member.type, item) for item in child]
        else:
            c = _canonical_managed(member.type, child)
        if c is not None:
            out[key] = canonical_set(c) if key in UNORDERED and isinstance(c, list) else c
    return out or None


def equal(owner: str, name: str, a: Any, b: Any) -> bool:
    same: bool = canonical_property(owner, name, a) == canonical_property(owner, name, b)
    return same


def value_at(value: Any, path: str) -> Any:
    """The member at a dotted path (`inboundTrust.isMfaAccepted`), or None where the path ends early."""
    parts = _PARTS.get(path)
    if parts is None:
        if len(_PARTS) > 4096:  # paths from data (drift's unknown members) must not grow it without bound
            _PARTS.clear()
        parts = _PARTS[path] = tuple(path.split("."))
    node: Any = value
    for part in parts:
        if not (type(node) is dict or is_object(node)):
            return None
        node = node.get(part)
    return node


# The access impact asks for the same few dozen leaf paths thousands of times: each is split once.
_PARTS: dict[str, tuple[str, ...]] = {}


# --- wire form ----------------------------------------------------------------------------------------------


def omit_nulls(value: Any) -> Any:
    """`value` with every null member left out, at any depth (an object left empty counts as null)."""
    if isinstance(value, Mapping):
        out = {k: omit_nulls(v) for k, v in value.items()}
        out = {k: v for k, v in out.items() if v is not None}
        return out or None
    if isinstance(value, list):
        return [omit_nulls(v) for v in value]
    return value


def cleared_paths(owner: str, name: str, desired: Any, live: Any) -> list[str]:
    """The members (dotted, under `name`) the tenant has set and the desired value leaves empty.

    Leaving such a member out of a body clears it only if Graph replaces objects; sending it as null is
    what no Microsoft sample does. The planner sends the property in two steps instead (null, then value).
    """
    want = canonical_property(owner, name, desired)
    have = canonical_property(owner, name, live)
    if want is None or not isinstance(want, dict) or not isinstance(have, dict):
        return []
    return list(_cleared(want, have, name))


def _cleared(want: Mapping[str, Any], have: Mapping[str, Any], path: str) -> Iterator[str]:
    for key, value in have.items():
        here = f"{path}.{key}"
        mine = want.get(key)
        if mine is None:
            yield here
        elif isinstance(mine, Mapping) and isinstance(value, Mapping):
            yield from _cleared(mine, value, here)


def wire_property(owner: str, name: str, desired: Any, live: Any) -> Any:
    """The value of property `name` in a body: desired without nulls, plus the known-but-unmanaged members
    of the live value (e.g. `tenantRestrictions.devices`), so a replacing PATCH loses nothing xtap doesn't own."""
    body = omit_nulls(desired)
    member = property_member(owner, name)
    if body is None or member is None or not member.structured or member.collection:
        return body
    return _carry(member.type, body, live)


def _carry(type_name: str, body: Any, live: Any) -> Any:
    if not isinstance(body, dict) or not isinstance(live, Mapping):
        return body
    out = dict(body)
    for key, member in members(type_name).items():
        have = live.get(key)
        if have is None:
            continue
        if not member.managed:
            out[key] = have
        elif member.structured and not member.collection and key in out:
            out[key] = _carry(member.type, out[key], have)
    return out


def unknown_under(owner: str, name: str, live: Any) -> list[str]:
    """Members of a live property that the metadata does not know (dotted, under `name`)."""
    member = property_member(owner, name)
    if member is None or not member.structured or member.collection:
        return []
    return unknown_members(member.type, live, name)
