"""The one HTTP transport to Graph and its one retry loop, for single requests and `$batch` round trips.

Graph's rules it follows (Microsoft Graph throttling guidance, learn.microsoft.com/graph/throttling): on
429/503/504 wait `Retry-After` when sent (the identity service often omits it), otherwise an exponential
backoff, never an immediate retry. A 401 gets one fresh token. The waiting is bounded per
client by a total budget, shared by its threads.

What goes again is not decided here. An `Exchange` says what to send in each round and, from the answer,
whether it is settled or needs another round: a single request settles on its own answer; a `$batch`
settles the sub-requests that got a final answer and sends the rest again (shell/graph/batch.py).

The bearer token travels only over https, and only to the configured Graph origin: `@odata.nextLink` is
followed verbatim, but never to another host, and redirects are not followed.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx

from reconciler.core.errors import XtapError
from reconciler.shell.graph.auth import TokenCredential
from reconciler.shell.graph.errors import GraphError, NetworkError, Unreachable, unreachable
from reconciler.shell.graph.retry import RETRY_STATUSES, RetryBudget, RetryPolicy, parse_retry_after
from reconciler.shell.graph.settings import ssl_verify

log = logging.getLogger("reconciler.graph")

API_VERSION = "v1.0"
IDEMPOTENT = frozenset({"GET", "PUT", "PATCH", "DELETE"})
# Raised before a byte of the request left: trying again cannot do anything twice.
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class Round:
    """One HTTP exchange to make: method, absolute URL, JSON body."""

    method: str
    url: str
    body: Any = None


@dataclass(frozen=True)
class Answer:
    """What came back from one round: a response, or the reason none did."""

    response: httpx.Response | None
    failure: httpx.TransportError | None = None

    @property
    def status(self) -> int:
        return self.response.status_code if self.response is not None else 0

    @property
    def unsent(self) -> bool:
        """The request never left (refused, unresolvable, connect timeout): it cannot have taken effect."""
        return isinstance(self.failure, _UNSENT)

    @property
    def dropped(self) -> str:
        return type(self.failure).__name__ if self.failure is not None else ""


@dataclass(frozen=True)
class Again:
    """Send another round, after `retry_after` seconds if the server said so (else the backoff)."""

    why: str
    retry_after: float | None = None
    throttled: bool = False  # Graph asked us to slow down: fewer batches in flight


class Exchange(Protocol):
    def next_round(self) -> Round | None:
        """What to send now; None once everything is settled."""

    def absorb(self, answer: Answer) -> Again | None:
        """Settle what this answer settles; Again when something must be sent once more."""

    def give_up(self, answer: Answer) -> None:
        """No more rounds (attempts or budget used up): settle the rest from what is known."""


class InFlightLimiter:
    """How many batches may be in flight: halved when Graph throttles, grown back by one per clean batch."""

    def __init__(self, maximum: int) -> None:
        self.maximum = max(1, maximum)
        self.limit = self.maximum
        self.active = 0
        self.peak = 0
        self._cond = threading.Condition()

    def acquire(self) -> None:
        with self._cond:
            while self.active >= self.limit:
                self._cond.wait()
            self.active += 1
            self.peak = max(self.peak, self.active)

    def release(self, throttled: bool) -> None:
        with self._cond:
            self.active -= 1
            if throttled:
                if self.limit > 1:
                    log.info("throttled: at most %d batch(es) in flight", max(1, self.limit // 2))
                self.limit = max(1, self.limit // 2)
            else:
                self.limit = min(self.maximum, self.limit + 1)
            self._cond.notify_all()


class _Slot:
    """One batch's place in flight for the length of a `with` block (none without a limiter)."""

    def __init__(self, limiter: InFlightLimiter | None) -> None:
        self.limiter = limiter
        self.throttled = False

    def __enter__(self) -> _Slot:
        if self.limiter is not None:
            self.limiter.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.limiter is not None:
            self.limiter.release(self.throttled)


def body_of(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Transport:
    """One httpx.Client per run: the token on every request, a fresh client-request-id per logical request."""

    def __init__(
        self,
        graph_root: str,
        credential: TokenCredential,
        *,
        verify: bool | str = True,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,  # tests: httpx.MockTransport
    ) -> None:
        self.graph_root = graph_root.rstrip("/")
        self._origin = urlsplit(self.graph_root)
        if self._origin.scheme != "https" or not self._origin.netloc:
            raise XtapError(f"the Graph root must be an https:// URL, got {graph_root!r}")
        self.base = f"{self.graph_root}/{API_VERSION}"
        self.credential = credential
        self.retry = retry or RetryPolicy()
        self.budget = RetryBudget(self.retry.budget_seconds)
        self._http = httpx.Client(
            verify=ssl_verify(verify),
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            headers={"Accept": "application/json"},
            follow_redirects=False,  # a redirect would carry the bearer token elsewhere
            transport=transport,
        )
        self._lock = threading.Lock()
        self._invalidated: str | None = None
        self.request_count = 0
        self.retry_count = 0

    def close(self) -> None:
        self._http.close()

    @property
    def host(self) -> str:
        return self._origin.netloc

    # -- addresses ---------------------------------------------------------------------------------
    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith("/"):
            return self.base + path_or_url
        parts = urlsplit(path_or_url)
        if (parts.scheme, parts.netloc) != (self._origin.scheme, self._origin.netloc):
            raise XtapError(
                f"Graph sent a link to another host ({parts.scheme}://{parts.netloc}); not following"
            )
        return path_or_url

    def label(self, url: str) -> str:
        return url[len(self.base) :] if url.startswith(self.base) else urlsplit(url).path

    # -- the retry loop ----------------------------------------------------------------------------
    def run(
        self, exchange: Exchange, *, limiter: InFlightLimiter | None = None, client_request_id: str = ""
    ) -> None:
        """Rounds until the exchange is settled, attempts run out or the waiting budget does."""
        crid = client_request_id or str(uuid.uuid4())  # one logical request, one id, however many rounds
        attempt = 0
        refreshed = False
        while (step := exchange.next_round()) is not None:
            attempt += 1
            # The slot is given back before any sleep (a waiting batch must not hold it), and also when
            # signing in fails half-way: a lost slot would stall every batch queued behind it.
            with _Slot(limiter) as slot:
                answer, token = self._send(step, crid)
                if answer.status == 401 and not refreshed:
                    refreshed, attempt = True, attempt - 1  # a refused token is ours to fix, not a failure
                    self._refresh(token)
                    continue
                again = exchange.absorb(answer)
                slot.throttled = again is not None and again.throttled
            if again is None:
                continue
            delay = again.retry_after if again.retry_after is not None else self.retry.backoff(attempt)
            if attempt >= self.retry.max_attempts or not self._wait(delay, again.why):
                exchange.give_up(answer)
                return

    def request(self, method: str, path_or_url: str, body: Any = None) -> httpx.Response:
        """One request through the loop; the last response (raises GraphError if none came)."""
        single = _Single(self, method.upper(), self.url(path_or_url), body)
        self.run(single, client_request_id=single.client_request_id)
        return single.result()

    # -- one HTTP exchange -------------------------------------------------------------------------
    def _send(self, step: Round, crid: str) -> tuple[Answer, str]:
        token = self.credential.get_token()
        target = httpx.URL(step.url)
        if target.scheme != "https":  # never the bearer token in clear text, whatever built the URL
            raise XtapError(f"refusing to send the Graph token over {target.scheme}: {step.url}")
        headers = {"Authorization": f"Bearer {token}", "client-request-id": crid}
        with self._lock:
            self.request_count += 1
        started = time.monotonic()
        shown = target.raw_path.decode("ascii", errors="replace")
        try:
            response = self._http.request(step.method, target, headers=headers, json=step.body)
        except httpx.TransportError as exc:
            elapsed = (time.monotonic() - started) * 1000
            log.info("%s %s failed after %dms: %s", step.method, shown, elapsed, type(exc).__name__)
            return Answer(None, exc), token
        log.info(
            "%s %s %d %dms request-id=%s",
            step.method,
            shown,
            response.status_code,
            (time.monotonic() - started) * 1000,
            response.headers.get("request-id", "-"),
        )
        return Answer(response), token

    def _refresh(self, used_token: str) -> None:
        """Invalidate the refused token once, however many threads saw it refused."""
        with self._lock:
            fingerprint = _fingerprint(used_token)
            if self._invalidated == fingerprint:
                return
            self._invalidated = fingerprint
        log.info("Graph refused the token (401); getting a new one")
        self.credential.invalidate()

    def _wait(self, delay: float, why: str) -> bool:
        """Sleep `delay` if the retry budget allows it; False means give up."""
        if not self.budget.spend(delay):
            log.warning("retry budget exhausted (%.1fs left); not retrying %s", self.budget.left, why)
            return False
        with self._lock:
            self.retry_count += 1
        log.info("%s; retrying in %.2fs", why, delay)
        self.retry.sleep(delay)
        return True

    def unreachable_error(self, problem: Unreachable) -> NetworkError:
        log.info("Graph at %s: %s", self.host, problem.detail)
        return NetworkError(problem.sentence("Graph", self.host, "XTAP_GRAPH_URL"))


class _Single:
    """A single request: settled by its own answer; retried on 429/503/504 and on a dropped connection
    when sending it again cannot do it twice (an idempotent method, or it never left)."""

    def __init__(self, transport: Transport, method: str, url: str, body: Any) -> None:
        self.transport = transport
        self.step: Round | None = Round(method, url, body)
        self.method = method
        self.url = url
        self.last: Answer | None = None
        self.attempts = 0
        self.client_request_id = str(uuid.uuid4())

    def next_round(self) -> Round | None:
        return self.step

    def absorb(self, answer: Answer) -> Again | None:
        self.last = answer
        self.attempts += 1
        why = f"{self.method} {self.transport.label(self.url)}"
        if answer.response is None:
            problem = unreachable(answer.failure) if answer.failure is not None else None
            if (problem is None or not problem.final) and (self.method in IDEMPOTENT or answer.unsent):
                return Again(f"{why}: {answer.dropped}")
        elif answer.status in RETRY_STATUSES:
            after = parse_retry_after(answer.response.headers.get("Retry-After"))
            return Again(f"{why}: {answer.status}", after)
        self.step = None
        return None

    def give_up(self, answer: Answer) -> None:
        self.step = None

    def result(self) -> httpx.Response:
        answer = self.last
        assert answer is not None
        if answer.response is not None:
            return answer.response
        assert answer.failure is not None
        problem = unreachable(answer.failure)
        if problem.final:
            raise self.transport.unreachable_error(problem)
        raise GraphError(
            method=self.method,
            path=self.transport.label(self.url),
            status=0,
            code=None,
            message=f"{answer.dropped} after {self.attempts} attempt(s)",
            client_request_id=self.client_request_id,
        )
