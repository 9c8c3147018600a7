"""How a list of Graph requests becomes `$batch` requests, and which of them go again.

Packing (pure): Graph's known limitation for `dependsOn` is that a batch must be fully parallel or fully
serial. So requests without dependencies are packed 20 to a batch, and each dependency group (e.g. delete
the sync policy, then the partner) gets a serial batch of its own, in dependency order.

`BatchRun` is one batch as an exchange of the transport's retry loop (shell/graph/transport.py): from each
`$batch` answer it settles the sub-requests that got a final answer and sends the rest again — a throttled
or unanswered one, and the whole `dependsOn` chain behind it. A create whose answer was lost is looked up
before it is sent again (docs/reliability.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.core import model, urls
from reconciler.core.errors import XtapError
from reconciler.core.state import Request
from reconciler.shell.graph.errors import GraphError, header, unreachable
from reconciler.shell.graph.retry import RETRY_STATUSES, parse_retry_after
from reconciler.shell.graph.transport import Again, Answer, Round, Transport, body_of

log = logging.getLogger("reconciler.graph")

MAX_BATCH = 20
# A whole `$batch` answered with one of these is sent again like a throttled request; 424 is how Graph's
# throttling guidance says a throttled batch itself can fail.
BATCH_RETRY_STATUSES = RETRY_STATUSES | {424}
THROTTLE_STATUSES = frozenset({429, 503, 424})


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


def _headers(raw: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}


@dataclass(frozen=True)
class _Heard:
    """The last thing a request got: an answer (status, body, headers) or why none came."""

    status: int
    body: Any = None
    headers: Mapping[str, str] | None = None
    missing: str | None = None  # set when there was no answer: what happened instead


Lookup = Callable[[str], Any]  # GET a path; None when Graph answers 404


class BatchRun:
    """One planned batch until every request in it has a final answer."""

    def __init__(self, batch: Batch, number: int, transport: Transport, lookup: Lookup) -> None:
        self.batch = batch
        self.number = number
        self.transport = transport
        self.lookup = lookup
        self.requests = {r.id: r for r in batch.requests}
        self.pending: list[Request] = list(batch.requests)
        self.results: dict[str, BatchResult] = {}
        self.attempts: dict[str, int] = dict.fromkeys(self.requests, 0)
        self.ambiguous: set[str] = set()  # sent, but no answer came back: it may have taken effect
        self.last: dict[str, _Heard] = {}

    # -- the exchange ------------------------------------------------------------------------------
    def next_round(self) -> Round | None:
        self._fail_dependents()
        self._recover_creates()
        if not self.pending:
            return None
        return Round("POST", f"{self.transport.base}/$batch", wire_batch(self.pending, self.batch.serial))

    def absorb(self, answer: Answer) -> Again | None:
        for r in self.pending:
            self.attempts[r.id] += 1
        name = f"$batch {self.number}"
        if answer.response is None:
            return self._unanswered(answer, name)
        status, response = answer.status, answer.response
        if status == 504:  # a gateway timeout: any of them may have run behind the gateway
            self.ambiguous.update(r.id for r in self.pending)
        if status in BATCH_RETRY_STATUSES:
            heard = _Heard(status, body_of(response), dict(response.headers))
            for r in self.pending:  # if this was their last try, this is their answer
                self.last[r.id] = heard
            after = parse_retry_after(response.headers.get("Retry-After"))
            return Again(f"{name}: {status}", after, throttled=status in THROTTLE_STATUSES)
        if status != 200:
            self._finish_all(_Heard(status, body_of(response), dict(response.headers)))
            return None
        waits, throttled = self._absorb(body_of(response))
        if not self.pending:
            return None
        # The longest Retry-After among the sub-responses; backoff if none of them sent one.
        hint = max((w for w in waits if w is not None), default=None)
        return Again(f"{name}: {len(self.pending)} sub-request(s) to resend", hint, throttled)

    def give_up(self, answer: Answer) -> None:
        self._finish_all(None)

    def _unanswered(self, answer: Answer, name: str) -> Again | None:
        assert answer.failure is not None
        problem = unreachable(answer.failure)
        if problem.final:  # nothing left: every pending request fails with the one-line reason
            self._finish_all(_Heard(0, missing=str(self.transport.unreachable_error(problem))))
            return None
        if not answer.unsent:  # it may have run: creates are looked up before they go again
            self.ambiguous.update(r.id for r in self.pending)
        heard = _Heard(0, missing=f"{answer.dropped}: no answer from Graph")
        for r in self.pending:
            self.last[r.id] = heard
        return Again(f"{name}: {answer.dropped}")

    # -- sub-responses -----------------------------------------------------------------------------
    def _absorb(self, body: Any) -> tuple[list[float | None], bool]:
        """Take the sub-responses: final ones become results; 429/503/504 stay pending. Returns the
        Retry-After of each retryable sub-response and whether any was a throttle."""
        responses = body.get("responses") if isinstance(body, Mapping) else None
        by_id = {str(r.get("id")): r for r in responses or [] if isinstance(r, Mapping)}
        waits: list[float | None] = []
        throttled = False
        still: list[Request] = []
        retrying = self._retrying(by_id)
        for r in self.pending:
            sub = by_id.get(r.id)
            if sub is None:  # no answer for it: treat like a dropped request
                self.ambiguous.add(r.id)
                self.last[r.id] = _Heard(0, missing="no answer in the $batch response")
                still.append(r)
                continue
            status, headers = int(sub.get("status", 0)), _headers(sub.get("headers"))
            self.last[r.id] = _Heard(status, sub.get("body"), headers)
            log.debug(
                "  $batch %d %s: %s %s %d request-id=%s",
                *(self.number, r.id, r.method.upper(), r.url, status),
                header(headers, "request-id") or "-",
            )
            if status in RETRY_STATUSES:
                throttled = throttled or status in (429, 503)
                if status == 504:  # a gateway timeout: it may have run behind the gateway
                    self.ambiguous.add(r.id)
                waits.append(parse_retry_after(header(headers, "retry-after")))
                still.append(r)
            elif status == 424 and r.id in retrying:
                # Failed only because something before it in the chain is being retried (or because of
                # the serial order we added): not its own failure, so it goes again with the chain.
                still.append(r)
            else:
                self._finish(r, self.last[r.id])
        self.pending = still
        return waits, throttled

    def _retrying(self, by_id: Mapping[str, Any]) -> set[str]:
        """Pending ids that go again: retryable or unanswered ones, and every 424 whose dependencies are
        fine or going again themselves (to a fixpoint, so a whole chain behind a 429 is resent)."""
        status = {r.id: int(by_id[r.id].get("status", 0)) if r.id in by_id else None for r in self.pending}
        retrying = {rid for rid, st in status.items() if st is None or st in RETRY_STATUSES}
        changed = True
        while changed:
            changed = False
            for r in self.pending:
                if r.id in retrying or status[r.id] != 424:
                    continue
                if all(self._dependency_ok(d) or d in retrying for d in r.depends_on):
                    retrying.add(r.id)
                    changed = True
        return retrying

    def _dependency_ok(self, dep: str) -> bool:
        return dep not in self.requests or (dep in self.results and self.results[dep].ok)

    # -- before each round -------------------------------------------------------------------------
    def _fail_dependents(self) -> None:
        for r in self.pending:
            failed = [d for d in r.depends_on if d in self.results and not self.results[d].ok]
            if failed:
                error = GraphError(
                    method=r.method,
                    path=r.url,
                    status=424,
                    code="FailedDependency",
                    message=f"not sent because {failed[0]} failed",
                )
                self.results[r.id] = BatchResult(r.id, 424, None, {}, error, self.attempts[r.id])
        self.pending = [r for r in self.pending if r.id not in self.results]

    def _recover_creates(self) -> None:
        """A create whose batch got no answer may have happened: look before creating it again.

        POST of a partner would conflict or duplicate, and PUT of a sync policy answers 409 once it exists
        (Entra cross-tenant synchronization troubleshooting), so neither is simply resent."""
        for r in self.pending:
            if r.id not in self.ambiguous or r.method.upper() not in ("POST", "PUT"):
                continue
            path = self._created_path(r)
            if path is None:  # a create we cannot look up: resending it could do it twice
                self._finish(r, _Heard(0, missing="no answer; outcome unknown, not resent"))
                continue
            existing = self.lookup(path)
            if existing is not None:
                log.info("%s: %s exists after a lost answer; not creating it again", r.id, path)
                status = 201 if r.method.upper() == "POST" else 204
                headers = {"x-xtap-recovered": "reread"}
                self.results[r.id] = BatchResult(r.id, status, existing, headers, None, self.attempts[r.id])
        self.pending = [r for r in self.pending if r.id not in self.results]

    @staticmethod
    def _created_path(r: Request) -> str | None:
        """Where the object a create makes can be read: the partner of a POST, the sync policy of a PUT."""
        found = urls.target(r.url)
        if r.method.upper() == "PUT" and found is not None and found.kind == "sync":
            assert found.tenant_id is not None
            return urls.sync(found.tenant_id)
        tenant = (r.body or {}).get("tenantId")
        if r.method.upper() == "POST" and found is not None and found.kind == "partners":
            return urls.partner(urls.tenant_id(tenant)) if model.is_guid(tenant) else None
        return None

    # -- final answers -----------------------------------------------------------------------------
    def _finish(self, r: Request, heard: _Heard) -> None:
        attempts = self.attempts[r.id]
        if heard.missing is not None:
            lost = GraphError(method=r.method, path=r.url, status=0, code=None, message=heard.missing)
            self.results[r.id] = BatchResult(r.id, 0, None, {}, lost, attempts)
            return
        headers = dict(heard.headers or {})
        if r.method.upper() == "DELETE" and heard.status == 404 and r.id in self.ambiguous:
            # Our earlier, unanswered DELETE did it.
            headers["x-xtap-recovered"] = "already-deleted"
            self.results[r.id] = BatchResult(r.id, 204, None, headers, None, attempts)
            return
        error: GraphError | None = None
        if not 200 <= heard.status < 300:
            error = GraphError.from_response(r.method, r.url, heard.status, heard.body, headers)
        self.results[r.id] = BatchResult(r.id, heard.status, heard.body, headers, error, attempts)

    def _finish_all(self, heard: _Heard | None) -> None:
        """No more rounds: every pending request gets `heard`, or else its own last answer."""
        for r in self.pending:
            self._finish(r, heard or self.last.get(r.id) or _Heard(0, missing="no answer from Graph"))
        self.pending = []
