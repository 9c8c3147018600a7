"""Effective settings of one partner: what it actually gets after inheritance (graph-api.md §6.1). Pure.

Graph's contract is "a partner property that is null inherits the default". The same holds one level
down, where Graph shows it: `automaticUserConsentSettings` comes back as `{inboundAllowed: null, ...}` and
those members inherit. So resolution is per leaf: a leaf the partner sets (non-null) is `partner`; a leaf
it leaves null takes the default's value at the same path (`default`); a leaf neither sets is `none` (the
service's own behaviour). Whether Graph resolves a half-set B2B setting (only `applications`) leaf by
leaf is not documented; leaf-wise is the reading consistent with the documented cases.

A leaf is a member of the v1.0 metadata whose type is not an object (`accessType`, `targets`,
`isMfaAccepted`, ...), so the output lists every managed leaf, set or not, in the order export writes
files (`export.DOC_ORDER`: Graph's documented order). The identity-sync policy is
never inherited: its leaves are `partner` or `none`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.core import metadata, model
from reconciler.core.export import ordered

Origin = Literal["partner", "default", "none"]


@dataclass(frozen=True)
class Leaf:
    path: str  # dotted: "b2bCollaborationInbound.usersAndGroups.accessType"
    value: Any  # canonical (targets sorted, GUIDs lowercase); None when nobody sets it
    origin: Origin

    @property
    def property(self) -> str:
        return self.path.split(".", 1)[0]


def leaf_paths(type_name: str, prefix: str = "") -> list[str]:
    """Every managed leaf path under a metadata type (objects are walked, collections are leaves)."""
    md = metadata.load()
    if type_name not in md.types:
        return [prefix]
    out: list[str] = []
    props = {p.name: p for p in md.type(type_name).properties}
    for prop in (props[n] for n in ordered(props)):
        if (type_name, prop.name) in model.UNMANAGED_MEMBERS:
            continue
        path = f"{prefix}.{prop.name}" if prefix else prop.name
        if prop.collection or prop.type not in md.types:
            out.append(path)
        else:
            out.extend(leaf_paths(prop.type, path))
    return out


def _canonical_tree(owner: str, names: tuple[str, ...], data: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for name in names:
        value = model.canonical_property(owner, name, data.get(name))
        if value is not None:
            out[name] = value
    return out


def effective_settings(
    partner: Mapping[str, Any] | None,
    default: Mapping[str, Any] | None,
    sync: Mapping[str, Any] | None = None,
) -> list[Leaf]:
    """Every managed leaf of a partner with its effective value and where it comes from.

    `partner`: the partner's properties (Graph's shape; None when the tenant has no configuration for it,
    so everything comes from the default); `default`: the default configuration; `sync`: its
    identity-sync policy, if any.
    """
    md = metadata.load()
    mine = _canonical_tree(metadata.PARTNER_TYPE, model.PARTNER_PROPERTIES, partner or {})
    inherited = _canonical_tree(
        metadata.DEFAULT_TYPE,
        tuple(n for n in model.PARTNER_PROPERTIES if md.type(metadata.DEFAULT_TYPE).property(n) is not None),
        default or {},
    )
    leaves: list[Leaf] = []
    for name in ordered(model.PARTNER_PROPERTIES):
        prop = md.type(metadata.PARTNER_TYPE).property(name)
        assert prop is not None
        for path in leaf_paths(prop.type, name):
            own = model.value_at(mine, path)
            if own is not None:
                leaves.append(Leaf(path, own, "partner"))
                continue
            fallback = model.value_at(inherited, path)
            leaves.append(Leaf(path, fallback, "default" if fallback is not None else "none"))
    sync_value = model.canonical(dict(sync)) if sync is not None else None
    for path in leaf_paths(metadata.SYNC_TYPE, model.SYNC_PROPERTY):
        if path == f"{model.SYNC_PROPERTY}.tenantId":
            continue
        own = model.value_at(sync_value, path.split(".", 1)[1])
        leaves.append(Leaf(path, own, "partner" if own is not None else "none"))
    return leaves
