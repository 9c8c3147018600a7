"""The drift report as Markdown: an issue body, one collapsible section per drifted resource. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.core.drift import DriftItem, DriftReport
from reconciler.core.values import title
from reconciler.present.markdown import BODY_LIMIT, code, escape, fit_sections, marker


def _new_mark(item: DriftItem) -> str:
    return " **(new)**" if item.new else ""


def _md_group(title: str, items: Sequence[DriftItem]) -> str:
    changed = [i for i in items if i.kind == "changed"]
    others = [i for i in items if i.kind != "changed"]
    new = sum(1 for i in items if i.new)
    count = len(items)
    head = f"{escape(title)} — {count} item{'s' if count != 1 else ''}" + (f", {new} new" if new else "")
    parts = []
    for item in others:
        parts.append(f"- {escape(item.kind)}: {escape(item.message)}{_new_mark(item)}")
    if changed:
        if parts:
            parts.append("")
        parts += ["| property | file (wins on next apply) | tenant | |", "|---|---|---|---|"]
        for item in changed:
            parts.append(
                f"| {code(item.path or '')} | {code(item.declared_text or '')} | "
                f"{code(item.live_text or '')} | {'new' if item.new else ''} |"
            )
    source = next((i.source for i in items if i.source), None)
    if source:
        parts += ["", f"Declared in {code(source)}."]
    body = "\n".join(parts)
    return f"<details><summary>{head}</summary>\n\n{body}\n\n</details>\n"


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
        since = report.previous.generated_at or "an earlier report"
        head += [
            "",
            f"Compared with the report of {escape(since)}: {len(report.resolved)} item(s) resolved since.",
        ]
    head.append("")
    text = "\n".join(head) + "\n"
    groups: dict[tuple[str, str | None], list[DriftItem]] = {}
    for item in report.drift_items:
        key = ("default", None) if item.resource == "default" else ("partner", item.tenant_id)
        groups.setdefault(key, []).append(item)
    sections = [
        _md_group(
            title(
                "partner" if items[0].resource != "default" else "default", items[0].name, items[0].tenant_id
            ),
            items,
        )
        for items in groups.values()
    ]
    info = report.information_items
    if info:
        lines = ["", "#### Information (not drift)", ""]
        lines += [f"- {escape(i.message)}{_new_mark(i)}" for i in info]
        sections.append("\n".join(lines) + "\n")

    def notice(rest: int) -> str:
        return (
            f"\n**… {rest} more section(s) not shown: the report would exceed {limit:,} characters. "
            "The full report is in the JSON artifact.**\n"
        )

    return fit_sections(text, sections, "", limit, notice).rstrip("\n") + "\n"
