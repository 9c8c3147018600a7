"""A plan is data: per-resource changes, their leaf differences and the exact requests (docs/plan-apply.md).

The JSON form (`format_version` 2, described by `schemas/plan.schema.json`) is what `xtap plan --out`
saves and `xtap apply PLANFILE` reads back. A saved plan is never trusted: apply re-derives the plan and
applies only if `differences(saved, rebuilt)` finds nothing (docs/plan-apply.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler import __version__
from reconciler.core.errors import RefusedError, XtapError
from reconciler.core.state import Request

FORMAT_VERSION = 2

Action = Literal["create", "update", "delete", "unmanaged", "noop"]
Resource = Literal["partner", "identitySynchronization", "default", "policy"]
ACTIONS: tuple[Action, ...] = ("create", "update", "delete", "unmanaged", "noop")


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

    def to_json(self) -> dict[str, Any]:
        """The effective configuration a plan was made with (force aside: it is the apply's decision)."""
        return {
            "prune": self.prune,
            "protectedPartners": sorted(self.protected),
            "ignore": sorted(self.ignore),
            "maxDeletes": self.max_deletes,
            "maxUpdatePercent": self.max_update_percent,
            "tenant": {"name": self.tenant_name, "id": self.tenant_id},
        }


@dataclass(frozen=True)
class PropertyDiff:
    """One changed leaf: `path` is dotted (`inboundTrust.isMfaAccepted`); None means null/inherit."""

    path: str
    before: Any
    after: Any


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


@dataclass(frozen=True)
class Effect:
    """What a change does to who can reach what (core/access.py): one channel or setting, one line."""

    channel: str  # b2b-collaboration, ..., inbound-trust, automatic-consent, identity-sync
    direction: str | None  # inbound / outbound; None for trust, consent and sync
    impact: Literal["widens", "narrows", "changes"]
    summary: str


@dataclass(frozen=True)
class Change:
    action: Action
    resource: Resource
    name: str  # the partner's file name (or tenantId when it has no file), "default" for the default
    tenant_id: str | None = None
    source: str | None = None  # path:line:col of the declaration
    diffs: tuple[PropertyDiff, ...] = ()
    requests: tuple[Request, ...] = ()
    notes: tuple[str, ...] = ()
    description: str | None = None  # the partner file's `description`, for people
    effects: tuple[Effect, ...] = ()  # its access impact, widening first

    @property
    def properties(self) -> tuple[str, ...]:
        """The top-level properties this change touches, in order."""
        seen: dict[str, None] = {}
        for diff in self.diffs:
            seen.setdefault(diff.path.split(".", 1)[0], None)
        return tuple(seen)

    @property
    def key(self) -> str:
        return f"{self.resource}:{self.tenant_id or self.name}"


@dataclass(frozen=True)
class Fingerprints:
    live: Mapping[str, str]  # resource key ("partner:<tid>", "default") -> hash of what was read
    desired: str  # hash of the desired state the plan was made from
    config: str = ""  # hash of the effective configuration (xtap.yaml as resolved, flags included)
    version: str = ""  # the xtap version that made the plan


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    fingerprints: Fingerprints
    tenant_name: str = "default"
    tenant_id: str | None = None
    prune: bool = False
    refusals: tuple[str, ...] = ()  # safety gates that refuse this plan unless --force
    forced: bool = False
    # The effective default configuration (canonical), so renderers can say what "inherit" means.
    defaults: Mapping[str, Any] = field(default_factory=dict)
    # The effective configuration it was made with (PlanOptions.to_json): prune, protected, ignore, gates.
    options: Mapping[str, Any] = field(default_factory=dict)

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def has_changes(self) -> bool:
        return any(c.action in ("create", "update", "delete") for c in self.changes)

    @property
    def requests(self) -> tuple[Request, ...]:
        return tuple(r for c in self.changes for r in c.requests)

    @property
    def deletions(self) -> tuple[Change, ...]:
        """Partner and identity-sync deletions alike: both count for gates and the deletion banner."""
        return tuple(c for c in self.changes if c.action == "delete")

    @property
    def refused(self) -> bool:
        return bool(self.refusals) and not self.forced

    def summary_line(self) -> str:
        if not self.has_changes:
            return "No changes. The tenant matches the policy files."
        return (
            f"Plan: {self.count('create')} to add, {self.count('update')} to change, "
            f"{self.count('delete')} to destroy."
        )


def digest(value: Any) -> str:
    """A stable hash of JSON data (key order irrelevant). Only ever compared with one the same xtap made
    (a plan of another version is refused first), so json's default text form does: ASCII, never a lone
    surrogate that UTF-8 cannot encode."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def to_json(plan: Plan) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "xtap_version": __version__,
        "tenant": {"name": plan.tenant_name, "id": plan.tenant_id},
        "prune": plan.prune,
        "summary": {action: plan.count(action) for action in ACTIONS},
        "refusals": list(plan.refusals),
        "changes": [_change_json(c) for c in plan.changes],
        "defaults": dict(plan.defaults),
        "options": dict(plan.options),
        "fingerprints": {
            "live": dict(plan.fingerprints.live),
            "desired": plan.fingerprints.desired,
            "config": plan.fingerprints.config,
            "version": plan.fingerprints.version,
        },
    }


def _change_json(change: Change) -> dict[str, Any]:
    return {
        "action": change.action,
        "resource": change.resource,
        "name": change.name,
        "tenantId": change.tenant_id,
        "source": change.source,
        "properties": list(change.properties),
        "diffs": [{"path": d.path, "before": d.before, "after": d.after} for d in change.diffs],
        "requests": [r.to_json() for r in change.requests],
        "notes": list(change.notes),
        "description": change.description,
        "effects": [
            {"channel": e.channel, "direction": e.direction, "impact": e.impact, "summary": e.summary}
            for e in change.effects
        ],
    }


def from_json(data: Any, *, origin: str = "plan file") -> Plan:
    """Read a saved plan back; anything malformed is a clean XtapError, never a traceback."""
    try:
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise RefusedError(
                f"{origin}: unsupported plan format_version {version!r} (this xtap reads {FORMAT_VERSION})"
            )
        changes = tuple(
            Change(
                action=c["action"],
                resource=c["resource"],
                name=c["name"],
                tenant_id=c.get("tenantId"),
                source=c.get("source"),
                diffs=tuple(PropertyDiff(d["path"], d["before"], d["after"]) for d in c["diffs"]),
                requests=tuple(
                    Request(
                        id=r["id"],
                        method=r["method"],
                        url=r["url"],
                        body=r.get("body"),
                        depends_on=tuple(r.get("dependsOn", ())),
                    )
                    for r in c["requests"]
                ),
                notes=tuple(c.get("notes", ())),
                description=c.get("description"),
                effects=tuple(
                    Effect(e["channel"], e["direction"], e["impact"], e["summary"]) for e in c["effects"]
                ),
            )
            for c in data["changes"]
        )
        for change in changes:
            if change.action not in ACTIONS:
                raise ValueError(f"unknown action {change.action!r}")
        fp = data["fingerprints"]
        return Plan(
            changes=changes,
            fingerprints=Fingerprints(
                live=dict(fp["live"]),
                desired=str(fp["desired"]),
                config=str(fp["config"]),
                version=str(fp["version"]),
            ),
            tenant_name=data["tenant"]["name"],
            tenant_id=data["tenant"]["id"],
            prune=bool(data["prune"]),
            refusals=tuple(data.get("refusals", ())),
            defaults=dict(data.get("defaults") or {}),
            options=dict(data["options"]),
        )
    except XtapError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise XtapError(f"{origin}: not a valid xtap plan ({type(exc).__name__}: {exc})") from None


# --- re-derivation: a saved plan is compared with the plan made afresh, never trusted ----------------------


def _request_view(request: Request) -> str:
    body = json.dumps(request.body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    after = f" after {','.join(request.depends_on)}" if request.depends_on else ""
    return f"{request.method} {request.url} {body}{after}"


def differences(saved: Plan, fresh: Plan) -> str | None:
    """The first way a saved plan differs from the plan made afresh from the same files and tenant, in
    words; None when they are the same plan (same options, requests, refusals and deletions)."""
    if saved.fingerprints.version != fresh.fingerprints.version:
        return f"it was made by xtap {saved.fingerprints.version or 'of another version'}, this is xtap {fresh.fingerprints.version}"
    for key in sorted(set(saved.options) | set(fresh.options)):
        if saved.options.get(key) != fresh.options.get(key):
            return f"its option {key} is {json.dumps(saved.options.get(key))}, the configuration says {json.dumps(fresh.options.get(key))}"
    if saved.refusals != fresh.refusals:
        return f"its refusals {list(saved.refusals)} are not the safety gates' {list(fresh.refusals)}"
    gone_saved = [f"{c.resource} {c.tenant_id}" for c in saved.deletions]
    gone_fresh = [f"{c.resource} {c.tenant_id}" for c in fresh.deletions]
    if gone_saved != gone_fresh:
        return f"it deletes {gone_saved or 'nothing'}, a fresh plan deletes {gone_fresh or 'nothing'}"
    mine = [_request_view(r) for r in saved.requests]
    theirs = [_request_view(r) for r in fresh.requests]
    for index, (a, b) in enumerate(zip(mine, theirs, strict=False)):
        if a != b:
            return f"request {index + 1} is {a[:300]}, a fresh plan sends {b[:300]}"
    if len(mine) > len(theirs):
        extra = mine[len(theirs)]
        return (
            f"it sends {len(mine)} requests, a fresh plan {len(theirs)} (the first extra one: {extra[:300]})"
        )
    if len(mine) < len(theirs):
        return f"it sends {len(mine)} requests, a fresh plan {len(theirs)}"
    return None
