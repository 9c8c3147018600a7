"""What "inherit" means: the one place that resolves a partner's settings against the default. Pure.

Graph's contract is "a partner property that is null inherits the default". The same holds one level
down, where Graph shows it: `automaticUserConsentSettings` comes back as `{inboundAllowed: null, ...}` and
those members inherit. So resolution is per leaf: a leaf the partner sets (non-null) is `partner`; a leaf
it leaves null takes the default's value at the same path (`default`); a leaf neither sets is `none` (the
service's own behaviour). Whether Graph resolves a half-set B2B setting (only `applications`) leaf by
leaf is not documented; leaf-wise is the reading consistent with the documented cases.

A leaf is a member of the v1.0 metadata whose type is not an object (`accessType`, `targets`,
`isMfaAccepted`, ...), so `effective_settings` lists every managed leaf, set or not, in Graph's documented
order (`model.DOC_ORDER`). The identity-sync policy is never inherited: its leaves are `partner` or `none`.
`defaults_after` is the default configuration a plan resolves "inherit" against; `inherited_text` is how
a plan, a drift report or `show` says it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.core import metadata, model
from reconciler.core.state import DesiredState

Origin = Literal["partner", "default", "none"]


@dataclass(frozen=True)
class Leaf:
    path: str  # dotted: "b2bCollaborationInbound.usersAndGroups.accessType"
    value: Any  # canonical (targets sorted, GUIDs lowercase); None when nobody sets it
    origin: Origin

    @property
    def property(self) -> str:
        return self.path.split(".", 1)[0]


def canonical_tree(owner: str, names: tuple[str, ...], data: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical form of the named top-level properties of `data` (null ones left out)."""
    out = {}
    for name in names:
        value = model.canonical_property(owner, name, data.get(name))
        if value is not None:
            out[name] = value
    return out


def defaults_after(desired: DesiredState, live_default: Mapping[str, Any] | None) -> dict[str, Any]:
    """The default configuration as it will be once the files are applied, canonical: what "inherit"
    resolves to. A property `default.yaml` names wins; the others are as the tenant has them."""
    merged = dict(live_default or {})
    if desired.default is not None:
        merged.update(desired.default.properties)
    names = (*model.DEFAULT_PROPERTIES, "automaticUserConsentSettings")
    return canonical_tree(metadata.DEFAULT_TYPE, names, merged)


def inherited(defaults: Mapping[str, Any], path: str) -> Any:
    """The default's value at a partner's leaf path (None when the default leaves it unset too)."""
    return model.value_at(defaults, path)


def _partner_properties_on_default() -> tuple[str, ...]:
    on_default = model.members(metadata.DEFAULT_TYPE)
    return tuple(n for n in model.PARTNER_PROPERTIES if n in on_default)


@dataclass(frozen=True)
class Resolved:
    """One partner's settings against a default, canonical, resolved leaf by leaf on demand."""

    mine: Mapping[str, Any]  # the partner's properties (canonical, null ones left out)
    defaults: Mapping[str, Any]  # the default's properties that partners inherit (canonical)
    sync: Any  # its identity-sync policy (canonical), or None

    def same(self, other: Resolved, name: str) -> bool:
        """Whether property `name` resolves the same in both (same own value, same default value)."""
        return self.mine.get(name) == other.mine.get(name) and self.defaults.get(name) == other.defaults.get(
            name
        )

    def leaf(self, path: str) -> Leaf:
        """The effective value of a leaf path and where it comes from."""
        if path.startswith(_SYNC_PREFIX):
            own = model.value_at(self.sync, path[len(_SYNC_PREFIX) :])
            return Leaf(path, own, "partner" if own is not None else "none")
        own = model.value_at(self.mine, path)
        if own is not None:
            return Leaf(path, own, "partner")
        fallback = inherited(self.defaults, path)
        return Leaf(path, fallback, "default" if fallback is not None else "none")


_SYNC_PREFIX = f"{model.SYNC_PROPERTY}."
# A plan resolves every partner against the same one or two defaults (the tenant's, and as it will be):
# their canonical trees are made once per mapping object (the last few are kept, by identity).
_DEFAULT_TREES: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []


def _default_tree(default: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if default is None:
        return {}
    for seen, tree in _DEFAULT_TREES:
        if seen is default:
            return tree
    tree = canonical_tree(metadata.DEFAULT_TYPE, _partner_properties_on_default(), default)
    _DEFAULT_TREES[:] = [(default, tree), *_DEFAULT_TREES[:3]]
    return tree


def resolve(
    partner: Mapping[str, Any] | None,
    default: Mapping[str, Any] | None,
    sync: Mapping[str, Any] | None = None,
) -> Resolved:
    mine = canonical_tree(metadata.PARTNER_TYPE, model.PARTNER_PROPERTIES, partner or {})
    sync_value = model.canonical(dict(sync)) if sync is not None else None
    return Resolved(mine, _default_tree(default), sync_value)


def leaf_paths() -> list[str]:
    """Every managed leaf of a partner, its identity-sync policy's last, in documented order."""
    paths = [
        p for p in model.leaf_paths(metadata.PARTNER_TYPE) if p.split(".", 1)[0] in model.PARTNER_PROPERTIES
    ]
    sync = [p for p in model.leaf_paths(metadata.SYNC_TYPE) if p.split(".", 1)[0] in model.SYNC_PROPERTIES]
    return [*paths, *(f"{_SYNC_PREFIX}{p}" for p in sync)]


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
    resolved = resolve(partner, default, sync)
    return [resolved.leaf(path) for path in leaf_paths()]
