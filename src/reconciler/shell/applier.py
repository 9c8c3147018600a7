"""Runs a plan's requests through the Graph client and checks that the tenant converged (DESIGN §4).

- All writes go through `GraphClient.execute` (`$batch`, ≤ 20 each, several in flight, per-sub-request
  retries). A failed partner does not stop the others; each failure is reported with Graph's code and
  request-id.
- A write that finds the world different from the plan — the partner was created meanwhile (POST conflict),
  the sync policy exists (PUT conflict) or is gone (PATCH 404) — re-reads that one partner and re-plans it
  once, so the run still converges. Deleting something already gone counts as done.
- Afterwards it re-reads the tenant and re-plans: every resource it changed must now be unchanged. Graph is
  eventually consistent (graph-api.md §6.5), so a lagging read is retried with backoff before a resource is
  reported as not converged.
- Nothing is remembered between runs: a re-run after any failure or a kill re-plans from live state, so
  finished work is never repeated.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from reconciler.core import planner
from reconciler.core.plan import Change, Plan
from reconciler.core.planner import PlanOptions
from reconciler.core.state import DesiredState, LivePartner, LiveState, Request

log = logging.getLogger("reconciler.applier")

# Graph's codes for "the object is already there" (POST partner, PUT sync) and "not there" (graph-api.md §7).
CONFLICT_CODES = frozenset({"Request_MultipleObjectsWithSameKeyValue"})
NOT_FOUND_CODES = frozenset({"Directory_ObjectNotFound", "Request_ResourceNotFound", "ResourceNotFound"})
# Requests per progress step; a change's requests (and their dependsOn chain) never straddle two steps.
PROGRESS_STEP = 200


class ResultLike(Protocol):
    id: str
    status: int
    error: Any


class GraphLike(Protocol):
    def execute(self, requests: Sequence[Request]) -> Mapping[str, Any]: ...
    def get_partner(self, tenant_id: str) -> dict[str, Any] | None: ...
    def get_sync(self, tenant_id: str) -> dict[str, Any] | None: ...
    def read_live_state(self) -> LiveState: ...


Status = Literal["applied", "failed"]


@dataclass(frozen=True)
class Outcome:
    change: Change
    status: Status
    error: str | None = None


@dataclass(frozen=True)
class ApplyResult:
    outcomes: tuple[Outcome, ...]
    converged: bool
    unconverged: tuple[str, ...] = ()  # change titles still differing after verification
    verify_reads: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "failed")

    @property
    def ok(self) -> bool:
        return not self.failed and self.converged


def _is(error: Any, codes: frozenset[str]) -> bool:
    return error is not None and getattr(error, "code", None) in codes


def _describe_error(result: Any) -> str:
    error = getattr(result, "error", None)
    if error is not None:
        return str(error)
    return f"HTTP {getattr(result, 'status', '?')}"


class Applier:
    def __init__(
        self,
        client: GraphLike,
        *,
        verify_timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.client = client
        self.verify_timeout = verify_timeout
        self.sleep = sleep
        self.progress = progress

    def apply(self, plan: Plan, desired: DesiredState, options: PlanOptions) -> ApplyResult:
        changes = [c for c in plan.changes if c.requests]
        results = self._execute_in_steps(changes)
        outcomes: list[Outcome] = []
        replan: dict[str, list[Change]] = {}
        for change in changes:
            failure = self._failure(change, results)
            if failure is None:
                outcomes.append(Outcome(change, "applied"))
            elif failure == "replan" and change.tenant_id and change.resource != "default":
                replan.setdefault(change.tenant_id, []).append(change)
            else:
                outcomes.append(Outcome(change, "failed", failure))
        for tenant_id, stale in replan.items():
            outcomes.extend(self._replan_partner(tenant_id, stale, desired, options))
        for outcome in outcomes:
            if outcome.status == "failed":
                log.warning("failed: %s %s: %s", outcome.change.action, outcome.change.key, outcome.error)
        applied = [o.change for o in outcomes if o.status == "applied"]
        converged, unconverged, reads = self._verify(applied, desired, options)
        return ApplyResult(tuple(outcomes), converged, tuple(unconverged), reads)

    def _execute_in_steps(self, changes: list[Change]) -> dict[str, Any]:
        results: dict[str, Any] = {}
        total = sum(len(c.requests) for c in changes)
        step: list[Request] = []
        done = 0
        # A partner's changes (partner + its sync policy) are adjacent in a plan and linked by dependsOn;
        # cut steps only between tenants so a chain stays in one step.
        for i, change in enumerate(changes):
            step.extend(change.requests)
            nxt = changes[i + 1] if i + 1 < len(changes) else None
            if nxt is None or (len(step) >= PROGRESS_STEP and nxt.tenant_id != change.tenant_id):
                results.update(self.client.execute(step))
                done += len(step)
                step = []
                if self.progress is not None:
                    self.progress(done, total)
        return results

    def _failure(self, change: Change, results: Mapping[str, Any]) -> str | None:
        """None when every request of the change succeeded; "replan" when the tenant moved under us."""
        for request in change.requests:
            result = results.get(request.id)
            if result is None:
                return "no response from Graph"
            status, error = result.status, result.error
            if 200 <= status < 300:
                continue
            if request.method == "DELETE" and (status == 404 or _is(error, NOT_FOUND_CODES)):
                continue  # already gone: the goal is reached
            if status == 424:
                return (
                    "replan"
                    if self._dependency_replans(request, change, results)
                    else _describe_error(result)
                )
            if request.method in ("POST", "PUT") and _is(error, CONFLICT_CODES):
                return "replan"
            if (
                request.method == "PATCH"
                and request.url.endswith("/identitySynchronization")
                and (status == 404 or _is(error, NOT_FOUND_CODES))
            ):
                return "replan"
            return _describe_error(result)
        return None

    def _dependency_replans(self, request: Request, change: Change, results: Mapping[str, Any]) -> bool:
        for dep in request.depends_on:
            result = results.get(dep)
            if result is not None and _is(result.error, CONFLICT_CODES):
                return True
        return False

    def _replan_partner(
        self, tenant_id: str, stale: list[Change], desired: DesiredState, options: PlanOptions
    ) -> list[Outcome]:
        """Re-read one partner and apply what is still needed; one attempt, then report."""
        raw = self.client.get_partner(tenant_id)
        live = None
        if raw is not None:
            sync = self.client.get_sync(tenant_id)
            live = LivePartner(
                tenant_id, {k: v for k, v in raw.items() if k != "identitySynchronization"}, sync
            )
        changes = planner.plan_partner(desired.partners.get(tenant_id), live, options, planner._Ids())
        todo = [c for c in changes if c.requests]
        log.info("re-planned %s after a conflict: %d change(s)", tenant_id, len(todo))
        results = dict(self.client.execute([r for c in todo for r in c.requests])) if todo else {}
        outcomes = []
        for change in todo:
            failure = self._failure(change, results)
            outcomes.append(
                Outcome(change, "applied") if failure is None else Outcome(change, "failed", failure)
            )
        if not todo:
            outcomes = [Outcome(c, "applied") for c in stale]
        return outcomes

    def _verify(
        self, applied: list[Change], desired: DesiredState, options: PlanOptions
    ) -> tuple[bool, list[str], int]:
        if not applied:
            return True, [], 0
        wanted = {c.key for c in applied}
        deadline = time.monotonic() + self.verify_timeout
        delay = 0.5
        reads = 0
        while True:
            live = self.client.read_live_state()
            reads += 1
            again = planner.make_plan(desired, live, options)
            pending = [
                c for c in again.changes if c.key in wanted and c.action in ("create", "update", "delete")
            ]
            if not pending:
                return True, [], reads
            if time.monotonic() + delay > deadline:
                return False, [f"{c.action} {c.key}" for c in pending], reads
            log.info("%d change(s) not visible yet; reading again in %.1fs", len(pending), delay)
            self.sleep(delay)
            delay = min(delay * 2, 8.0)
