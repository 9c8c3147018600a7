"""Plan renderers: text for terminals (Terraform-like), Markdown for pull-request comments, JSON. Pure."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from reconciler import model
from reconciler.plan import Change, Plan, to_json

# GitHub refuses comment bodies over 65,536 characters (auth-ci.md §3.5); leave room for the notice.
MARKDOWN_LIMIT = 65_536
MARKER = "<!-- xtap-plan:{tenant} -->"

_SYMBOL = {"create": "+", "update": "~", "delete": "-", "unmanaged": "?", "noop": " "}
_COLOR = {"create": "32", "update": "33", "delete": "31", "unmanaged": "36", "noop": "0"}


def format_value(value: Any) -> str:
    """A compact, unambiguous one-line form of a canonical value."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        if all(isinstance(v, dict) and "target" in v for v in value):
            return "[" + ", ".join(f"{v.get('target')} ({v.get('targetType')})" for v in value) + "]"
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def describe(change: Change, path: str, value: Any, defaults: Mapping[str, Any]) -> str:
    """A value of a diff, saying what "inherit" (a null partner property) resolves to."""
    if value is None and change.resource == "partner" and change.action == "update":
        inherited = model.value_at(defaults, path)
        if inherited is not None:
            return f"inherit (default: {format_value(inherited)})"
        return "inherit"
    return format_value(value)


def _title(change: Change) -> str:
    what = "identity sync" if change.resource == "identitySynchronization" else change.resource
    if change.resource == "default":
        return "default configuration"
    ident = change.tenant_id or ""
    if change.name and change.name != ident:
        return f"{what} {change.name} ({ident})"
    return f"{what} {ident}"


def _unchanged(count: int) -> str:
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
        sym = _SYMBOL[change.action]
        head = f"  {sym} {_title(change)}"
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
    unchanged = plan.count("noop")
    if unchanged:
        lines.append(f"  ({_unchanged(unchanged)})")
    lines.append("")
    lines.append(paint("1", plan.summary_line()))
    for refusal in plan.refusals:
        prefix = "Safety gate overridden by --force: " if plan.forced else "Refused by safety gate: "
        lines.append(paint("31", prefix + refusal))
    return "\n".join(lines) + "\n"


def _md(value: str) -> str:
    """Escape text for Markdown/HTML: nothing in a value can open a tag, a link or a table cell."""
    return html.escape(value, quote=True).replace("|", "&#124;").replace("`", "&#96;").replace("\n", " ")


def _md_code(value: str) -> str:
    return f"<code>{_md(value)}</code>"


def _md_section(change: Change, defaults: Mapping[str, Any]) -> str:
    sym = _SYMBOL[change.action]
    title = f"<code>{sym}</code> {change.action} {_md(_title(change))}"
    if change.action == "unmanaged":
        return f"- {title}: {_md('; '.join(change.notes))}\n"
    count = len(change.diffs)
    rows = ["| property | before | after |", "|---|---|---|"]
    for diff in change.diffs:
        rows.append(
            f"| {_md_code(diff.path)} | {_md_code(describe(change, diff.path, diff.before, defaults))} | "
            f"{_md_code(describe(change, diff.path, diff.after, defaults))} |"
        )
    source = f"\n\nDeclared in {_md_code(change.source)}." if change.source else ""
    notes = "".join(f"\n\n{_md(n)}" for n in change.notes)
    body = "\n".join(rows) if change.diffs else "_no property values_"
    return (
        f"<details><summary>{title} — {count} value{'s' if count != 1 else ''}</summary>\n\n"
        f"{body}{source}{notes}\n\n</details>\n"
    )


def render_markdown(plan: Plan, *, limit: int = MARKDOWN_LIMIT) -> str:
    head = [
        MARKER.format(tenant=_md(plan.tenant_name)),
        f"### xtap plan — tenant {_md_code(plan.tenant_name)}",
        "",
    ]
    head.append(f"**{_md(plan.summary_line())}**")
    deletes = [c for c in plan.changes if c.action == "delete" and c.resource == "partner"]
    if deletes:
        names = ", ".join(_md_code(c.tenant_id or c.name) for c in deletes)
        head += [
            "",
            f"> [!CAUTION]\n> **This plan deletes {len(deletes)} partner configuration(s):** {names}",
        ]
    for refusal in plan.refusals:
        word = "overridden by --force" if plan.forced else "refused"
        head += ["", f"> [!WARNING]\n> **Safety gate {word}:** {_md(refusal)}"]
    head.append("")
    text = "\n".join(head) + "\n"
    sections = [_md_section(c, plan.defaults) for c in plan.changes if c.action != "noop"]
    unchanged = plan.count("noop")
    tail = f"\n{_unchanged(unchanged)}.\n" if unchanged else ""
    for i, section in enumerate(sections):
        rest = len(sections) - i
        notice = (
            f"\n**… {rest} more change(s) not shown: the comment would exceed {limit:,} characters. "
            "The full plan is in the job summary and the plan artifact.**\n"
        )
        if len(text) + len(section) + len(notice) + len(tail) > limit:
            text += notice
            break
        text += section
    return text + tail


def render_json(plan: Plan) -> str:
    return json.dumps(to_json(plan), indent=2, ensure_ascii=False) + "\n"


def render(plan: Plan, fmt: str, *, color: bool = False) -> str:
    if fmt == "markdown":
        return render_markdown(plan)
    if fmt == "json":
        return render_json(plan)
    return render_text(plan, color=color)
