"""What a saved plan is checked against: digests of the tenant as read and of the policy files as written.

`xtap apply PLANFILE` refuses a plan whose digests differ from a fresh read's (docs/plan-apply.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from reconciler.core import model
from reconciler.core.plan import digest
from reconciler.core.state import DesiredState, LivePartner, LiveState


class LiveDigests(Mapping[str, str]):
    """`fingerprint_live(live)`, computed when first read: only a saved plan (its JSON) and the check of
    one read it, and it canonicalises every partner read (a second of CPU at 10,000 partners)."""

    def __init__(self, live: LiveState) -> None:
        self._live = live
        self._digests: dict[str, str] | None = None

    def _all(self) -> dict[str, str]:
        if self._digests is None:
            self._digests = fingerprint_live(self._live)
        return self._digests

    def __getitem__(self, key: str) -> str:
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


def fingerprint_live(live: LiveState) -> dict[str, str]:
    prints = {f"partner:{tid}": digest(_fingerprint_view(p)) for tid, p in live.partners.items()}
    prints["default"] = digest(model.canonical(dict(live.default or {})))
    if live.policy is not None:
        prints["policy"] = digest(model.canonical(dict(live.policy)))
    return prints


def _fingerprint_view(partner: LivePartner) -> Any:
    return {"partner": model.canonical(dict(partner.raw)), "sync": model.canonical(partner.sync)}


def fingerprint_desired(desired: DesiredState) -> str:
    """Any edit of a file's managed content changes it (the values as written, not their canonical form:
    a saved plan is refused after any edit, even one that would plan the same)."""
    partners = {
        tid: {
            "properties": p.properties,
            "sync": p.sync,
            "ignore": sorted(p.ignore),
            "description": p.description,
        }
        for tid, p in desired.partners.items()
    }
    default = None
    if desired.default is not None:
        default = {"properties": desired.default.properties, "ignore": sorted(desired.default.ignore)}
    policy = desired.policy.properties if desired.policy is not None else None
    return digest({"partners": partners, "default": default, "policy": policy})
