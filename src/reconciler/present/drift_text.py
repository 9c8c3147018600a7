"""The drift report for a terminal: Terraform-like, one block per resource, colour when asked. Pure.

What changed in the tenant, seen from the tenant: `~` a value changed there, `-` something the files
declare is gone from it, `+` something the files do not declare was added to it, `=` a value was set to
what it already inherits. Information items (partners xtap never deletes, properties it does not know)
are not drift: they are counted, and listed only when asked (`-v`). Every line goes through `printable`.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.core.drift import FILE_WINS, DriftItem, DriftReport, by_resource, earlier, resource_title
from reconciler.present.plan_text import Paint, painter

_SYMBOL = {
    "changed": "~",
    "set-to-default": "=",
    "missing": "-",
    "sync-removed": "-",
    "sync-added": "+",
    "unmanaged": "+",
}
_COLOR = {"~": "33", "-": "31", "+": "32", "=": "36"}


def _item_line(item: DriftItem) -> str:
    """One item, without the resource it belongs to (the block's head names it) nor its outcome."""
    if item.kind == "changed":
        return f"{item.path}: {item.live_text} in the tenant, {item.declared_text} in the file"
    if item.kind == "set-to-default":
        return (
            f"{item.path}: {item.live_text} in the tenant, the default's own value, which the file "
            "inherits (effective value unchanged)"
        )
    if item.kind == "sync-removed":
        return f"identitySynchronization: none in the tenant, {item.declared_text} in the file"
    if item.kind == "sync-added":
        return f"identitySynchronization: {item.live_text} in the tenant, none in the file"
    if item.kind == "missing":
        return "declared in the file, absent from the tenant (deleted in the portal?)"
    return "in the tenant, in no policy file (made in the portal?)"  # unmanaged


def _block(items: Sequence[DriftItem], paint: Paint) -> list[str]:
    kinds = {i.kind for i in items}
    # The partner itself added or gone; otherwise something in it changed.
    sym = "+" if kinds == {"unmanaged"} else "-" if kinds == {"missing"} else "~"
    source = next((i.source for i in items if i.source), None)
    suffix = f"   ({source})" if source else ""
    lines = [paint(_COLOR[sym], f"  {sym} {resource_title(items[0])}") + paint(None, suffix)]
    for item in items:
        new = " (new)" if item.new else ""
        lines.append(paint(None, f"      {_SYMBOL[item.kind]} {_item_line(item)}{new}"))
        if item.outcome:  # none for `changed`: the file winning is said once, below
            lines.append(paint("2", f"        # {item.outcome}"))
    return lines


def _information(report: DriftReport, verbose: int, paint: Paint) -> list[str]:
    info = report.information_items
    if not info:
        return []
    count = f"{len(info)} information item{'s' if len(info) != 1 else ''} (not drift)"
    if verbose < 1:
        return ["", paint("2", f"{count}: -v lists them.")]
    lines = ["", paint(None, f"{count}:")]
    lines += [paint("2", f"  # {i.message}" + (" (new)" if i.new else "")) for i in info]
    return lines


def render_text(report: DriftReport, *, color: bool = False, verbose: int = 0) -> str:
    paint = painter(color)
    tenant = f"xtap drift for tenant {report.tenant_name}" + (
        f" ({report.tenant_id})" if report.tenant_id else ""
    )
    lines = [paint(None, tenant)]
    if report.generated_at:
        lines.append(paint(None, f"Read at {report.generated_at}."))
    lines.append("")
    for items in by_resource(report.drift_items):
        lines.extend(_block(items, paint))
    if report.drift_items:
        lines.append("")
    lines.append(paint("1", report.summary_line()))
    if any(i.kind == "changed" for i in report.drift_items):
        lines.append(paint(None, f"Where a value differs, {FILE_WINS}."))
    if report.previous is not None:
        lines.append(
            paint(None, f"Compared with {earlier(report.previous)}: {len(report.resolved)} resolved since.")
        )
    lines.extend(_information(report, verbose, paint))
    return "\n".join(lines) + "\n"
