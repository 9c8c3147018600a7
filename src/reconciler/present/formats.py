"""The output formats of plans and drift reports, by name: one registry, so an unknown name is an error
(never a silent fall back to text) and `--format` choices come from here."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from reconciler.core import drift
from reconciler.core.errors import XtapError
from reconciler.core.plan import Plan, to_json
from reconciler.present import drift_markdown, plan_markdown, plan_text

T = TypeVar("T")


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False


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


def plan_json(plan: Plan) -> str:
    return json.dumps(to_json(plan), indent=2, ensure_ascii=False) + "\n"


def drift_json(report: drift.DriftReport) -> str:
    return json.dumps(drift.to_json(report), indent=2, ensure_ascii=False) + "\n"


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
        "markdown": lambda report, o: drift_markdown.render_markdown(report),
        "json": lambda report, o: drift_json(report),
    },
)
