"""The drift report as Markdown: an issue body, one collapsible section per drifted resource. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.core.drift import DriftItem, DriftReport, by_resource, earlier, resource_title
from reconciler.present.markdown import BODY_LIMIT, code, escape, fit_sections, marker


def _new_mark(item: DriftItem) -> str:
    return " **(new)**" if item.new else ""


def _values(item: DriftItem) -> str:
    """The two sides of a sync-policy item (its message names neither)."""
    if not item.kind.startswith("sync-"):
        return ""
    return f" (tenant: {code(item.live_text or '')}; file: {code(item.declared_text or '')})"


def _md_group(items: Sequence[DriftItem], compared: bool) -> str:
    changed = [i for i in items if i.kind == "changed"]
    others = [i for i in items if i.kind != "changed"]
    new = sum(1 for i in items if i.new)
    count = len(items)
    head = f"{escape(resource_title(items[0]))} — {count} item{'s' if count != 1 else ''}" + (
        f", {new} new" if new else ""
    )
    parts = [
        f"- {escape(item.kind)}: {escape(item.message)}{_values(item)}{_new_mark(item)}" for item in others
    ]
    if changed:
        if parts:
            parts.append("")
        # The fourth column only says something next to an earlier report.
        parts += (
            ["| property | file (wins on next apply) | tenant | new |", "|---|---|---|---|"]
            if compared
            else ["| property | file (wins on next apply) | tenant |", "|---|---|---|"]
        )
        for item in changed:
            row = f"| {code(item.path or '')} | {code(item.declared_text or '')} | {code(item.live_text or '')} |"
            parts.append(row + (f" {'new' if item.new else ''} |" if compared else ""))
    source = next((i.source for i in items if i.source), None)
    if source:
        parts += ["", f"Declared in {code(source)}."]
    body = "\n".join(parts)
    return f"<details><summary>{head}</summary>\n\n{body}\n\n</details>\n"


def _information(report: DriftReport) -> list[str]:
    info = report.information_items
    if not info:
        return []
    count = f"{len(info)} item{'s' if len(info) != 1 else ''}"
    lines = [f"\n<details><summary>Information (not drift) — {count}</summary>\n"]
    lines += [f"- {escape(i.message)}{_new_mark(i)}" for i in info]
    return ["\n".join(lines) + "\n\n</details>\n"]


def render_markdown(report: DriftReport, *, limit: int = BODY_LIMIT) -> str:
    head = [
        marker("drift", report.tenant_name),
        f"### xtap drift — tenant {code(report.tenant_name)}",
        "",
        f"**{escape(report.summary_line())}**",
    ]
    if report.generated_at:
        head += ["", f"Read at {escape(report.generated_at)}."]
    if report.previous is not None:
        head += [
            "",
            f"Compared with {escape(earlier(report.previous))}: {len(report.resolved)} item(s) resolved since.",
        ]
    head.append("")
    text = "\n".join(head) + "\n"
    compared = report.previous is not None
    sections = [_md_group(items, compared) for items in by_resource(report.drift_items)]
    sections += _information(report)

    def notice(rest: int) -> str:
        return (
            f"\n**… {rest} more section(s) not shown: the report would exceed {limit:,} characters. "
            "The full report is in the JSON artifact.**\n"
        )

    return fit_sections(text, sections, "", limit, notice).rstrip("\n") + "\n"
