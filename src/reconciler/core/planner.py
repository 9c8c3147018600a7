"""The whole diff logic: (desired state, live state, options) → Plan. Pure; no I/O.

The contract (docs/plan-apply.md):
- a managed property absent from a partner file means inherit (Graph null); ignored properties are left alone;
- values compare in canonical form (`model.canonical_property`), so there is no false drift, and members
  the v1.0 metadata doesn't know are never compared nor sent;
- a PATCH body holds only the top-level properties that differ, each sent whole in its wire form
  (`model.wire_property`: empty members left out, members xtap doesn't manage carried from the live value);
  back-to-inherit is sent as a top-level null. A property whose new value leaves empty a member the tenant
  has set goes in two steps, chained in one `$batch`: the property as null, then its new value — never a
  null *inside* a property, which no Microsoft sample sends and Graph may refuse or store as false;
- create is a POST with `tenantId` and the properties the v1.0 Create page documents, then a PATCH for the
  rest (dependsOn the POST); identity sync is PUT to create, PATCH to update, DELETE to remove, and a sync
  policy is deleted before its partner (Graph refuses the reverse);
- deletions only with prune, and never of a partner (or its sync policy) that is an MTO member, a service
  provider, built-in protected (the Microsoft Support tenant) or in `protectedPartners`.
The default configuration manages only the properties its file names; the root policy only
`allowedCloudEndpoints`, when `policy.yaml` names it, and its change comes first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from reconciler import __version__
from reconciler.core import effective, metadata, model, urls
from reconciler.core.fingerprints import LiveDigests, fingerprint_desired
from reconciler.core.impact import default_effects, with_effects
from reconciler.core.plan import Change, Fingerprints, Plan, PropertyDiff, digest, leaf_diffs
from reconciler.core.plan import PlanOptions as PlanOptions  # re-exported: where a plan's options are made
from reconciler.core.safety import never_deleted, safety_refusals
from reconciler.core.state import (
    DesiredPartner,
    DesiredState,
    LivePartner,
    LiveState,
    Request,
)

# What the v1.0 "Create crossTenantAccessPolicyConfigurationPartner" page documents for the POST body
# (besides tenantId and isServiceProvider, which xtap does not manage); the rest goes in a PATCH after it.
POST_PROPERTIES = frozenset(
    {
        "inboundTrust",
        "automaticUserConsentSettings",
        "b2bCollaborationInbound",
        "b2bCollaborationOutbound",
        "b2bDirectConnectInbound",
        "b2bDirectConnectOutbound",
    }
)


@dataclass(frozen=True)
class _Delta:
    """How one resource's properties differ: what to send, what clears, the leaves, what to say."""

    body: dict[str, Any]
    clears: tuple[str, ...]  # top-level properties that go in two steps (null, then the value)
    diffs: tuple[PropertyDiff, ...]
    notes: tuple[str, ...]


def _delta(owner: str, names: tuple[str, ...], desired: Mapping[str, Any], live: Mapping[str, Any]) -> _Delta:
    body: dict[str, Any] = {}
    clears: list[str] = []
    diffs: list[PropertyDiff] = []
    notes: list[str] = []
    for name in names:
        want, have = desired.get(name), live.get(name)
        if want == have:
            continue  # equal values have equal canonical forms: most of a large plan is unchanged
        after = model.canonical_property(owner, name, want)
        before = model.canonical_property(owner, name, have)
        if after == before:
            continue
        body[name] = model.wire_property(owner, name, want, have)
        diffs.extend(leaf_diffs(name, before, after))
        cleared = model.cleared_paths(owner, name, want, have)
        if cleared:
            clears.append(name)
            notes.append(
                f"{name} is sent in two steps (null, then the new value) to empty {', '.join(cleared)}, "
                "which the tenant has set"
            )
        unknown = model.unknown_under(owner, name, have)
        if unknown and (cleared or body[name] is not None):
            notes.append(
                f"Graph may drop {', '.join(unknown)} (not in the Graph v1.0 metadata, so xtap cannot send "
                f"it back) when it replaces {name}"
            )
    return _Delta(body, tuple(clears), tuple(diffs), tuple(notes))


def _patches(ids: _Ids, url: str, delta: _Delta) -> tuple[Request, ...]:
    """The PATCH of a delta; with properties to empty, a PATCH nulling them first and the value after it."""
    if not delta.clears:
        return (Request(ids.next(), "PATCH", url, delta.body),)
    reset = Request(ids.next(), "PATCH", url, dict.fromkeys(delta.clears))
    return (reset, Request(ids.next(), "PATCH", url, delta.body, (reset.id,)))


class _Ids:
    """Request ids, unique within a plan (a `$batch` needs them unique per batch)."""

    def __init__(self) -> None:
        self.used = 0

    def next(self) -> str:
        self.used += 1
        return str(self.used)


def _numbered(changes: list[Change], used: int, ids: _Ids) -> list[Change]:
    """One partner's changes, planned with ids of their own from 1 to `used`, numbered on from `ids`:
    the ids they would have had if planned there, in the plan's order."""
    shift = ids.used
    ids.used += used
    if not shift:
        return changes

    def moved(request: Request) -> Request:
        return Request(
            str(int(request.id) + shift),
            request.method,
            request.url,
            request.body,
            tuple(str(int(d) + shift) for d in request.depends_on),
        )

    return [replace(c, requests=tuple(map(moved, c.requests))) if c.requests else c for c in changes]


def _managed_names(
    all_names: tuple[str, ...], ignore: frozenset[str], written: Mapping[str, Any]
) -> tuple[str, ...]:
    """The managed names not ignored: those the file writes first, in its order (a body reads like the
    file, Microsoft's Create example goes out as documented), then the rest in metadata order."""
    names = [n for n in all_names if n not in ignore]
    first = [n for n in written if n in names]
    return (*first, *(n for n in names if n not in written))


def _sync_names(sync: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(n for n in sync if n in model.SYNC_PROPERTIES)


def _sync_body(sync: Mapping[str, Any]) -> dict[str, Any]:
    body = {n: model.wire_property(metadata.SYNC_TYPE, n, sync.get(n), None) for n in _sync_names(sync)}
    return {k: v for k, v in body.items() if v is not None}


def partner_name(
    desired: DesiredPartner | None, tenant_id: str, names: Mapping[str, str] | None = None
) -> str:
    """How a partner is named: its file's stem, else its display name (tenant lookup), else its tenantId."""
    if desired is None:
        return (names or {}).get(tenant_id) or tenant_id
    stem = desired.source.path.replace("\\", "/").rsplit("/", 1)[-1]
    return stem.rsplit(".", 1)[0] if "." in stem else stem


def plan_partner(
    desired: DesiredPartner | None,
    live: LivePartner | None,
    options: PlanOptions,
    ids: _Ids,
    names: Mapping[str, str] | None = None,
) -> list[Change]:
    """The changes for one partner tenant: the partner itself, then its identity-sync policy."""
    tenant_id = (desired or live).tenant_id  # type: ignore[union-attr]
    name = partner_name(desired, tenant_id, names)
    if desired is None:
        assert live is not None
        return _plan_removal(live, name, options, ids)
    if live is None:
        return _plan_create(desired, name, options, ids)
    ignore = options.ignore | desired.ignore
    owner = metadata.PARTNER_TYPE
    managed = _managed_names(model.PARTNER_PROPERTIES, ignore, desired.properties)
    delta = _delta(owner, managed, desired.properties, live.raw)
    here = _Here(name, tenant_id, str(desired.source), desired.description)
    changes = [
        here.change(
            "update", "partner", delta.diffs, _patches(ids, urls.partner(tenant_id), delta), delta.notes
        )
        if delta.body
        else here.change("noop", "partner")
    ]
    if model.SYNC_PROPERTY not in ignore:
        changes.extend(_plan_sync(desired, live, here, options, ids))
    return changes


@dataclass(frozen=True)
class _Here:
    """The naming fields every change of one partner shares."""

    name: str
    tenant_id: str | None
    source: str | None
    description: str | None = None

    def change(
        self,
        action: Any,
        resource: Any,
        diffs: tuple[PropertyDiff, ...] = (),
        requests: tuple[Request, ...] = (),
        notes: tuple[str, ...] = (),
    ) -> Change:
        return Change(
            action, resource, self.name, self.tenant_id, self.source, diffs, requests, notes, self.description
        )


def _plan_create(desired: DesiredPartner, name: str, options: PlanOptions, ids: _Ids) -> list[Change]:
    tenant_id = desired.tenant_id
    ignore = options.ignore | desired.ignore
    owner = metadata.PARTNER_TYPE
    post: dict[str, Any] = {"tenantId": tenant_id}
    rest: dict[str, Any] = {}
    diffs: list[PropertyDiff] = []
    for prop in _managed_names(model.PARTNER_PROPERTIES, ignore, desired.properties):
        value = desired.properties.get(prop)
        canon = model.canonical_property(owner, prop, value)
        if canon is None:
            continue
        (post if prop in POST_PROPERTIES else rest)[prop] = model.wire_property(owner, prop, value, None)
        diffs.extend(leaf_diffs(prop, None, canon))
    create = Request(ids.next(), "POST", urls.PARTNERS, post)
    requests = [create]
    if rest:  # the Create page documents fewer properties than PATCH accepts: the rest right after it
        requests.append(Request(ids.next(), "PATCH", urls.partner(tenant_id), rest, (create.id,)))
    here = _Here(name, tenant_id, str(desired.source), desired.description)
    changes = [here.change("create", "partner", tuple(diffs), tuple(requests))]
    if model.SYNC_PROPERTY not in ignore and desired.sync is not None:
        body = _sync_body(desired.sync)
        put = Request(ids.next(), "PUT", urls.sync(tenant_id), body, (requests[-1].id,))
        diffs = list(leaf_diffs(model.SYNC_PROPERTY, None, model.canonical(body)))
        changes.append(here.change("create", "identitySynchronization", tuple(diffs), (put,)))
    return changes


def _plan_sync(
    desired: DesiredPartner, live: LivePartner, here: _Here, options: PlanOptions, ids: _Ids
) -> list[Change]:
    tid = desired.tenant_id
    if desired.sync is None and live.sync is None:
        return []
    if desired.sync is None:
        assert live.sync is not None
        gone = tuple(leaf_diffs(model.SYNC_PROPERTY, _live_sync(live.sync), None))
        keep = never_deleted(live, options)
        if options.prune and keep is None:
            request = Request(ids.next(), "DELETE", urls.sync(tid))
            return [here.change("delete", "identitySynchronization", gone, (request,))]
        why = f"never deleted ({keep})" if keep else "removed only with --prune"
        note = f"the file has no identitySynchronization; {why}"
        return [here.change("unmanaged", "identitySynchronization", notes=(note,))]
    if live.sync is None:
        body = _sync_body(desired.sync)
        diffs = tuple(leaf_diffs(model.SYNC_PROPERTY, None, model.canonical(body)))
        request = Request(ids.next(), "PUT", urls.sync(tid), body)
        return [here.change("create", "identitySynchronization", diffs, (request,))]
    delta = _delta(metadata.SYNC_TYPE, _sync_names(desired.sync), desired.sync, live.sync)
    if not delta.body:
        return [here.change("noop", "identitySynchronization")]
    leafs = tuple(PropertyDiff(f"{model.SYNC_PROPERTY}.{d.path}", d.before, d.after) for d in delta.diffs)
    return [
        here.change(
            "update", "identitySynchronization", leafs, _patches(ids, urls.sync(tid), delta), delta.notes
        )
    ]


def _live_sync(sync: Mapping[str, Any]) -> Any:
    return model.canonical({k: sync.get(k) for k in model.SYNC_PROPERTIES})


def _plan_removal(live: LivePartner, name: str, options: PlanOptions, ids: _Ids) -> list[Change]:
    tid = live.tenant_id
    here = _Here(name, tid, None)
    keep = never_deleted(live, options)
    if keep is not None:
        return [here.change("unmanaged", "partner", notes=(f"never deleted ({keep})",))]
    if not options.prune:
        return [
            here.change("unmanaged", "partner", notes=("not in the policy files; deleted only with --prune",))
        ]
    owner = metadata.PARTNER_TYPE
    diffs = tuple(
        d
        for prop in model.PARTNER_PROPERTIES
        for d in leaf_diffs(prop, model.canonical_property(owner, prop, live.raw.get(prop)), None)
    )
    changes = []
    depends: tuple[str, ...] = ()
    if live.sync is not None:
        sync_delete = Request(ids.next(), "DELETE", urls.sync(tid))
        depends = (sync_delete.id,)
        sync_diffs = tuple(leaf_diffs(model.SYNC_PROPERTY, _live_sync(live.sync), None))
        changes.append(here.change("delete", "identitySynchronization", sync_diffs, (sync_delete,)))
    # Graph refuses to delete a partner that still has a sync policy: the policy goes first (v1.0 delete page).
    partner_delete = Request(ids.next(), "DELETE", urls.partner(tid), None, depends)
    changes.append(here.change("delete", "partner", diffs, (partner_delete,)))
    return changes


def plan_default(desired: DesiredState, live: LiveState, options: PlanOptions, ids: _Ids) -> list[Change]:
    if desired.default is None:
        return []
    here = _Here("default", None, str(desired.default.source))
    ignore = options.ignore | desired.default.ignore
    names = tuple(
        n
        for n in _managed_names(model.DEFAULT_PROPERTIES, ignore, desired.default.properties)
        if n in desired.default.properties
    )
    delta = _delta(metadata.DEFAULT_TYPE, names, desired.default.properties, live.default or {})
    if not delta.body:
        return [here.change("noop", "default")]
    return [here.change("update", "default", delta.diffs, _patches(ids, urls.DEFAULT, delta), delta.notes)]


def plan_policy(desired: DesiredState, live: LiveState, ids: _Ids) -> list[Change]:
    """The root policy's managed properties (`allowedCloudEndpoints`), when policy.yaml names them."""
    if desired.policy is None:
        return []
    here = _Here("policy", None, str(desired.policy.source))
    names = tuple(n for n in model.POLICY_PROPERTIES if n in desired.policy.properties)
    delta = _delta(metadata.POLICY_TYPE, names, desired.policy.properties, live.policy or {})
    if not delta.body:
        return [here.change("noop", "policy")]
    return [here.change("update", "policy", delta.diffs, _patches(ids, urls.POLICY, delta), delta.notes)]


def make_plan(
    desired: DesiredState,
    live: LiveState,
    options: PlanOptions | None = None,
    *,
    names: Mapping[str, str] | None = None,
) -> Plan:
    """The plan for `desired` against `live`, with its access effects and fingerprints. `names`: display
    names (tenant lookup) of live partners that no file declares, so deletions and unmanaged partners are
    named for people; a tenantId otherwise. `planning` makes it page by page, and without what only people
    and saved plans need."""
    with planning(desired, options) as plans:
        plans.add(live.default, live.partners.values())
        return plans.plan(live, names=names)


@contextmanager
def planning(
    desired: DesiredState, options: PlanOptions | None = None, *, explain: bool = True
) -> Iterator[PartnerPlans]:
    """`make_plan` in two steps, for a tenant read page by page: `add` plans the files' partners a page
    holds while the next page is on its way, `plan` does the rest. The plan is make_plan's whatever the
    pages and their order; canonical forms are remembered for the whole of it (`model.memo`).
    `explain=False` leaves out what only people and saved plans need — access effects and fingerprints —
    for the applier's check that what it wrote is there; `plan(fingerprints=False)` only the
    fingerprints, for a plan that is shown but neither saved nor checked against a saved one."""
    with model.memo():
        yield PartnerPlans(desired, options or PlanOptions(), explain)


_Defaults = tuple[Mapping[str, Any] | None, Mapping[str, Any]]  # the default before and after the files
_Names = Mapping[str, str] | None


class PartnerPlans:
    """The partners planned so far, each against the live partner it was planned with."""

    def __init__(self, desired: DesiredState, options: PlanOptions, explain: bool) -> None:
        self._desired = desired
        self._options = options
        self._explain = explain
        self._defaults: _Defaults | None = None
        self._done: dict[str, tuple[LivePartner, list[Change], int]] = {}

    def add(self, default: Mapping[str, Any] | None, partners: Iterable[LivePartner]) -> None:
        """Plan the partners a file declares among `partners` (read with this `default`)."""
        defaults = self._defaults_for(default)
        for have in partners:
            wanted = self._desired.partners.get(have.tenant_id)
            if wanted is not None:
                self._done[have.tenant_id] = (have, *self._partner(wanted, have, defaults))

    def plan(self, live: LiveState, *, names: _Names = None, fingerprints: bool = True) -> Plan:
        """The plan against `live`: a partner planned against another object than live's is planned again."""
        desired, options, explain = self._desired, self._options, self._explain
        defaults = self._defaults_for(live.default)
        ids = _Ids()
        changes: list[Change] = []
        changes.extend(plan_policy(desired, live, ids))
        for change in plan_default(desired, live, options, ids):
            changes.append(default_effects(change, *defaults) if explain else change)
        for tid in sorted(desired.partners, key=lambda t: (partner_name(desired.partners[t], t), t)):
            wanted, have = desired.partners[tid], live.partners.get(tid)
            done = self._done.get(tid)
            mine = done[1:] if done is not None and done[0] is have else self._partner(wanted, have, defaults)
            changes.extend(_numbered(*mine, ids))
        for tid in sorted(set(live.partners) - set(desired.partners)):
            changes.extend(_numbered(*self._partner(None, live.partners[tid], defaults, names), ids))
        fingerprints = explain and fingerprints
        return Plan(
            changes=tuple(changes),
            fingerprints=Fingerprints(
                live=LiveDigests(live) if fingerprints else {},
                desired=fingerprint_desired(desired) if fingerprints else "",
                config=digest(options.to_json()),
                version=__version__,
            ),
            tenant_name=options.tenant_name,
            tenant_id=options.tenant_id,
            prune=options.prune,
            refusals=tuple(safety_refusals(changes, desired, live, options)),
            forced=options.force,
            defaults=defaults[1],
            options=options.to_json(),
        )

    def _defaults_for(self, default: Mapping[str, Any] | None) -> _Defaults:
        """The default before and after the files; the partners planned with another one go."""
        if self._defaults is None or self._defaults[0] is not default:
            self._defaults = (default, effective.defaults_after(self._desired, default))
            self._done.clear()
        return self._defaults

    def _partner(
        self,
        wanted: DesiredPartner | None,
        have: LivePartner | None,
        defaults: _Defaults,
        names: _Names = None,
    ) -> tuple[list[Change], int]:
        """One partner's changes, with request ids of its own from 1, and how many it used."""
        ids = _Ids()
        mine = plan_partner(wanted, have, self._options, ids, names)
        if self._explain:
            mine = with_effects(mine, wanted, have, self._options, defaults)
        return mine, ids.used
