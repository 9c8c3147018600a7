"""The plan as a pull-request comment: summary, deletion banner, a collapsible section per resource. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.core.plan import Change, Plan
from reconciler.core.values import describe
from reconciler.present.markdown import BODY_LIMIT, code, escape, fit_sections, marker
from reconciler.present.plan_text import SYMBOL, title, unchanged


def _md_section(change: Change, defaults: Mapping[str, Any]) -> str:
    sym = SYMBOL[change.action]
    head = f"<code>{sym}</code> {change.action} {escape(title(change))}"
    if change.action == "unmanaged":
        return f"- {head}: {escape('; '.join(change.notes))}\n"
    count = len(change.diffs)
    rows = ["| property | before | after |", "|---|---|---|"]
    for diff in change.diffs:
        rows.append(
            f"| {code(diff.path)} | {code(describe(change, diff.path, diff.before, defaults))} | "
            f"{code(describe(change, diff.path, diff.after, defaults))} |"
        )
    source = f"\n\nDeclared in {code(change.source)}." if change.source else ""
    notes = "".join(f"\n\n{escape(n)}" for n in change.notes)
    body = "\n".join(rows) if change.diffs else "_no property values_"
    return (
        f"<details><summary>{head} — {count} value{'s' if count != 1 else ''}</summary>\n\n"
        f"{body}{source}{notes}\n\n</details>\n"
    )


def render_markdown(plan: Plan, *, limit: int = BODY_LIMIT) -> str:
    head = [
        marker("plan", plan.tenant_name),
        f"### xtap plan — tenant {code(plan.tenant_name)}",
        "",
    ]
    head.append(f"**{escape(plan.summary_line())}**")
    deletes = [c for c in plan.changes if c.action == "delete" and c.resource == "partner"]
    if deletes:
        names = ", ".join(code(c.tenant_id or c.name) for c in deletes)
        head += [
            "",
            f"> [!CAUTION]\n> **This plan deletes {len(deletes)} partner configuration(s):** {names}",
        ]
    for refusal in plan.refusals:
        word = "overridden by --force" if plan.forced else "refused"
        head += ["", f"> [!WARNING]\n> **Safety gate {word}:** {escape(refusal)}"]
    head.append("")
    sections = [_md_section(c, plan.defaults) for c in plan.changes if c.action != "noop"]
    count = plan.count("noop")
    tail = f"\n{unchanged(count)}.\n" if count else ""

    def notice(rest: int) -> str:
        return (
            f"\n**… {rest} more change(s) not shown: the comment would exceed {limit:,} characters. "
            "The full plan is in the job summary and the plan artifact.**\n"
        )

    return fit_sections("\n".join(head) + "\n", sections, tail, limit, notice)
