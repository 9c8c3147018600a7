"""Drift reports: what changed in the tenant behind Git's back (docs/drift-export.md). Pure; no I/O.

A drift report is built from a Plan (the files against the live state) and the LiveState it was made from:

- `changed`: a leaf of a partner, of its identity-sync policy, of the default or of the root policy
  (policies/policy.yaml) whose live value differs from the file (declared vs live); the file wins on the
  next apply;
- `set-to-default`: a partner property the file leaves to inherit, set in the tenant to exactly the
  default's value (as the portal does when a setting is saved unchanged): one item for the property, since
  the effective value is unchanged — but the partner no longer follows the default, and the next apply
  sets it back to inherit;
- `missing`: a partner declared in a file but absent from the tenant; the next apply creates it again;
- `sync-removed` / `sync-added`: an identity-sync policy deleted in the tenant that a file declares, or one
  created in the tenant that the file does not declare;
- `unmanaged`: a live partner no file declares (made in the portal, by an MTO, by a support ticket);
- `unknown-property`: live properties, set to something other than null, that the Graph v1.0 metadata
  does not have on that resource (`crossCloudMeetingConfiguration`, `protectedContentSharing`): xtap
  neither sends nor compares them.

Every item has a stable `id` (a hash of its kind, resource, path and live value) so that a later report can
mark what is `new` since an earlier one; CI then notifies only on new drift. Information items (unknown
properties, unmanaged partners that xtap never deletes: MTO members and protected partners) are listed but
are not drift: they never make `drift` true nor the exit code 2.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from reconciler.core import metadata, model, values
from reconciler.core.plan import Change, Plan, PlanOptions, PropertyDiff
from reconciler.core.safety import never_deleted
from reconciler.core.state import LiveState

Kind = Literal[
    "changed", "set-to-default", "missing", "sync-removed", "sync-added", "unmanaged", "unknown-property"
]
KINDS: tuple[Kind, ...] = get_args(Kind)

FILE_WINS = "the file wins on the next apply"
CREATES = "the next apply creates it again"
# The resources that are not a partner's, as a sentence names them.
_NOT_PARTNERS = {"default": "the default configuration", "policy": "the cross-tenant access policy"}


@dataclass(frozen=True)
class DriftItem:
    id: str
    kind: Kind
    drift: bool  # False for information items
    resource: str  # "partner", "identitySynchronization", "default" or "policy" (the root policy)
    name: str  # the partner's file name, its tenantId when it has no file, "default" or "policy"
    tenant_id: str | None
    message: str  # one sentence: what happened and who wins
    source: str | None = None  # path:line:col of the declaration
    path: str | None = None  # dotted leaf path for `changed`, the property name for `unknown-property`
    declared: Any = None  # canonical value in the file (null = inherit)
    live: Any = None  # canonical value in the tenant
    declared_text: str | None = None  # the values for people: "inherit (default: allowed)"
    live_text: str | None = None
    tenants: tuple[str, ...] = ()  # `unknown-property`: the partners that return the property
    new: bool | None = None  # None when no previous report was given
    outcome: str | None = None  # what the next apply does about drift (None for `changed`: the file wins)


@dataclass(frozen=True)
class ResolvedItem:
    """An item of the previous report that is gone now (fixed, or the file now agrees)."""

    id: str
    kind: str
    name: str
    tenant_id: str | None
    path: str | None


@dataclass(frozen=True)
class Previous:
    """What this module needs from an earlier report (its JSON form)."""

    generated_at: str | None
    items: tuple[ResolvedItem, ...]

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(i.id for i in self.items)


@dataclass(frozen=True)
class DriftReport:
    items: tuple[DriftItem, ...]
    tenant_name: str = "default"
    tenant_id: str | None = None
    generated_at: str | None = None
    prune: bool = False
    previous: Previous | None = None
    resolved: tuple[ResolvedItem, ...] = ()

    @property
    def drift(self) -> bool:
        return any(i.drift for i in self.items)

    @property
    def drift_items(self) -> tuple[DriftItem, ...]:
        return tuple(i for i in self.items if i.drift)

    @property
    def information_items(self) -> tuple[DriftItem, ...]:
        return tuple(i for i in self.items if not i.drift)

    @property
    def new_drift(self) -> tuple[DriftItem, ...]:
        return tuple(i for i in self.items if i.drift and i.new)

    def count(self, kind: Kind) -> int:
        return sum(1 for i in self.items if i.kind == kind)

    def summary_line(self) -> str:
        if not self.drift:
            return "No drift. The tenant matches the policy files."
        count = len(self.drift_items)
        resources = len({(i.resource == "default", i.tenant_id) for i in self.drift_items})
        where = f"{resources} resource{'s' if resources != 1 else ''}"
        line = f"Drift: {count} item{'s' if count != 1 else ''} in {where}"
        if self.previous is not None:
            line += f", {len(self.new_drift)} new since the previous report"
        return line + "."


def earlier(previous: Previous) -> str:
    """How the report given with --previous is named: `the report of <when>`, `an earlier report`."""
    return f"the report of {previous.generated_at}" if previous.generated_at else "an earlier report"


def by_resource(items: Sequence[DriftItem]) -> list[list[DriftItem]]:
    """`items` grouped per resource (the default; a partner with its sync policy), in first-seen order."""
    groups: dict[str, list[DriftItem]] = {}
    for item in items:
        # A partner's tenant id (its sync policy's too), else "default" or "policy": never a GUID.
        groups.setdefault(item.tenant_id or item.name, []).append(item)
    return list(groups.values())


def resource_title(item: DriftItem) -> str:
    """How the resource of `item` is named for people: `partner fabrikam (90e2…)`, `default configuration`."""
    resource = item.resource if item.resource in _NOT_PARTNERS else "partner"  # sync goes with its partner
    return values.title(resource, item.name, item.tenant_id)


# --- building ---------------------------------------------------------------------------------------------


def item_id(kind: str, resource: str, key: str | None, path: str | None, live: Any) -> str:
    """Stable across runs: the same drift (same place, same live value) always has the same id."""
    # `live` is what Graph returned (JSON), so it always serializes; ASCII output (ensure_ascii), so any
    # encoding gives the same bytes.
    text = json.dumps([kind, resource, key, path, live], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _item(kind: Kind, change: Change, message: str, *, drift: bool = True, **kw: Any) -> DriftItem:
    key = change.tenant_id or change.name
    ident = item_id(kind, change.resource, key, kw.get("path"), kw.get("live"))
    return DriftItem(
        ident, kind, drift, change.resource, change.name, change.tenant_id, message, change.source, **kw
    )


def _changed(change: Change, defaults: Mapping[str, Any]) -> list[DriftItem]:
    pinned = _set_to_default(change, defaults)
    items = [_pinned_item(change, prop, diffs) for prop, diffs in pinned.items()]
    grouped = {id(d) for diffs in pinned.values() for d in diffs}
    for diff in change.diffs:
        if id(diff) in grouped:
            continue
        # The planner's diff goes from live (before) to the file (after).
        declared_text = values.describe(change, diff.path, diff.after, defaults)
        live_text = values.describe(change, diff.path, diff.before, defaults)
        where = _NOT_PARTNERS.get(change.resource) or _label(change)
        message = f"{diff.path} of {where} is {live_text} in the tenant but {declared_text} in the file; {FILE_WINS}"
        items.append(
            _item(
                "changed",
                change,
                message,
                path=diff.path,
                declared=diff.after,
                live=diff.before,
                declared_text=declared_text,
                live_text=live_text,
            )  # no outcome: that the file wins is said once for all `changed` items
        )
    return items


def _set_to_default(change: Change, defaults: Mapping[str, Any]) -> dict[str, list[PropertyDiff]]:
    """The top-level properties whose every differing leaf is one the file inherits and the tenant sets to
    the default's own value: the property's effective value is the same either way.

    Whole properties only: `targets` equal to the default's under another `accessType` is a different
    rule, so such a leaf stays a `changed` item with the others.
    """
    by_property: dict[str, list[PropertyDiff]] = {}
    for diff in change.diffs:
        by_property.setdefault(diff.path.split(".", 1)[0], []).append(diff)
    if change.resource != "partner":
        return {}
    return {
        prop: diffs
        for prop, diffs in by_property.items()
        if all(_inherits_the_same(diff, defaults) for diff in diffs)
    }


def _inherits_the_same(diff: PropertyDiff, defaults: Mapping[str, Any]) -> bool:
    inherited = model.canonical(model.value_at(defaults, diff.path))
    return diff.after is None and diff.before is not None and model.canonical(diff.before) == inherited


def _pinned_item(change: Change, prop: str, diffs: list[PropertyDiff]) -> DriftItem:
    value = _subtree(diffs)
    live_text = values.format_value(value)
    outcome = "the next apply sets it back to inherit, so the partner follows the default again"
    message = (
        f"{prop} of {_label(change)} is set in the tenant to the default's own value ({live_text}), where the "
        f"file inherits it: the effective value is unchanged; {outcome}"
    )
    return _item(
        "set-to-default",
        change,
        message,
        path=prop,
        live=value,
        declared_text="inherit",
        live_text=live_text,
        outcome=outcome,
    )


def _subtree(diffs: list[PropertyDiff]) -> Any:
    """The live values of `diffs` (leaves of one property) as one object, nested as in the property."""
    tree: dict[str, Any] = {}
    for diff in diffs:
        *parents, leaf = diff.path.split(".")
        if not parents:  # the property itself is the leaf
            return diff.before
        node = tree
        for part in parents[1:]:
            node = node.setdefault(part, {})
        node[leaf] = diff.before
    return tree


def _label(change: Change) -> str:
    return values.title("partner", change.name, change.tenant_id)


def _unmanaged_partner(change: Change, live: LiveState, protected: frozenset[str], prune: bool) -> DriftItem:
    tid = change.tenant_id
    assert tid is not None  # a partner's change; the plan was made from `live`, so the partner is there
    base = f"partner {tid} is in the tenant but in no policy file"
    keep = never_deleted(live.partners[tid], PlanOptions(protected=protected))
    if keep is not None:  # the same reasons as the planner's: information, not drift (no outcome)
        return _item("unmanaged", change, f"{base}; xtap never deletes it ({keep})", drift=False)
    if prune:
        outcome = "prune is on: the next apply deletes it"
    else:
        outcome = "the next apply leaves it alone: add a file for it (xtap export) or delete it with --prune"
    return _item("unmanaged", change, f"{base} (made in the portal?); {outcome}", outcome=outcome)


def _sync_added(change: Change, live: LiveState, prune: bool) -> DriftItem:
    tid = change.tenant_id
    assert tid is not None  # a partner's sync policy, in `live` (the plan was made from it)
    sync = live.partners[tid].sync
    assert sync is not None  # the very policy this change is about
    value = model.canonical(_sync_view(sync))
    if prune:
        outcome = "prune is on: the next apply deletes it"
    else:
        outcome = "the next apply leaves it alone (it is deleted only with --prune)"
    message = f"{_label(change)} has an identitySynchronization policy in the tenant that the file does not declare; {outcome}"
    return _item(
        "sync-added",
        change,
        message,
        path="identitySynchronization",
        live=value,
        declared_text="none",
        live_text=values.format_value(value),
        outcome=outcome,
    )


def _sync_view(sync: Mapping[str, Any]) -> dict[str, Any]:
    return {k: sync.get(k) for k in model.SYNC_PROPERTIES}


def _unknown(owner: str, data: Mapping[str, Any] | None, prefix: str = "") -> list[str]:
    """Paths of the members, not null, that the v1.0 metadata does not have, at any depth."""
    if not data:
        return []
    return [
        path
        for path in model.unknown_members(owner, data, prefix)
        if path != model.SYNC_PROPERTY
        and model.canonical(model.value_at(data, path.removeprefix(prefix + "."))) is not None
    ]


def unknown_properties(live: LiveState) -> list[DriftItem]:
    """Live members, not null, that the v1.0 metadata does not have on their resource — a property Graph
    returns anyway (`protectedContentSharing`) or a member inside one (`inboundTrust.isCompliantNetworkAccepted`):
    one information item per path and resource. A null (or all-null object, as Graph returns
    `crossCloudMeetingConfiguration` for every partner) holds nothing to lose, so it is not listed."""
    md = metadata.load()
    on_partners = {p.name for p in md.type(metadata.PARTNER_TYPE).properties} | {model.SYNC_PROPERTY}
    on_the_default = {p.name for p in md.type(metadata.DEFAULT_TYPE).properties}
    found: dict[str, list[str]] = {}
    for tid in sorted(live.partners):
        partner = live.partners[tid]
        paths = _unknown(metadata.PARTNER_TYPE, partner.raw)
        paths += _unknown(metadata.SYNC_TYPE, partner.sync, model.SYNC_PROPERTY)
        for path in paths:
            found.setdefault(path, []).append(tid)
    items = []
    for name in sorted(found):
        tenants = tuple(found[name])
        count = len(tenants)
        where = f"{count} partner{'s' if count != 1 else ''}"
        elsewhere = _not_in_metadata(name, on_the_default, "the default configuration")
        message = f"{name} is returned for {where} {elsewhere}"
        ident = item_id("unknown-property", "partner", None, name, list(tenants))
        items.append(
            DriftItem(
                ident,
                "unknown-property",
                False,
                "partner",
                "partners",
                None,
                message,
                path=name,
                tenants=tenants,
            )
        )
    for key in _unknown(metadata.DEFAULT_TYPE, live.default):
        elsewhere = _not_in_metadata(key, on_partners, "partners")
        message = f"{key} is returned for the default configuration {elsewhere}"
        ident = item_id("unknown-property", "default", None, key, None)
        items.append(
            DriftItem(ident, "unknown-property", False, "default", "default", None, message, path=key)
        )
    return items


def _not_in_metadata(name: str, the_others: set[str], others: str) -> str:
    """`name` is not in the metadata of its resource; `the_others` are the properties of the other resource
    (partners, or the default configuration), which `others` names."""
    if name in the_others:
        where = f"but the Graph v1.0 metadata has it on {others} only"
    else:
        where = "but is not in the Graph v1.0 metadata"
    return f"{where}: xtap neither sends nor compares it (information)"


def build_report(
    plan: Plan,
    live: LiveState,
    *,
    protected: frozenset[str] = frozenset(),
    previous: Previous | None = None,
    generated_at: str | None = None,
) -> DriftReport:
    """The drift report of `plan` (made from `live`); `previous` marks what is new since an earlier report."""
    created = {c.tenant_id for c in plan.changes if c.action == "create" and c.resource == "partner"}
    items: list[DriftItem] = []
    for change in plan.changes:
        if change.action == "noop":
            continue
        if change.action == "update":
            items.extend(_changed(change, plan.defaults))
        elif change.resource == "partner" and change.action == "create":
            message = f"{_label(change)} is declared in the file but absent from the tenant (deleted in the portal?); {CREATES}"
            items.append(_item("missing", change, message, outcome=CREATES))
        elif change.resource == "partner":  # unmanaged, or delete (prune on)
            items.append(_unmanaged_partner(change, live, protected, plan.prune))
        elif change.resource == "identitySynchronization" and change.action == "create":
            if change.tenant_id in created:
                continue  # part of the missing partner
            message = f"{_label(change)} has no identitySynchronization policy in the tenant but the file declares one; {CREATES}"
            items.append(
                _item(
                    "sync-removed",
                    change,
                    message,
                    path="identitySynchronization",
                    declared=_sync_declared(change),
                    declared_text=values.format_value(_sync_declared(change)),
                    live_text="none",
                    outcome=CREATES,
                )
            )
        elif change.resource == "identitySynchronization":  # unmanaged, or delete (prune on)
            if change.source is None:
                continue  # the sync policy of an unmanaged partner: part of that partner's item
            items.append(_sync_added(change, live, plan.prune))
    items.extend(unknown_properties(live))
    resolved: tuple[ResolvedItem, ...] = ()
    if previous is not None:
        before = previous.ids
        items = [_with_new(i, i.id not in before) for i in items]
        now = {i.id for i in items}
        resolved = tuple(p for p in previous.items if p.id not in now)
    return DriftReport(
        items=tuple(items),
        tenant_name=plan.tenant_name,
        tenant_id=plan.tenant_id,
        generated_at=generated_at,
        prune=plan.prune,
        previous=previous,
        resolved=resolved,
    )


def _sync_declared(change: Change) -> Any:
    [put] = change.requests  # a sync policy is created with one PUT of the whole policy
    return model.canonical(dict(put.body or {}))


def _with_new(item: DriftItem, new: bool) -> DriftItem:
    return DriftItem(**{**item.__dict__, "new": new})
