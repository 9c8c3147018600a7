"""The output formats of plans and drift reports, by name: one registry, so an unknown name is an error
(never a silent fall back to text) and `--format` choices come from here."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from reconciler.core import drift, text
from reconciler.core.drift_json import to_json as drift_to_json
from reconciler.core.errors import XtapError
from reconciler.core.plan import Plan, to_json
from reconciler.present import drift_markdown, drift_text, plan_markdown, plan_text

T = TypeVar("T")


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False
    verbose: int = 0  # -v: information lines in a drift report's text


@dataclass(frozen=True)
class Registry(Generic[T]):
    what: str
    renderers: Mapping[str, Callable[[T, RenderOptions], str]]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.renderers)

    def render(self, value: T, name: str, options: RenderOptions | None = None) -> str:
        renderer = self.renderers.get(name)
        if renderer is None:
            raise XtapError(f"unknown {self.what} format {name!r} (one of: {', '.join(self.names)})")
        return renderer(value, options or RenderOptions())


# json.dumps escapes the C0 controls in strings (a raw newline in its output is indentation), but not DEL,
# C1 (the 8-bit CSI U+009B), the line separators, the bidi overrides or a lone surrogate; and `##[` (a
# GitHub workflow command anywhere in a log line) passes as is. Outside its strings JSON holds only ASCII
# punctuation, digits, keywords and indentation, so these can only be inside strings, where a \uXXXX
# escape decodes to the very same text.
def json_text(data: Any) -> str:
    """`data` as indented JSON, printable anywhere: no character in it acts on a terminal or a CI log."""
    dumped = json.dumps(data, indent=2, ensure_ascii=False)
    if text.BEYOND_C0.search(dumped) is not None:  # rare: a search is much cheaper than a sub
        dumped = text.BEYOND_C0.sub(lambda m: f"\\u{ord(m.group()):04x}", dumped)
    return dumped.replace("##[", "##\\u005b") + "\n"


def plan_json(plan: Plan) -> str:
    return json_text(to_json(plan))


def drift_json(report: drift.DriftReport) -> str:
    return json_text(drift_to_json(report))


PLAN: Registry[Plan] = Registry(
    "plan",
    {
        "text": lambda plan, o: plan_text.render_text(plan, color=o.color),
        "markdown": lambda plan, o: plan_markdown.render_markdown(plan),
        "json": lambda plan, o: plan_json(plan),
    },
)

DRIFT: Registry[drift.DriftReport] = Registry(
    "drift report",
    {
        "text": lambda report, o: drift_text.render_text(report, color=o.color, verbose=o.verbose),
        "markdown": lambda report, o: drift_markdown.render_markdown(report),
        "json": lambda report, o: drift_json(report),
    },
)
