"""The plan for a terminal: Terraform-like markers, only changed leaves, colour when asked. Pure.

Every line goes through `printable` before it is painted: names, paths, notes and values come from the
files and from Graph, and none of their control characters may reach the terminal or the CI log.
"""

from __future__ import annotations

from collections.abc import Callable

from reconciler.core import values
from reconciler.core.plan import Change, Plan
from reconciler.core.text import printable
from reconciler.core.values import describe, format_value

SYMBOL = {"create": "+", "update": "~", "delete": "-", "unmanaged": "?", "noop": " "}
_COLOR = {"create": "32", "update": "33", "delete": "31", "unmanaged": "36", "noop": "0"}


def title(change: Change) -> str:
    return values.title(change.resource, change.name, change.tenant_id)


def unchanged(count: int) -> str:
    return f"{count} resource{'s' if count != 1 else ''} unchanged"


Paint = Callable[[str | None, str], str]


def painter(color: bool) -> Paint:
    """`paint(code, text)`: `text` made printable, in the SGR colour `code` when colour is on (None: plain)."""

    def paint(code: str | None, text: str) -> str:
        safe = printable(text)
        return f"\x1b[{code}m{safe}\x1b[0m" if color and code and safe else safe

    return paint


def _change_lines(change: Change, plan: Plan, paint: Paint) -> list[str]:
    head = f"  {SYMBOL[change.action]} {title(change)}"
    if change.action == "unmanaged":
        return [paint(_COLOR["unmanaged"], f"{head}: unmanaged, {'; '.join(change.notes)}")]
    suffix = f"   ({change.source})" if change.source else ""
    lines = [paint(_COLOR[change.action], head) + paint(None, suffix)]
    for diff in change.diffs:
        if change.action == "create":
            lines.append(paint(None, f"      + {diff.path}: {format_value(diff.after)}"))
        elif change.action == "delete":
            lines.append(paint(None, f"      - {diff.path}: {format_value(diff.before)}"))
        else:
            before = describe(change, diff.path, diff.before, plan.defaults)
            after = describe(change, diff.path, diff.after, plan.defaults)
            lines.append(paint(None, f"      ~ {diff.path}: {before} → {after}"))
    lines.extend(paint(None, f"      # {note}") for note in change.notes)
    for effect in change.effects:
        said = effect.summary.removeprefix(f"{change.name}: ")
        lines.append(paint(_IMPACT_COLOR[effect.impact], f"      ! access {effect.impact}: {said}"))
    return lines


_IMPACT_COLOR = {"widens": "33", "narrows": "36", "changes": "35"}


def render_text(plan: Plan, *, color: bool = False) -> str:
    paint = painter(color)
    tenant = f"xtap plan for tenant {plan.tenant_name}" + (f" ({plan.tenant_id})" if plan.tenant_id else "")
    lines = [paint(None, tenant), ""]
    for change in plan.changes:
        if change.action != "noop":
            lines.extend(_change_lines(change, plan, paint))
    count = plan.count("noop")
    if count:
        lines.append(f"  ({unchanged(count)})")
    lines.append("")
    lines.append(paint("1", plan.summary_line()))
    for refusal in plan.refusals:
        prefix = "Safety gate overridden by --force: " if plan.forced else "Refused by safety gate: "
        lines.append(paint("31", prefix + refusal))
    return "\n".join(lines) + "\n"
