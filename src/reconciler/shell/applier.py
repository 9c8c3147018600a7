"""Runs a plan's requests through the Graph client and checks that the tenant converged.

- Only the request shapes a planner produces are sent (`urls.write_refusal`): anything else in a plan —
  another method, another URL, a query, a non-GUID segment — refuses the whole apply before the first write.
- All writes go to `GraphClient.execute` at once (`$batch` of 20, several in flight, per-sub-request
  retries), so the pipe never drains between steps. A failed partner does not stop the others; each
  failure is reported with Graph's code and request-id, and whether running again can help.
- A write that finds the world different from the plan — the partner was created meanwhile (POST conflict),
  the sync policy exists (PUT conflict) or is gone (PATCH 404) — re-reads that one partner and re-plans it
  once, so the run still converges. Deleting something already gone counts as done.
- Afterwards it reads back what it changed and re-plans it: every change applied must now be unchanged.
  When re-reading only those resources takes fewer requests than the partner pages, it GETs them in
  `$batch`; otherwise it reads the tenant again, starting while the writes land (shell/readback.py: each
  page once the writes that can show on it are answered). Graph is eventually consistent, so a lagging
  read is retried with backoff (only what still differs) before a change is reported as not converged.
- Nothing is remembered between runs: a re-run after any failure or a kill re-plans from live state, so
  finished work is never repeated.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol

from reconciler.core import urls
from reconciler.core.errors import RefusedError
from reconciler.core.plan import Change, Plan, PlanOptions
from reconciler.core.planner import PartnerPlans, make_plan, planning
from reconciler.core.state import DesiredState, LivePartner, LiveState, Request
from reconciler.shell.graph.batch import MAX_BATCH
from reconciler.shell.graph.client import Gate, PageSink
from reconciler.shell.readback import EarlyRead, Landing, target

log = logging.getLogger("reconciler.applier")

# Graph's codes for "the object is already there" (POST partner, PUT sync) and "not there".
CONFLICT_CODES = frozenset({"Request_MultipleObjectsWithSameKeyValue"})
NOT_FOUND_CODES = frozenset({"Directory_ObjectNotFound", "Request_ResourceNotFound", "ResourceNotFound"})
# Failures that a later run can get past without anyone changing anything: no answer, throttling, a
# server-side error, read-after-write lag. A 400 or 403 fails the same way until the cause is fixed.
RETRYABLE_STATUSES = frozenset({0, 408, 429, 500, 502, 503, 504})


class GraphLike(Protocol):
    @property
    def partner_pages(self) -> int | None: ...
    @property
    def page_tenants(self) -> Sequence[Sequence[str]] | None: ...

    def execute(
        self, requests: Sequence[Request], progress: Callable[[Mapping[str, Any]], None] | None = None
    ) -> Mapping[str, Any]: ...
    def read_partner(self, tenant_id: str) -> LivePartner | None: ...
    def read_live_state(
        self, *, policy: bool = False, on_page: PageSink | None = None, before: Gate | None = None
    ) -> LiveState: ...
    def refresh(
        self,
        live: LiveState,
        partners: Collection[str],
        syncs: Collection[str],
        default: bool,
        policy: bool = False,
    ) -> LiveState: ...


Status = Literal["applied", "failed"]


@dataclass(frozen=True)
class Outcome:
    change: Change
    status: Status
    error: str | None = None
    retryable: bool = True  # a failure another run can finish without a fix


@dataclass(frozen=True)
class ApplyResult:
    outcomes: tuple[Outcome, ...]
    converged: bool
    unconverged: tuple[str, ...] = ()  # change titles still differing after verification
    verify_reads: int = 0  # verification rounds (each a full read or one set of `$batch` GETs)
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def applied(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "applied")

    @property
    def failed(self) -> tuple[Outcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "failed")

    @property
    def ok(self) -> bool:
        return not self.failed and self.converged

    @property
    def retryable(self) -> bool:
        """Whether running apply again finishes the rest (every failure is one a later run can pass)."""
        return all(o.retryable for o in self.failed)


@dataclass(frozen=True)
class _Failure:
    message: str
    retryable: bool


_REPLAN = _Failure("replan", True)


def refuse_foreign(requests: Iterable[Request]) -> None:
    """Refuse the whole apply when a request is not one a planner makes (a hand-edited or foreign plan)."""
    for r in requests:
        reason = urls.write_refusal(r.method, r.url, r.body)
        if reason is not None:
            raise RefusedError(
                f"the plan holds a request xtap never makes ({r.id}: {r.method} {r.url}): {reason}; "
                "nothing was changed"
            )


def _is(error: Any, codes: frozenset[str]) -> bool:
    return error is not None and error.code in codes


def _failed(result: Any) -> _Failure:
    """A failed request's result (the client's BatchResult: a status, and a GraphError unless it is 2xx)."""
    message = str(result.error) if result.error is not None else f"HTTP {result.status}"
    return _Failure(message, result.status in RETRYABLE_STATUSES)


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

    def apply(
        self, plan: Plan, desired: DesiredState, options: PlanOptions, live: LiveState | None = None
    ) -> ApplyResult:
        """Send the plan's requests and verify. `live` is the state the plan was made from: with it, the
        verification can re-read just the changed resources."""
        changes = [c for c in plan.changes if c.requests]
        refuse_foreign(r for c in changes for r in c.requests)
        early = self._read_early(changes, live)  # a full read-back starts with the writes
        try:
            return self._apply(changes, desired, options, live, early)
        finally:
            if early is not None:
                early.stop()

    def _apply(
        self,
        changes: list[Change],
        desired: DesiredState,
        options: PlanOptions,
        live: LiveState | None,
        early: EarlyRead | None,
    ) -> ApplyResult:
        # The root policy first, alone: a partner in another cloud can be configured only once
        # allowedCloudEndpoints lists that cloud (docs/graph-behaviour.md §16).
        first = [r for c in changes if c.resource == "policy" for r in c.requests]
        ordered = early.landing.order(changes) if early is not None else changes
        rest = [r for c in ordered if c.resource != "policy" for r in c.requests]
        results = self._execute(first, rest, landing=early.landing if early is not None else None)
        outcomes: list[Outcome] = []
        replan: dict[str, list[Change]] = {}
        for change in changes:
            failure = self._failure(change, results)
            if failure is None:
                outcomes.append(Outcome(change, "applied"))
            elif failure is _REPLAN and change.tenant_id and change.resource != "default":
                replan.setdefault(change.tenant_id, []).append(change)
            else:
                outcomes.append(Outcome(change, "failed", failure.message, failure.retryable))
        for tenant_id, stale in replan.items():
            outcomes.extend(self._replan_partner(tenant_id, stale, desired, options))
        for outcome in outcomes:
            if outcome.status == "failed":
                log.warning("failed: %s %s: %s", outcome.change.action, outcome.change.key, outcome.error)
        applied = [o.change for o in outcomes if o.status == "applied"]
        converged, unconverged, reads = self._verify(applied, desired, options, live, early)
        return ApplyResult(tuple(outcomes), converged, tuple(unconverged), reads)

    def _read_early(self, changes: list[Change], live: LiveState | None) -> EarlyRead | None:
        """The read-back, started now, when it will read the tenant again and the pages of the read the
        plan came from are known (shell/readback.py); else None, and it waits for the writes."""
        pages = self.client.page_tenants
        touched = _touched(changes)
        if live is None or pages is None or not self._rereads_all(touched, live):
            return None
        return EarlyRead(self.client, Landing(changes, pages), policy=touched.policy)

    def _execute(self, *waves: list[Request], landing: Landing | None = None) -> Mapping[str, Any]:
        """Each wave's requests, the next wave once the previous one has its answers."""
        total, done = sum(map(len, waves)), 0

        def settled(answers: Mapping[str, Any]) -> None:
            nonlocal done
            done += len(answers)
            if self.progress is not None:
                self.progress(done, total)
            if landing is not None:
                landing.settled(answers)

        results: dict[str, Any] = {}
        for requests in waves:
            if requests:
                results.update(self.client.execute(requests, settled))
        return results

    def _failure(self, change: Change, results: Mapping[str, Any]) -> _Failure | None:
        """None when every request of the change succeeded; _REPLAN when the tenant moved under us."""
        for request in change.requests:
            result = results.get(request.id)
            if result is None:
                return _Failure("no response from Graph", True)
            status, error = result.status, result.error
            if 200 <= status < 300:
                continue
            if request.method == "DELETE" and (status == 404 or _is(error, NOT_FOUND_CODES)):
                continue  # already gone: the goal is reached
            if status == 424:
                return self._dependency_failure(request, results) or _failed(result)
            if request.method in ("POST", "PUT") and _is(error, CONFLICT_CODES):
                return _REPLAN
            if (
                request.method == "PATCH"
                and request.url.endswith(f"/{urls.SYNC}")
                and (status == 404 or _is(error, NOT_FOUND_CODES))
            ):
                return _REPLAN
            return _failed(result)
        return None

    def _dependency_failure(self, request: Request, results: Mapping[str, Any]) -> _Failure | None:
        """A request not run because one it depends on failed: re-plan after a conflict, otherwise it
        shares its dependency's fate (retryable when that one is)."""
        for dep in request.depends_on:
            result = results.get(dep)
            if result is None or 200 <= result.status < 300:
                continue
            if _is(result.error, CONFLICT_CODES):
                return _REPLAN
            cause = _failed(result)
            return _Failure(f"not run because {dep} failed: {cause.message}", cause.retryable)
        return None

    def _replan_partner(
        self, tenant_id: str, stale: list[Change], desired: DesiredState, options: PlanOptions
    ) -> list[Outcome]:
        """Re-read one partner and apply what is still needed; one attempt, then report."""
        live = self.client.read_partner(tenant_id)
        wanted = desired.partners.get(tenant_id)
        again = make_plan(
            DesiredState({tenant_id: wanted} if wanted is not None else {}),
            LiveState({tenant_id: live} if live is not None else {}),
            options,
        )
        todo = [c for c in again.changes if c.requests]
        log.info("re-planned %s after a conflict: %d change(s)", tenant_id, len(todo))
        if not todo:  # the tenant already is as the files say
            return [Outcome(c, "applied") for c in stale]
        requests = [r for c in todo for r in c.requests]
        refuse_foreign(requests)
        results = self.client.execute(requests)
        outcomes = []
        for change in todo:
            failure = self._failure(change, results)
            if failure is None:
                outcomes.append(Outcome(change, "applied"))
            else:
                message = "changed again while applying" if failure is _REPLAN else failure.message
                outcomes.append(Outcome(change, "failed", message, failure.retryable))
        return outcomes

    # -- verification ------------------------------------------------------------------------------
    def _verify(
        self,
        applied: list[Change],
        desired: DesiredState,
        options: PlanOptions,
        live: LiveState | None,
        early: EarlyRead | None = None,
    ) -> tuple[bool, list[str], int]:
        pending = list(applied)
        deadline = time.monotonic() + self.verify_timeout
        delay = 0.5
        reads = 0
        while pending:
            with planning(_scoped(pending, desired), options, explain=False) as plans:
                if early is not None:  # read while the writes landed; what showed too early is read again
                    current, unseen = early.result(plans.add)
                    early = None
                else:
                    current, unseen = self._read_back(pending, live, plans.add), set()
                reads += 1
                seen = [c for c in pending if target(c) not in unseen]
                differing = {c.key for c in _still_differing(seen, plans, current)}
            lagging = bool(differing)
            pending = [c for c in pending if c.key in differing or target(c) in unseen]
            live = current
            if not lagging:
                continue
            if time.monotonic() + delay > deadline:
                return False, [f"{c.action} {c.key}" for c in pending], reads
            log.info("%d change(s) not visible yet; reading again in %.1fs", len(pending), delay)
            self.sleep(delay)
            delay = min(delay * 2, 8.0)
        return True, [], reads

    def _rereads_all(self, touched: _Touched, live: LiveState) -> bool:
        """Whether reading back what `touched` names means the partner pages: fewer requests than `$batch`
        GETs of those resources, or no full read yet to count them by."""
        pages = self.client.partner_pages
        if pages is None:
            return True
        partners, syncs, default, root = touched
        gets = len(partners | {t for t in syncs if t not in live.partners}) + len(syncs) + default + root
        return math.ceil(gets / MAX_BATCH) >= pages

    def _read_back(self, changes: list[Change], live: LiveState | None, on_page: PageSink) -> LiveState:
        """The tenant as it is now for these changes: their resources by `$batch` GETs when that takes
        fewer requests than the partner pages, else a full read (each page to `on_page`)."""
        touched = _touched(changes)
        if live is None or self._rereads_all(touched, live):
            return self.client.read_live_state(policy=touched.policy, on_page=on_page)
        return self.client.refresh(live, *touched)


class _Touched(NamedTuple):
    """What changes write: partners and sync policies (by tenant id), the default, the root policy."""

    partners: set[str]
    syncs: set[str]
    default: bool
    policy: bool


def _touched(changes: list[Change]) -> _Touched:
    return _Touched(
        {c.tenant_id for c in changes if c.resource == "partner" and c.tenant_id},
        {c.tenant_id for c in changes if c.resource == "identitySynchronization" and c.tenant_id},
        any(c.resource == "default" for c in changes),
        any(c.resource == "policy" for c in changes),
    )


def _scoped(changes: list[Change], desired: DesiredState) -> DesiredState:
    """What the files say of the resources `changes` touch: their partners, the default, the root policy."""
    touched = _touched(changes)
    tenants = touched.partners | touched.syncs
    return DesiredState(
        {t: p for t, p in desired.partners.items() if t in tenants},
        desired.default if touched.default else None,
        desired.policy if touched.policy else None,
    )


def _still_differing(changes: list[Change], plans: PartnerPlans, current: LiveState) -> list[Change]:
    """The changes whose resources a fresh plan of just their tenants (same options, `plans`) would change
    again."""
    tenants = {c.tenant_id for c in changes if c.tenant_id}
    scoped_live = LiveState(
        {t: p for t, p in current.partners.items() if t in tenants}, current.default, current.policy
    )
    again = plans.plan(scoped_live)
    differing = {c.key for c in again.changes if c.action in ("create", "update", "delete")}
    return [c for c in changes if c.key in differing]
