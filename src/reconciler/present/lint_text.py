"""`xtap lint` for people and for GitHub: one line per finding, and a summary line. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from reconciler.core import lint
from reconciler.core.text import printable
from reconciler.present.annotations import Command, annotation

_COMMAND: dict[str, Command] = {"error": "error", "warning": "warning", "note": "notice"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(findings: Sequence[lint.Finding]) -> str:
    """`2 warnings, 1 note (1 suppressed)`, or `no findings`."""
    counts = lint.counts(findings)
    shown = [_plural(counts[level], level) for level in lint.LEVELS if counts[level]]
    text = ", ".join(shown) if shown else "no findings"
    return text + (f" ({counts['suppressed']} suppressed)" if counts["suppressed"] else "")


def line(finding: lint.Finding) -> str:
    """`policies/partners/x.yaml:12:3: warning: x: … [XTAP002]`, like a validate diagnostic."""
    text = f"{finding.where}: {finding.level}: {finding.message} [{finding.rule.id}]"
    if finding.suppression is not None:
        reason = finding.suppression.reason or "lint.disable in xtap.yaml"
        text += f" (suppressed: {reason})"
    return printable(text)


def render_text(findings: Sequence[lint.Finding], *, verbose: int = 0) -> str:
    """Every finding that counts; suppressed ones too with -v."""
    shown = [f for f in findings if verbose or not f.suppressed]
    return "".join(line(f) + "\n" for f in shown) + summary(findings) + "\n"


def workflow_commands(findings: Iterable[lint.Finding], fallback_path: str) -> list[str]:
    """Workflow commands for the findings that count: `::warning file=…,line=…,title=XTAP002 …::…`."""
    out = []
    for finding in findings:
        if finding.suppressed:
            continue
        ref = finding.location
        path, row, col = (ref.path, ref.line, ref.col) if ref is not None else (fallback_path, 0, 0)
        title = f"{finding.rule.id} {finding.rule.name}"
        out.append(annotation(_COMMAND[finding.level], path, row, col, finding.message, title=title))
    return out
