"""A plan is data: per-resource changes, their leaf differences and the exact requests (DESIGN §4).

The JSON form (`format_version` 1, described by `schemas/plan.schema.json`) is what `xtap plan --out`
saves and `xtap apply PLANFILE` reads back; it is stable: fields are only ever added.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from reconciler import __version__
from reconciler.core.errors import XtapError
from reconciler.core.state import Request

FORMAT_VERSION = 1

Action = Literal["create", "update", "delete", "unmanaged", "noop"]
Resource = Literal["partner", "identitySynchronization", "default"]
ACTIONS: tuple[Action, ...] = ("create", "update", "delete", "unmanaged", "noop")


@dataclass(frozen=True)
class PropertyDiff:
    """One changed leaf: `path` is dotted (`inboundTrust.isMfaAccepted`); None means null/inherit."""

    path: str
    before: Any
    after: Any


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

    def count(self, action: Action) -> int:
        return sum(1 for c in self.changes if c.action == action)

    @property
    def has_changes(self) -> bool:
        return any(c.action in ("create", "update", "delete") for c in self.changes)

    @property
    def requests(self) -> tuple[Request, ...]:
        return tuple(r for c in self.changes for r in c.requests)

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
    """A stable hash of JSON data (key order irrelevant)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
        "fingerprints": {"live": dict(plan.fingerprints.live), "desired": plan.fingerprints.desired},
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
    }


def from_json(data: Any, *, origin: str = "plan file") -> Plan:
    """Read a saved plan back; anything malformed is a clean XtapError, never a traceback."""
    try:
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise XtapError(
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
            )
            for c in data["changes"]
        )
        for change in changes:
            if change.action not in ACTIONS:
                raise ValueError(f"unknown action {change.action!r}")
        fp = data["fingerprints"]
        return Plan(
            changes=changes,
            fingerprints=Fingerprints(live=dict(fp["live"]), desired=str(fp["desired"])),
            tenant_name=data["tenant"]["name"],
            tenant_id=data["tenant"]["id"],
            prune=bool(data["prune"]),
            refusals=tuple(data.get("refusals", ())),
            defaults=dict(data.get("defaults") or {}),
        )
    except XtapError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise XtapError(f"{origin}: not a valid xtap plan ({type(exc).__name__}: {exc})") from None
