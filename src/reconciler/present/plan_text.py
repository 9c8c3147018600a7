"""The plan for a terminal: Terraform-like markers, only changed leaves, colour when asked. Pure."""

from __future__ import annotations

from reconciler.core import values
from reconciler.core.plan import Change, Plan
from reconciler.core.values import describe, format_value

SYMBOL = {"create": "+", "update": "~", "delete": "-", "unmanaged": "?", "noop": " "}
_COLOR = {"create": "32", "update": "33", "delete": "31", "unmanaged": "36", "noop": "0"}


def title(change: Change) -> str:
    return values.title(change.resource, change.name, change.tenant_id)


def unchanged(count: int) -> str:
    return f"{count} resource{'s' if count != 1 else ''} unchanged"


def render_text(plan: Plan, *, color: bool = False) -> str:
    def paint(code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if color else text

    lines = [
        f"xtap plan for tenant {plan.tenant_name}" + (f" ({plan.tenant_id})" if plan.tenant_id else ""),
        "",
    ]
    for change in plan.changes:
        if change.action == "noop":
            continue
        sym = SYMBOL[change.action]
        head = f"  {sym} {title(change)}"
        if change.action == "unmanaged":
            lines.append(paint(_COLOR["unmanaged"], f"{head}: unmanaged, {'; '.join(change.notes)}"))
            continue
        suffix = f"   ({change.source})" if change.source else ""
        lines.append(paint(_COLOR[change.action], head) + suffix)
        for diff in change.diffs:
            if change.action == "create":
                lines.append(f"      + {diff.path}: {format_value(diff.after)}")
            elif change.action == "delete":
                lines.append(f"      - {diff.path}: {format_value(diff.before)}")
            else:
                before = describe(change, diff.path, diff.before, plan.defaults)
                after = describe(change, diff.path, diff.after, plan.defaults)
                lines.append(f"      ~ {diff.path}: {before} → {after}")
        for note in change.notes:
            lines.append(f"      # {note}")
    count = plan.count("noop")
    if count:
        lines.append(f"  ({unchanged(count)})")
    lines.append("")
    lines.append(paint("1", plan.summary_line()))
    for refusal in plan.refusals:
        prefix = "Safety gate overridden by --force: " if plan.forced else "Refused by safety gate: "
        lines.append(paint("31", prefix + refusal))
    return "\n".join(lines) + "\n"
