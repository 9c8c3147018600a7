"""The plan as a pull-request comment: it reads like the decision it is. Pure.

First the summary line, the deletion banner and the safety gates; then **Access changes** — who gains
access (under a GitHub warning), who loses it, what changes both ways — from each change's access effects;
then every change under its own heading (the partner's file name or display name before its tenantId; its
description under it), its leaves as a visible `diff` block (`-` before, `+` after, "inherit (default: …)"
where a partner property goes back to the default), where it is declared and any notes; last, under a
heading of their own, the resources the plan leaves alone (unmanaged).

A comment holds at most 65,536 characters, and a plan can be longer (one partner with thousands of
targets is enough). What is cut is never a change, only its detail: every change keeps its header line
(action, resource, name, number of values); the diff blocks are dropped where they don't fit, riskiest
changes keeping theirs first (deletions, then updates, then creations), and the notice says how many
and where the rest is. Only a plan whose headers alone exceed the limit lists fewer changes — and says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.core.plan import Change, Effect, Plan
from reconciler.core.text import printable
from reconciler.core.values import describe
from reconciler.present.markdown import BODY_LIMIT, code, escape, marker
from reconciler.present.plan_text import SYMBOL, title, unchanged

# Where the full plan is when the caller does not say (`xtap plan --format markdown` on its own).
ELSEWHERE = "`xtap plan --format text` or `--format json`"
# Which details are kept first when not all fit: the changes that can take access away come first.
_DETAIL_ORDER = {"delete": 0, "update": 1, "create": 2}


def _head(change: Change) -> str:
    return f"<code>{SYMBOL[change.action]}</code> {change.action} {escape(title(change))}"


def _heading(change: Change, count: str) -> str:
    """A change's heading, its description on a line of its own: a description holds dashes and commas
    of its own ("Fabrikam — joint venture, ticket SEC-1234"), and beside the name and the count in one
    heading it wrapped into a line where neither stood out."""
    described = f"_{escape(change.description)}_\n\n" if change.description else ""
    return f"#### {_head(change)} — {count}\n\n{described}"


def _count(change: Change) -> str:
    count = len(change.diffs)
    return f"{count} value{'s' if count != 1 else ''}"


# Every section ends with a blank line: it closes the HTML block a `<details>` opens (GFM runs an HTML block
# to the next blank line), so the Markdown that follows (a list item, the notice) is read as Markdown.


def _md_section(change: Change, defaults: Mapping[str, Any]) -> str:
    if change.action == "unmanaged":
        described = f" — {escape(change.description)}" if change.description else ""
        return f"- {_head(change)}{described}: {escape('; '.join(change.notes))}\n\n"
    lines = []
    for diff in change.diffs:
        before = describe(change, diff.path, diff.before, defaults)
        after = describe(change, diff.path, diff.after, defaults)
        if change.action != "create":
            lines.append(f"- {diff.path}: {before}")
        if change.action != "delete":
            lines.append(f"+ {diff.path}: {after}")
    body = _diff_block(lines) if lines else "_no property values_\n"
    source = f"\nDeclared in {code(change.source)}.\n" if change.source else ""
    notes = "".join(f"\n{escape(n)}\n" for n in change.notes)
    return f"{_heading(change, _count(change))}{body}{source}{notes}\n"


def _diff_block(lines: list[str]) -> str:
    """A fenced `diff` block: GitHub colours `-` and `+`; the fence is longer than any run of backticks in
    the values, and every line is printable (values come from files and from Graph)."""
    text = [printable(line) for line in lines]
    longest = max((len(run) for line in text for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}diff\n" + "\n".join(text) + f"\n{fence}\n"


def _md_header_only(change: Change) -> str:
    """A change whose detail does not fit: its header line, and why there is nothing under it."""
    heading = _heading(change, f"{_count(change)}, detail left out")
    return f"{heading}_Left out to fit; see the note below._\n\n"


@dataclass(frozen=True)
class _Fit:
    sections: tuple[str, ...]
    without_detail: int  # changes listed by their header line only
    not_listed: int  # changes left out entirely (only when the headers alone are too long)


def _fit(changes: Sequence[Change], full: Sequence[str], budget: int) -> _Fit:
    """Every change's header, and as many detail sections as `budget` allows, riskiest first."""
    short = [_md_header_only(c) if c.action != "unmanaged" else s for c, s in zip(changes, full, strict=True)]
    if sum(map(len, short)) > budget:  # even the headers don't fit: list what does, in plan order
        kept: list[str] = []
        size = 0
        for section in short:
            size += len(section)
            if size > budget:
                break
            kept.append(section)
        return _Fit(tuple(kept), len(kept), len(short) - len(kept))
    chosen = list(short)
    room = budget - sum(map(len, short))
    order = sorted(range(len(changes)), key=lambda i: _DETAIL_ORDER.get(changes[i].action, 3))
    for i in order:
        extra = len(full[i]) - len(short[i])
        if extra <= room:
            chosen[i], room = full[i], room - extra
    left = sum(1 for a, b in zip(chosen, full, strict=True) if a != b)
    return _Fit(tuple(chosen), left, 0)


def _notice(fit: _Fit, limit: int, elsewhere: str) -> str:
    if fit.not_listed:
        what = (
            f"**{fit.not_listed} more change(s) are not listed**, and the detail of the "
            f"{fit.without_detail} above is left out,"
        )
    else:
        what = f"**The detail of {fit.without_detail} change(s) is left out** (every change is listed above)"
    return f"{what} to keep this under {limit:,} characters. The full plan is in {elsewhere}.\n\n"


def _banner_and_gates(plan: Plan) -> list[str]:
    lines: list[str] = []
    gone = plan.deletions  # identity-sync policies count as deletions too
    if gone:
        names = ", ".join(code(title(c)) for c in gone)  # the title names the kind: "partner Litware"
        lines += ["", f"> [!CAUTION]\n> **This plan deletes {len(gone)} resource(s):** {names}"]
    for refusal in plan.refusals:
        word = "overridden by --force" if plan.forced else "refused"
        lines += ["", f"> [!WARNING]\n> **Safety gate {word}:** {escape(refusal)}"]
    return lines


_IMPACT_HEADS = {
    "widens": "**Widens access** — review these first:",
    "narrows": "**Narrows access:**",
    "changes": "**Changes access both ways:**",
}


def _effect_line(change: Change, effect: Effect) -> str:
    """The effect's summary, the partner it is about in bold: in a list of a dozen lines the name is
    what a reviewer's eye looks for."""
    name, sep, rest = effect.summary.partition(": ")
    if sep and name == change.name:
        return f"**{escape(name)}**: {escape(rest)}"
    return escape(effect.summary)


def access_changes(plan: Plan) -> str:
    """The Access changes section: one line per effect, widenings first under a GitHub warning."""
    effects = [(c, e) for c in plan.changes for e in c.effects]
    if not effects:
        return ""
    parts = ["#### Access changes", ""]
    for impact, head in _IMPACT_HEADS.items():
        mine = [f"- {_effect_line(c, e)}" for c, e in effects if e.impact == impact]
        if not mine:
            continue
        if impact == "widens":
            parts += ["> [!WARNING]", f"> {head}", *(f"> {line}" for line in mine), ""]
        else:
            parts += [head, "", *mine, ""]
    return "\n".join(parts) + "\n"


# What the plan leaves alone comes after what it changes, under its own heading: between two changes, its
# list item read as part of the change above it.
UNMANAGED_HEAD = "#### Unmanaged — not changed by this plan\n\n"


def _in_comment_order(changes: Sequence[Change]) -> list[Change]:
    shown = [c for c in changes if c.action != "noop"]
    return [c for c in shown if c.action != "unmanaged"] + [c for c in shown if c.action == "unmanaged"]


def render_markdown(
    plan: Plan, *, limit: int = BODY_LIMIT, elsewhere: str = ELSEWHERE, stated_limit: int | None = None
) -> str:
    """The plan in at most `limit` characters; `elsewhere` (Markdown) says where the full plan is, and
    the notice names `stated_limit` (the whole comment's, when this is part of one) or `limit`."""
    head = [marker("plan", plan.tenant_name), f"### xtap plan — tenant {code(plan.tenant_name)}", ""]
    head.append(f"**{escape(plan.summary_line())}**")
    head += _banner_and_gates(plan)
    text = "\n".join(head) + "\n\n" + access_changes(plan)
    changes = _in_comment_order(plan.changes)
    full = [_md_section(c, plan.defaults) for c in changes]
    if changes and changes[-1].action == "unmanaged":
        first = next(i for i, c in enumerate(changes) if c.action == "unmanaged")
        full[first] = UNMANAGED_HEAD + full[first]
    count = plan.count("noop")
    tail = f"{unchanged(count)}.\n" if count else ""
    if len(text) + sum(map(len, full)) + len(tail) <= limit:
        return (text + "".join(full) + tail).rstrip("\n") + "\n"
    # Room for the notice at its longest, so that whatever is chosen fits with it.
    stated = stated_limit or limit
    reserve = len(_notice(_Fit((), len(changes), len(changes)), stated, elsewhere))
    fit = _fit(changes, full, limit - len(text) - len(tail) - reserve)
    return (text + "".join(fit.sections) + _notice(fit, stated, elsewhere) + tail).rstrip("\n") + "\n"
