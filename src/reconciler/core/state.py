"""The two inputs of the planner: what the files say (DesiredState) and what Graph says (LiveState).

Tenant ids are keys in lowercase (GUIDs compare case-insensitively); values are plain JSON data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SourceRef:
    """Where a thing was declared: `path:line:col` (1-based)."""

    path: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


def _where(source: SourceRef, locations: Mapping[str, tuple[int, int]], path: str) -> SourceRef:
    """The position of the nearest written ancestor of a dotted path (the file's start if none)."""
    probe = path
    while probe:
        found = locations.get(probe)
        if found is not None:
            return SourceRef(source.path, *found)
        probe = probe.rpartition(".")[0]
    return SourceRef(source.path)  # line 1, column 1


@dataclass(frozen=True)
class LintIgnore:
    """One `lintIgnore` entry of a partner file: a posture rule (core/lint.py) that does not apply to it."""

    rule: str
    reason: str
    location: SourceRef


@dataclass(frozen=True)
class DesiredPartner:
    tenant_id: str  # lowercase GUID
    # Managed properties named in the file, with their values (None = explicitly inherit). Properties not
    # named here are desired as null (inherit) too, unless ignored.
    properties: Mapping[str, Any]
    # The identitySynchronization policy body (displayName, userSyncInbound), or None when the file has none.
    sync: Mapping[str, Any] | None
    source: SourceRef
    ignore: frozenset[str] = frozenset()
    description: str | None = None
    # Where the file writes its settings: dotted path (down to `accessType`/`targets`) → (line, col) of
    # the key. A few entries per file, kept for the answers that point at a line (access, lint).
    locations: Mapping[str, tuple[int, int]] = field(default_factory=dict, compare=False)
    # Posture rules the file says do not apply, each with its reason (never sent to Graph).
    lint_ignore: tuple[LintIgnore, ...] = field(default=(), compare=False)

    def where(self, path: str) -> SourceRef:
        return _where(self.source, self.locations, path)


@dataclass(frozen=True)
class DesiredDefault:
    properties: Mapping[str, Any]
    source: SourceRef
    ignore: frozenset[str] = frozenset()
    locations: Mapping[str, tuple[int, int]] = field(default_factory=dict, compare=False)

    def where(self, path: str) -> SourceRef:
        return _where(self.source, self.locations, path)


@dataclass(frozen=True)
class DesiredPolicy:
    """`policies/policy.yaml`: the managed properties of the root policy (`allowedCloudEndpoints`)."""

    properties: Mapping[str, Any]
    source: SourceRef


@dataclass(frozen=True)
class DesiredState:
    partners: Mapping[str, DesiredPartner] = field(default_factory=dict)
    default: DesiredDefault | None = None
    policy: DesiredPolicy | None = None


@dataclass(frozen=True)
class LivePartner:
    tenant_id: str  # lowercase GUID
    raw: Mapping[str, Any]  # the partner as Graph returned it, without identitySynchronization
    sync: Mapping[str, Any] | None = None  # its identitySynchronization policy, if any

    @property
    def is_mto(self) -> bool:
        return self.raw.get("isInMultiTenantOrganization") is True

    @property
    def is_service_provider(self) -> bool:
        return self.raw.get("isServiceProvider") is True


@dataclass(frozen=True)
class LiveState:
    partners: Mapping[str, LivePartner] = field(default_factory=dict)
    default: Mapping[str, Any] | None = None
    policy: Mapping[str, Any] | None = None  # the root policy, when read (only when a file manages it)


@dataclass(frozen=True)
class Request:
    """One Graph request, in `$batch` sub-request terms: `url` is relative to the version root."""

    id: str
    method: str
    url: str
    body: Mapping[str, Any] | None = None
    depends_on: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "method": self.method, "url": self.url}
        if self.body is not None:
            out["body"] = dict(self.body)
        if self.depends_on:
            out["dependsOn"] = list(self.depends_on)
        return out
