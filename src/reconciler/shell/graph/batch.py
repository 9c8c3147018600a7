"""How a list of Graph requests becomes `$batch` requests (pure; graph-api.md §8).

Graph's known limitation for `dependsOn`: a batch must be fully parallel or fully serial. So requests
without dependencies are packed 20 to a batch, and each dependency group (e.g. delete the sync policy,
then the partner) gets a serial batch of its own, in dependency order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.core.errors import XtapError
from reconciler.core.state import Request
from reconciler.shell.graph.errors import GraphError

MAX_BATCH = 20


@dataclass(frozen=True)
class BatchResult:
    """The final answer to one request. Failures are results too: the applier carries on past them."""

    id: str
    status: int
    body: Any
    headers: Mapping[str, str]
    error: GraphError | None
    attempts: int

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True)
class Batch:
    requests: tuple[Request, ...]
    serial: bool  # each request depends on the one before (a dependency group)


def _components(requests: Sequence[Request]) -> list[list[Request]]:
    index = {r.id: i for i, r in enumerate(requests)}
    parent = list(range(len(requests)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, r in enumerate(requests):
        for dep in r.depends_on:
            if dep in index:
                parent[find(i)] = find(index[dep])
    groups: dict[int, list[Request]] = {}
    for i, r in enumerate(requests):
        groups.setdefault(find(i), []).append(r)
    return sorted(groups.values(), key=lambda g: index[g[0].id])


def _topological(group: list[Request]) -> list[Request]:
    """Dependencies first, otherwise in the given order."""
    ids = {r.id for r in group}
    done: set[str] = set()
    ordered: list[Request] = []
    remaining = list(group)
    while remaining:
        for r in remaining:
            if all(d in done or d not in ids for d in r.depends_on):
                ordered.append(r)
                done.add(r.id)
                remaining.remove(r)
                break
        else:
            raise XtapError(f"requests {', '.join(r.id for r in remaining)} depend on each other in a cycle")
    return ordered


def plan_batches(requests: Sequence[Request], max_size: int = MAX_BATCH) -> list[Batch]:
    seen: set[str] = set()
    for r in requests:
        if r.id in seen:
            raise XtapError(f"two requests share the id {r.id!r}")
        seen.add(r.id)
    batches: list[Batch] = []
    parallel: list[Request] = []
    for group in _components(requests):
        if len(group) == 1:
            parallel.append(group[0])
            if len(parallel) == max_size:
                batches.append(Batch(tuple(parallel), serial=False))
                parallel = []
            continue
        if len(group) > max_size:
            raise XtapError(f"{len(group)} requests depend on each other; a $batch holds at most {max_size}")
        batches.append(Batch(tuple(_topological(group)), serial=True))
    if parallel:
        batches.append(Batch(tuple(parallel), serial=False))
    return batches


def wire_request(request: Request, depends_on: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": request.id, "method": request.method.upper(), "url": request.url}
    if request.body is not None:
        out["body"] = dict(request.body)
        out["headers"] = {"Content-Type": "application/json"}  # required whenever a body is present
    if depends_on:
        out["dependsOn"] = list(depends_on)
    return out


def wire_batch(requests: Sequence[Request], serial: bool) -> dict[str, Any]:
    """The `$batch` body; in a serial batch each request depends on the previous one actually sent."""
    out = []
    for i, r in enumerate(requests):
        out.append(wire_request(r, [requests[i - 1].id] if serial and i else []))
    return {"requests": out}
