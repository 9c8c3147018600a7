"""The whole diff logic: (desired state, live state, options) → Plan. Pure; no I/O.

DESIGN §3 is the contract:
- a managed property absent from a partner file means inherit (Graph null); ignored properties are left alone;
- values compare in canonical form (`model.canonical`), so there is no false drift;
- a PATCH body holds only the top-level properties that differ, each sent whole in its wire form
  (`model.expand`: every member present, null where the file leaves it out) — correct whether Graph merges
  nested values or replaces them; back-to-inherit is sent as null;
- create is one POST with every non-null desired property; identity sync is PUT to create, PATCH to update,
  DELETE to remove, and a sync policy is deleted before its partner (Graph refuses the reverse);
- deletions only with prune, never for MTO or protected partners.
The default configuration manages only the properties its file names (null is not "inherit" there).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.core import metadata, model, urls
from reconciler.core.plan import Change, Fingerprints, Plan, PropertyDiff, digest
from reconciler.core.state import DesiredPartner, DesiredState, LivePartner, LiveState, Request

# Safety gate for mass updates, after octoDNS: more than 30 % of at least 10 existing partners.
UPDATE_GATE_MIN_EXISTING = 10


@dataclass(frozen=True)
class PlanOptions:
    prune: bool = False
    protected: frozenset[str] = frozenset()  # lowercase tenant ids never deleted
    ignore: frozenset[str] = frozenset()  # properties left alone on every partner and the default
    max_deletes: int | None = None  # None: 0 without prune, 5 with
    max_update_percent: float = 30.0
    force: bool = False
    tenant_name: str = "default"
    tenant_id: str | None = None


def leaf_diffs(path: str, before: Any, after: Any) -> Iterator[PropertyDiff]:
    """The changed leaves between two canonical values; objects are walked, lists are leaves."""
    if isinstance(before, dict) or isinstance(after, dict):
        b = before if isinstance(before, dict) else {}
        a = after if isinstance(after, dict) else {}
        if (before is not None and not isinstance(before, dict)) or (
            after is not None and not isinstance(after, dict)
        ):
            yield PropertyDiff(path, before, after)
            return
        for key in sorted(set(b) | set(a)):
            yield from leaf_diffs(f"{path}.{key}", b.get(key), a.get(key))
    elif before != after:
        yield PropertyDiff(path, before, after)


def _property_changes(
    owner: str, names: tuple[str, ...], desired: Mapping[str, Any], live: Mapping[str, Any]
) -> tuple[dict[str, Any], list[PropertyDiff]]:
    """The PATCH body (changed top-level properties, wire form) and the leaf diffs."""
    body: dict[str, Any] = {}
    diffs: list[PropertyDiff] = []
    for name in names:
        want = model.canonical_property(owner, name, desired.get(name))
        have = model.canonical_property(owner, name, live.get(name))
        if want != have:
            body[name] = model.expand_property(owner, name, desired.get(name))
            diffs.extend(leaf_diffs(name, have, want))
    return body, diffs


class _Ids:
    """Request ids, unique within a plan (a `$batch` needs them unique per batch)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def next(self) -> str:
        return str(next(self._counter))


def _managed_names(all_names: tuple[str, ...], ignore: frozenset[str]) -> tuple[str, ...]:
    return tuple(n for n in all_names if n not in ignore)


def _sync_body(sync: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: model.expand_property(metadata.SYNC_TYPE, name, sync.get(name))
        for name in model.SYNC_PROPERTIES
        if name in sync
    }


def _partner_name(desired: DesiredPartner | None, tenant_id: str) -> str:
    if desired is None:
        return tenant_id
    stem = desired.source.path.replace("\\", "/").rsplit("/", 1)[-1]
    return stem.rsplit(".", 1)[0] if "." in stem else stem


def plan_partner(
    desired: DesiredPartner | None,
    live: LivePartner | None,
    options: PlanOptions,
    ids: _Ids,
) -> list[Change]:
    """The changes for one partner tenant: the partner itself, then its identity-sync policy."""
    tenant_id = (desired or live).tenant_id  # type: ignore[union-attr]
    name = _partner_name(desired, tenant_id)
    source = str(desired.source) if desired else None
    ignore = options.ignore | (desired.ignore if desired else frozenset())
    names = _managed_names(model.PARTNER_PROPERTIES, ignore)
    manage_sync = model.SYNC_PROPERTY not in ignore
    owner = metadata.PARTNER_TYPE

    if desired is not None and live is None:
        body: dict[str, Any] = {"tenantId": tenant_id}
        diffs: list[PropertyDiff] = []
        for prop in names:
            value = desired.properties.get(prop)
            if model.canonical_property(owner, prop, value) is not None:
                body[prop] = model.expand_property(owner, prop, value)
                diffs.extend(leaf_diffs(prop, None, model.canonical_property(owner, prop, value)))
        create = Request(ids.next(), "POST", urls.PARTNERS, body)
        changes = [Change("create", "partner", name, tenant_id, source, tuple(diffs), (create,))]
        if manage_sync and desired.sync is not None:
            sync_body = _sync_body(desired.sync)
            changes.append(
                Change(
                    "create",
                    "identitySynchronization",
                    name,
                    tenant_id,
                    source,
                    tuple(leaf_diffs("identitySynchronization", None, model.canonical(sync_body))),
                    (Request(ids.next(), "PUT", urls.sync(tenant_id), sync_body, (create.id,)),),
                )
            )
        return changes

    assert live is not None
    if desired is None:
        return _plan_removal(live, options, ids)

    changes = []
    body, diffs = _property_changes(owner, names, desired.properties, live.raw)
    if body:
        patch = Request(ids.next(), "PATCH", urls.partner(tenant_id), body)
        changes.append(Change("update", "partner", name, tenant_id, source, tuple(diffs), (patch,)))
    else:
        changes.append(Change("noop", "partner", name, tenant_id, source))
    if manage_sync:
        changes.extend(_plan_sync(desired, live, name, source, options, ids))
    return changes


def _plan_sync(
    desired: DesiredPartner,
    live: LivePartner,
    name: str,
    source: str | None,
    options: PlanOptions,
    ids: _Ids,
) -> list[Change]:
    tid = desired.tenant_id
    if desired.sync is None and live.sync is None:
        return []
    if desired.sync is None:
        assert live.sync is not None
        gone = tuple(leaf_diffs("identitySynchronization", _live_sync(live.sync), None))
        if options.prune:
            request = Request(ids.next(), "DELETE", urls.sync(tid))
            return [Change("delete", "identitySynchronization", name, tid, source, gone, (request,))]
        note = "the file has no identitySynchronization; it is removed only with --prune"
        return [Change("unmanaged", "identitySynchronization", name, tid, source, notes=(note,))]
    sync_body = _sync_body(desired.sync)
    if live.sync is None:
        diffs = tuple(leaf_diffs("identitySynchronization", None, model.canonical(sync_body)))
        request = Request(ids.next(), "PUT", urls.sync(tid), sync_body)
        return [Change("create", "identitySynchronization", name, tid, source, diffs, (request,))]
    body, leafs = _property_changes(
        metadata.SYNC_TYPE,
        tuple(n for n in model.SYNC_PROPERTIES if n in desired.sync),
        desired.sync,
        live.sync,
    )
    if not body:
        return [Change("noop", "identitySynchronization", name, tid, source)]
    leafs = [PropertyDiff(f"identitySynchronization.{d.path}", d.before, d.after) for d in leafs]
    request = Request(ids.next(), "PATCH", urls.sync(tid), body)
    return [Change("update", "identitySynchronization", name, tid, source, tuple(leafs), (request,))]


def _live_sync(sync: Mapping[str, Any]) -> Any:
    return model.canonical({k: sync.get(k) for k in model.SYNC_PROPERTIES})


def _plan_removal(live: LivePartner, options: PlanOptions, ids: _Ids) -> list[Change]:
    tid = live.tenant_id
    reason = None
    if not options.prune:
        reason = "not in the policy files; deleted only with --prune"
    elif live.is_mto:
        reason = "member of a multitenant organization (isInMultiTenantOrganization): never deleted"
    elif tid in options.protected:
        reason = "listed in protectedPartners: never deleted"
    if reason is not None:
        return [Change("unmanaged", "partner", tid, tid, notes=(reason,))]
    owner = metadata.PARTNER_TYPE
    diffs = [
        d
        for prop in model.PARTNER_PROPERTIES
        for d in leaf_diffs(prop, model.canonical_property(owner, prop, live.raw.get(prop)), None)
    ]
    changes = []
    depends: tuple[str, ...] = ()
    if live.sync is not None:
        sync_delete = Request(ids.next(), "DELETE", urls.sync(tid))
        depends = (sync_delete.id,)
        sync_diffs = tuple(leaf_diffs("identitySynchronization", _live_sync(live.sync), None))
        changes.append(
            Change("delete", "identitySynchronization", tid, tid, None, sync_diffs, (sync_delete,))
        )
    # Graph refuses to delete a partner that still has a sync policy: the policy goes first (graph-api.md §4).
    partner_delete = Request(ids.next(), "DELETE", urls.partner(tid), None, depends)
    changes.append(Change("delete", "partner", tid, tid, None, tuple(diffs), (partner_delete,)))
    return changes


def plan_default(desired: DesiredState, live: LiveState, options: PlanOptions, ids: _Ids) -> list[Change]:
    if desired.default is None:
        return []
    source = str(desired.default.source)
    ignore = options.ignore | desired.default.ignore
    names = tuple(
        n for n in _managed_names(model.DEFAULT_PROPERTIES, ignore) if n in desired.default.properties
    )
    body, diffs = _property_changes(
        metadata.DEFAULT_TYPE, names, desired.default.properties, live.default or {}
    )
    if not body:
        return [Change("noop", "default", "default", None, source)]
    request = Request(ids.next(), "PATCH", urls.DEFAULT, body)
    return [Change("update", "default", "default", None, source, tuple(diffs), (request,))]


def effective_defaults(desired: DesiredState, live: LiveState) -> dict[str, Any]:
    """The default configuration as it will be after this plan, canonical: what "inherit" resolves to."""
    owner = metadata.DEFAULT_TYPE
    live_default = live.default or {}
    out: dict[str, Any] = {}
    for name in (*model.DEFAULT_PROPERTIES, "automaticUserConsentSettings"):
        value = live_default.get(name)
        if desired.default is not None and name in desired.default.properties:
            value = desired.default.properties[name]
        canon = model.canonical_property(owner, name, value)
        if canon is not None:
            out[name] = canon
    return out


def fingerprint_live(live: LiveState) -> dict[str, str]:
    prints = {f"partner:{tid}": digest(_fingerprint_view(p)) for tid, p in live.partners.items()}
    prints["default"] = digest(model.canonical(dict(live.default or {})))
    return prints


def _fingerprint_view(partner: LivePartner) -> Any:
    return {"partner": model.canonical(dict(partner.raw)), "sync": model.canonical(partner.sync)}


def fingerprint_desired(desired: DesiredState) -> str:
    """Any edit of a file's managed content changes it (the values as written, not their canonical form:
    a saved plan is refused after any edit, even one that would plan the same)."""
    partners = {
        tid: {"properties": p.properties, "sync": p.sync, "ignore": sorted(p.ignore)}
        for tid, p in desired.partners.items()
    }
    default = None
    if desired.default is not None:
        default = {"properties": desired.default.properties, "ignore": sorted(desired.default.ignore)}
    return digest({"partners": partners, "default": default})


def safety_refusals(
    changes: list[Change], desired: DesiredState, live: LiveState, options: PlanOptions
) -> list[str]:
    """DESIGN §4 safety gates; each refusal is one sentence naming the override."""
    refusals = []
    max_deletes = options.max_deletes
    if max_deletes is None:
        max_deletes = 5 if options.prune else 0
    deletes = sum(1 for c in changes if c.action == "delete" and c.resource == "partner")
    if deletes > max_deletes:
        refusals.append(
            f"{deletes} partner deletions exceed maxDeletes ({max_deletes}); "
            "review them and re-run with --force"
        )
    existing = len(live.partners)
    updated = len({c.tenant_id for c in changes if c.action == "update" and c.resource != "default"})
    if existing >= UPDATE_GATE_MIN_EXISTING and updated * 100 > options.max_update_percent * existing:
        refusals.append(
            f"{updated} of {existing} existing partners would change, more than "
            f"{options.max_update_percent:g} %; review them and re-run with --force"
        )
    if options.prune and not desired.partners and live.partners:
        refusals.append(
            "the policy files declare no partners and prune is on: this would delete every partner; "
            "re-run with --force if that is really meant"
        )
    return refusals


def make_plan(desired: DesiredState, live: LiveState, options: PlanOptions | None = None) -> Plan:
    options = options or PlanOptions()
    ids = _Ids()
    changes: list[Change] = []
    changes.extend(plan_default(desired, live, options, ids))
    for tid in sorted(desired.partners, key=lambda t: (_partner_name(desired.partners[t], t), t)):
        changes.extend(plan_partner(desired.partners[tid], live.partners.get(tid), options, ids))
    for tid in sorted(set(live.partners) - set(desired.partners)):
        changes.extend(plan_partner(None, live.partners[tid], options, ids))
    return Plan(
        changes=tuple(changes),
        fingerprints=Fingerprints(live=fingerprint_live(live), desired=fingerprint_desired(desired)),
        tenant_name=options.tenant_name,
        tenant_id=options.tenant_id,
        prune=options.prune,
        refusals=tuple(safety_refusals(changes, desired, live, options)),
        forced=options.force,
        defaults=effective_defaults(desired, live),
    )
