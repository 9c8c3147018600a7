"""The one Markdown toolkit for everything xtap shows on GitHub: plan comments, drift issues, summaries.

- `escape`: text from files or Graph can open no tag, link, code span, table cell or emphasis;
- `code`: an escaped value in `<code>` (safe in tables, unlike backticks);
- `fence`: an inline code span that the text's own backticks cannot close (tenant names in headings);
- `marker`: the hidden first line that tells xtap's own comments and issues apart;
- `fit_sections` and `truncate`: keep a body under GitHub's limit and say so, never cutting a construct open.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reconciler.core.errors import XtapError
from reconciler.core.schema import TENANT_NAME_PATTERN
from reconciler.core.text import printable

# GitHub refuses a comment or issue body over 65,536 characters with 422 "Body is too long".
BODY_LIMIT = 65_536

_TENANT_NAME = re.compile(TENANT_NAME_PATTERN.removeprefix("^").removesuffix("$"))


def escape(value: str) -> str:
    """Escape text for Markdown/HTML: nothing in a value can open a tag, a link, a code span, a cell or
    an emphasis, nor start a line; control characters show as they do in the terminal (`\\n`)."""
    return html.escape(printable(value), quote=True).translate(_MARKDOWN_ENTITIES)


# After html.escape: a backslash would escape the `&` of the entities below; `*`, `_` and `~` would
# emphasise or strike out part of a value.
_MARKDOWN_ENTITIES = str.maketrans(
    {"\\": "&#92;", "|": "&#124;", "`": "&#96;", "[": "&#91;", "*": "&#42;", "_": "&#95;", "~": "&#126;"}
)


def code(value: str) -> str:
    return f"<code>{escape(value)}</code>"


def fence(text: str) -> str:
    """`text` as an inline code span that its own backticks cannot close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def check_tenant_name(name: str) -> str:
    """Return `name` if it is safe in markers, artifact names and titles; raise XtapError otherwise.

    Tenant names end up in hidden HTML markers, artifact names, concurrency groups and issue titles; the
    config schema allows exactly this set (no `>` to close a marker), and a name from elsewhere is checked
    against it too.
    """
    if not _TENANT_NAME.fullmatch(name):
        raise XtapError(
            f"tenant name {name!r} cannot be used in GitHub workflows: use letters, digits, '.', '_' "
            "and '-', starting with a letter or digit"
        )
    return name


def marker(kind: str, tenant: str) -> str:
    """The hidden first line of an xtap comment or issue: `<!-- xtap-plan:NAME -->`."""
    return f"<!-- xtap-{kind}:{check_tenant_name(tenant)} -->"


def fit_sections(
    head: str, sections: Sequence[str], tail: str, limit: int, notice: Callable[[int], str]
) -> str:
    """head + as many whole sections as fit + tail; `notice(n)` replaces the n sections left out."""
    text = head
    for index, section in enumerate(sections):
        left = notice(len(sections) - index)
        if len(text) + len(section) + len(left) + len(tail) > limit:
            return text + left + tail
        text += section
    return text + tail


def truncate(markdown: str, budget: int, notice: str) -> str:
    """`markdown` cut at a line boundary to at most `budget` characters, still well-formed.

    A cut inside a code fence or an open `<details>` would swallow the notice and everything GitHub
    renders after it, so open fences and sections are closed before the notice is appended.
    """
    if len(markdown) <= budget:
        return markdown
    kept: list[str] = []
    size = 0
    state = _OpenBlocks()
    for line in markdown.splitlines(keepends=True):
        after = state.after(line)
        # +2: the newline that may end the last kept line and the one before the notice.
        if size + len(line) + len(after.closers()) + len(notice) + 2 > budget:
            break
        kept.append(line)
        size += len(line)
        state = after
    text = "".join(kept)
    if text and not text.endswith("\n"):
        text += "\n"
    return text + state.closers() + "\n" + notice + "\n"


@dataclass(frozen=True)
class _OpenBlocks:
    """Markdown constructs open after some lines: a code fence, nested `<details>` sections."""

    fence: bool = False
    details: int = 0

    def after(self, line: str) -> _OpenBlocks:
        stripped = line.strip()
        if stripped.startswith("```"):
            return _OpenBlocks(not self.fence, self.details)
        if self.fence:
            return self
        opened = stripped.count("<details") - stripped.count("</details>")
        return _OpenBlocks(False, max(self.details + opened, 0))

    def closers(self) -> str:
        return ("```\n" if self.fence else "") + "</details>\n" * self.details
