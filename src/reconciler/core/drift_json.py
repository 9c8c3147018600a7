"""The JSON form of a drift report (`xtap drift --format json`, `schemas/drift.schema.json`), and reading
one back for `--previous`. Pure. `format_version` 1: fields are only ever added.
"""

from __future__ import annotations

from typing import Any

from reconciler import __version__
from reconciler.core.drift import KINDS, DriftItem, DriftReport, Previous, ResolvedItem
from reconciler.core.errors import XtapError

FORMAT_VERSION = 1
REPORT_KIND = "xtap-drift-report"


def to_json(report: DriftReport) -> dict[str, Any]:
    by_kind = {kind: report.count(kind) for kind in KINDS}
    compared = report.previous is not None
    return {
        "format_version": FORMAT_VERSION,
        "kind": REPORT_KIND,
        "xtap_version": __version__,
        "generated_at": report.generated_at,
        "tenant": {"name": report.tenant_name, "id": report.tenant_id},
        "prune": report.prune,
        "drift": report.drift,
        "summary": {
            "drift": len(report.drift_items),
            "information": len(report.information_items),
            "new": len(report.new_drift) if compared else None,
            "resolved": len(report.resolved) if compared else None,
            "by_kind": by_kind,
        },
        "previous": {"generated_at": report.previous.generated_at} if report.previous is not None else None,
        "items": [_item_json(i) for i in report.items],
        "resolved": [
            {"id": r.id, "kind": r.kind, "name": r.name, "tenantId": r.tenant_id, "path": r.path}
            for r in report.resolved
        ],
    }


def _item_json(item: DriftItem) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": item.id,
        "kind": item.kind,
        "drift": item.drift,
        "new": item.new,
        "resource": item.resource,
        "name": item.name,
        "tenantId": item.tenant_id,
        "source": item.source,
        "path": item.path,
        "declared": item.declared,
        "live": item.live,
        "declared_text": item.declared_text,
        "live_text": item.live_text,
        "message": item.message,
    }
    if item.kind == "unknown-property":
        out["tenants"] = list(item.tenants)
    return out


def read_previous(data: Any, *, origin: str = "previous report") -> Previous:
    """An earlier report's JSON form → what `build_report` needs; anything malformed is a clean XtapError."""
    if not isinstance(data, dict) or data.get("kind") != REPORT_KIND:
        raise XtapError(f"{origin}: not an xtap drift report (made by `xtap drift --format json`)")
    if data.get("format_version") != FORMAT_VERSION:
        raise XtapError(
            f"{origin}: unsupported drift report format_version {data.get('format_version')!r} "
            f"(this xtap reads {FORMAT_VERSION})"
        )
    raw_items = data.get("items")
    if not isinstance(raw_items, list):
        raise XtapError(f"{origin}: not a valid xtap drift report (items is not a list)")
    items = []
    for index, raw in enumerate(raw_items):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise XtapError(f"{origin}: not a valid xtap drift report (items[{index}] has no id)")
        items.append(
            ResolvedItem(
                id=raw["id"],
                kind=str(raw.get("kind")),
                name=str(raw.get("name")),
                tenant_id=raw.get("tenantId") if isinstance(raw.get("tenantId"), str) else None,
                path=raw.get("path") if isinstance(raw.get("path"), str) else None,
            )
        )
    generated = data.get("generated_at")
    return Previous(generated if isinstance(generated, str) else None, tuple(items))
