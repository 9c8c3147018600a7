"""GraphClient: one httpx.Client per run, retries, paging and `$batch` for the cross-tenant access API.

Facts it is built on: graph-api.md §7–8 (errors, paging, batching, throttling), auth-ci.md §2 (httpx).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconciler.core.errors import XtapError
from reconciler.core.state import LivePartner, LiveState, Request
from reconciler.shell.graph.auth import (
    TokenCredential,
    _ssl_verify,
    credential_from_env,
    graph_root_from_env,
    is_guid,
    verify_from_env,
)
from reconciler.shell.graph.batch import Batch, BatchResult, plan_batches, wire_batch
from reconciler.shell.graph.clouds import get_cloud
from reconciler.shell.graph.errors import GraphError
from reconciler.shell.graph.retry import RETRY_STATUSES, RetryBudget, RetryPolicy, parse_retry_after

log = logging.getLogger("reconciler.graph")

API_VERSION = "v1.0"
PARTNERS = "/policies/crossTenantAccessPolicy/partners"
DEFAULT = "/policies/crossTenantAccessPolicy/default"
SYNC = "identitySynchronization"
IDEMPOTENT = frozenset({"GET", "PUT", "PATCH", "DELETE"})
_DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})+$"
)
_PARTNER_SEGMENT = re.compile(r"/partners/([^/?#]+)")
_SYNC_URL = re.compile(rf"^{PARTNERS}/([^/?#]+)/{SYNC}$")


def check_tenant_id(tenant_id: str) -> str:
    """A strict GUID, lowercased — before it goes anywhere near a URL (httpx resolves `../`)."""
    if not isinstance(tenant_id, str) or not is_guid(tenant_id):
        raise XtapError(f"tenant id {tenant_id!r} is not a GUID")
    return tenant_id.lower()


def check_relative_url(url: str) -> str:
    if not url.startswith("/") or "://" in url or "\\" in url or "#" in url:
        raise XtapError(f"request url {url!r} must be a path relative to the Graph version root")
    if ".." in url.split("?", 1)[0].split("/"):
        raise XtapError(f"request url {url!r} must not contain '..'")
    for segment in _PARTNER_SEGMENT.findall(url):
        check_tenant_id(segment)
    return url


def _headers(raw: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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


class GraphClient:
    def __init__(
        self,
        graph_root: str,
        credential: TokenCredential,
        *,
        verify: bool | str = True,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        max_in_flight: int = 4,
        transport: httpx.BaseTransport | None = None,  # tests: httpx.MockTransport
    ) -> None:
        self.graph_root = graph_root.rstrip("/")
        self.base = f"{self.graph_root}/{API_VERSION}"
        self._origin = urlsplit(self.graph_root)
        self.credential = credential
        self.retry = retry or RetryPolicy()
        self.max_in_flight = max(1, max_in_flight)
        self.limiter = InFlightLimiter(self.max_in_flight)
        self._budget = RetryBudget(self.retry.budget_seconds)
        self._http = httpx.Client(
            verify=_ssl_verify(verify),
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            headers={"Accept": "application/json"},
            follow_redirects=False,  # a redirect would carry the bearer token elsewhere
            transport=transport,
        )
        self._lock = threading.Lock()
        self._invalidated: str | None = None
        self._batch_seq = 0
        self.request_count = 0
        self.retry_count = 0

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- one HTTP exchange -------------------------------------------------------------------------
    def _send(
        self, method: str, url: str, client_request_id: str, body: Any = None
    ) -> tuple[httpx.Response, str]:
        token = self.credential.get_token()
        headers = {"Authorization": f"Bearer {token}", "client-request-id": client_request_id}
        with self._lock:
            self.request_count += 1
        started = time.monotonic()
        target = httpx.URL(url)
        shown = target.raw_path.decode("ascii", errors="replace")
        try:
            response = self._http.request(method, target, headers=headers, json=body)
        except httpx.TransportError as exc:
            log.info(
                "%s %s failed after %dms: %s",
                method,
                shown,
                (time.monotonic() - started) * 1000,
                type(exc).__name__,
            )
            raise
        log.info(
            "%s %s %d %dms request-id=%s",
            method,
            shown,
            response.status_code,
            (time.monotonic() - started) * 1000,
            response.headers.get("request-id", "-"),
        )
        return response, token

    def _after_401(self, used_token: str) -> None:
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
        if not self._budget.spend(delay):
            log.warning("retry budget exhausted (%.1fs left); not retrying %s", self._budget.left, why)
            return False
        with self._lock:
            self.retry_count += 1
        log.info("%s; retrying in %.2fs", why, delay)
        self.retry.sleep(delay)
        return True

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith("/"):
            return self.base + path_or_url
        parts = urlsplit(path_or_url)
        # @odata.nextLink is followed verbatim, but never to another host: it would get our token.
        if (parts.scheme, parts.netloc) != (self._origin.scheme, self._origin.netloc):
            raise XtapError(
                f"Graph sent a link to another host ({parts.scheme}://{parts.netloc}); not following"
            )
        return path_or_url

    def _label(self, url: str) -> str:
        return url[len(self.base) :] if url.startswith(self.base) else urlsplit(url).path

    def request(self, method: str, path_or_url: str, body: Any = None) -> httpx.Response:
        """One request with the retry rules: 429/503/504 and dropped connections (idempotent methods only),
        and a single token refresh on 401. Returns the last response; raises GraphError if none came."""
        method = method.upper()
        url = self._url(path_or_url)
        crid = str(uuid.uuid4())
        failures = 0
        refreshed = False
        while True:
            try:
                response, token = self._send(method, url, crid, body)
            except httpx.TransportError as exc:
                failures += 1
                why = f"{method} {self._label(url)}: {type(exc).__name__}"
                retryable = method in IDEMPOTENT and failures < self.retry.max_attempts
                if retryable and self._wait(self.retry.backoff(failures), why):
                    continue
                raise GraphError(
                    method=method,
                    path=self._label(url),
                    status=0,
                    code=None,
                    message=f"{type(exc).__name__} after {failures} attempt(s)",
                    client_request_id=crid,
                ) from None
            if response.status_code == 401 and not refreshed:
                refreshed = True
                self._after_401(token)
                continue
            if response.status_code in RETRY_STATUSES:
                failures += 1
                if failures < self.retry.max_attempts:
                    after = parse_retry_after(response.headers.get("Retry-After"))
                    delay = after if after is not None else self.retry.backoff(failures)
                    if self._wait(delay, f"{method} {self._label(url)}: {response.status_code}"):
                        continue
            return response

    def _json(self, method: str, path_or_url: str, *, missing_ok: bool = False) -> Any:
        response = self.request(method, path_or_url)
        if missing_ok and response.status_code == 404:
            return None
        body = _body(response)
        if not response.is_success:
            raise GraphError.from_response(
                method,
                self._label(str(response.request.url)),
                response.status_code,
                body,
                response.headers,
                response.request.headers.get("client-request-id"),
            )
        return body

    # -- reads -------------------------------------------------------------------------------------
    def _paged(self, path: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        url: str | None = path
        while url:
            page = self._json("GET", url)
            items.extend(v for v in page.get("value", []) if isinstance(v, dict))
            link = page.get("@odata.nextLink")
            url = link if isinstance(link, str) and link else None
        return items

    def list_partners(self) -> list[dict[str, Any]]:
        """Every partner with its identity-sync policy: one request per page (`$expand`, graph-api.md §4)."""
        return self._paged(f"{PARTNERS}?$expand={SYNC}")

    def get_partner(self, tenant_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._json(
            "GET", f"{PARTNERS}/{check_tenant_id(tenant_id)}", missing_ok=True
        )
        return found

    def get_sync(self, tenant_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._json(
            "GET", f"{PARTNERS}/{check_tenant_id(tenant_id)}/{SYNC}", missing_ok=True
        )
        return found

    def get_default(self) -> dict[str, Any]:
        found: dict[str, Any] = self._json("GET", DEFAULT)
        return found

    def read_live_state(self) -> LiveState:
        partners: dict[str, LivePartner] = {}
        for item in self.list_partners():
            tid = str(item.get("tenantId", "")).lower()
            sync = item.get(SYNC)
            # The expanded child and its annotations (identitySynchronization@odata.context) are not
            # the partner's own properties.
            raw = {k: v for k, v in item.items() if k != SYNC and not k.startswith(f"{SYNC}@")}
            partners[tid] = LivePartner(tenant_id=tid, raw=raw, sync=sync if isinstance(sync, dict) else None)
        return LiveState(partners=partners, default=self.get_default())

    def find_tenant(self, tenant_id: str | None = None, domain: str | None = None) -> dict[str, Any] | None:
        if (tenant_id is None) == (domain is None):
            raise XtapError("find_tenant needs exactly one of tenant_id and domain")
        if tenant_id is not None:
            tid = check_tenant_id(tenant_id)
            path = f"/tenantRelationships/findTenantInformationByTenantId(tenantId='{tid}')"
        else:
            assert domain is not None
            if not _DOMAIN_RE.fullmatch(domain):
                raise XtapError(f"{domain!r} is not a domain name")
            path = f"/tenantRelationships/findTenantInformationByDomainName(domainName='{domain}')"
        found: dict[str, Any] | None = self._json("GET", path, missing_ok=True)
        return found

    # -- writes through $batch ---------------------------------------------------------------------
    def execute(self, requests: Sequence[Request]) -> dict[str, BatchResult]:
        for r in requests:
            check_relative_url(r.url)
        batches = plan_batches(requests)
        results: dict[str, BatchResult] = {}
        if not batches:
            return results
        with ThreadPoolExecutor(max_workers=min(self.max_in_flight, len(batches))) as pool:
            for done in [pool.submit(self._run_batch, b) for b in batches]:
                results.update(done.result())
        return {r.id: results[r.id] for r in requests}

    def _run_batch(self, batch: Batch) -> dict[str, BatchResult]:
        with self._lock:
            self._batch_seq += 1
            number = self._batch_seq
        return _BatchRun(self, batch, number).run()


def _body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


class _BatchRun:
    """One planned batch until every request in it has a final answer."""

    def __init__(self, client: GraphClient, batch: Batch, number: int) -> None:
        self.client = client
        self.batch = batch
        self.number = number
        self.requests = {r.id: r for r in batch.requests}
        self.pending: list[Request] = list(batch.requests)
        self.results: dict[str, BatchResult] = {}
        self.attempts: dict[str, int] = dict.fromkeys(self.requests, 0)
        self.ambiguous: set[str] = set()  # sent, but no answer came back: it may have taken effect
        self.last: dict[str, tuple[int, Any, dict[str, str]]] = {}

    def run(self) -> dict[str, BatchResult]:
        client = self.client
        failures = 0
        refreshed = False
        while self.pending:
            self._fail_dependents()
            self._recover_creates()
            if not self.pending:
                break
            body = wire_batch(self.pending, self.batch.serial)
            for r in self.pending:
                self.attempts[r.id] += 1
            client.limiter.acquire()
            response: httpx.Response | None = None
            dropped = ""
            try:
                response, token = client._send("POST", f"{client.base}/$batch", str(uuid.uuid4()), body)
            except httpx.TransportError as exc:
                dropped = type(exc).__name__
            status = response.status_code if response is not None else 0
            waits: list[float | None] = []
            throttled = status in (429, 503)
            if status == 200:
                assert response is not None
                waits, throttled = self._absorb(_body(response))
            # Release before any sleep: a waiting batch must not hold a slot others could use.
            client.limiter.release(throttled)

            if response is None or status == 504:
                # No answer (or a gateway timeout): any of them may have taken effect.
                self.ambiguous.update(r.id for r in self.pending)
            if response is None:
                failures += 1
                if self._give_up_or_wait(failures, None, f"$batch {self.number}: {dropped}"):
                    self._finish_all(0, None, {}, f"{dropped}: no answer from Graph")
                continue
            if status == 401 and not refreshed:
                refreshed = True
                client._after_401(token)
                for r in self.pending:
                    self.attempts[r.id] -= 1
                continue
            if status in RETRY_STATUSES:
                failures += 1
                answer = (status, _body(response), dict(response.headers))
                for r in self.pending:  # if this was their last try, this is their answer
                    self.last[r.id] = answer
                after = parse_retry_after(response.headers.get("Retry-After"))
                if self._give_up_or_wait(failures, after, f"$batch {self.number}: {status}"):
                    self._finish_all(status, _body(response), dict(response.headers), None)
                continue
            if status != 200:
                self._finish_all(status, _body(response), dict(response.headers), None)
                break
            if self.pending:
                failures += 1
                # The longest Retry-After among the sub-responses; backoff if none of them sent one.
                delay_hint = max((w for w in waits if w is not None), default=None)
                why = f"$batch {self.number}: {len(self.pending)} sub-request(s) to resend"
                if self._give_up_or_wait(failures, delay_hint, why):
                    self._finish_pending()
        return self.results

    # -- steps -------------------------------------------------------------------------------------
    def _give_up_or_wait(self, failures: int, retry_after: float | None, why: str) -> bool:
        """True when the pending requests get no more tries (attempts or budget exhausted)."""
        if any(self.attempts[r.id] >= self.client.retry.max_attempts for r in self.pending):
            exhausted = [r for r in self.pending if self.attempts[r.id] >= self.client.retry.max_attempts]
            for r in exhausted:
                self._finish_from_last(r)
            self.pending = [r for r in self.pending if r.id not in self.results]
            if not self.pending:
                return False
        delay = retry_after if retry_after is not None else self.client.retry.backoff(failures)
        return not self.client._wait(delay, why)

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
                still.append(r)
                continue
            status = int(sub.get("status", 0))
            headers = _headers(sub.get("headers"))
            sub_body = sub.get("body")
            self.last[r.id] = (status, sub_body, headers)
            log.debug(
                "  $batch %d %s: %s %s %d request-id=%s",
                self.number,
                r.id,
                r.method.upper(),
                r.url,
                status,
                _header(headers, "request-id") or "-",
            )
            if status in RETRY_STATUSES:
                throttled = throttled or status == 429 or status == 503
                if status == 504:  # a gateway timeout: it may have run behind the gateway
                    self.ambiguous.add(r.id)
                waits.append(parse_retry_after(_header(headers, "retry-after")))
                still.append(r)
            elif status == 424 and r.id in retrying:
                # Failed only because something before it in the chain is being retried (or because of
                # the serial order we added): not its own failure, so it goes again with the chain.
                still.append(r)
            else:
                self._finish(r, status, sub_body, headers)
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

    def _fail_dependents(self) -> None:
        for r in list(self.pending):
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
        (graph-api.md §7), so neither is simply resent."""
        for r in list(self.pending):
            if r.id not in self.ambiguous or r.method.upper() not in ("POST", "PUT"):
                continue
            if r.method.upper() == "PUT":
                match = _SYNC_URL.match(r.url)
                existing = self.client.get_sync(match.group(1)) if match else None
                if existing is not None:
                    log.info("%s: sync policy exists after a lost answer; not creating it again", r.id)
                    headers = {"x-xtap-recovered": "reread"}
                    self.results[r.id] = BatchResult(r.id, 204, existing, headers, None, self.attempts[r.id])
                continue
            tenant = (r.body or {}).get("tenantId")
            if r.url.rstrip("/") == PARTNERS and isinstance(tenant, str):
                found = self.client.get_partner(tenant)
                if found is not None:
                    log.info("%s: partner %s exists after a lost answer; not creating it again", r.id, tenant)
                    headers = {"x-xtap-recovered": "reread"}
                    self.results[r.id] = BatchResult(r.id, 201, found, headers, None, self.attempts[r.id])
                    continue
            else:  # a POST we cannot check: resending it could do it twice
                error = GraphError(
                    method="POST",
                    path=r.url,
                    status=0,
                    code=None,
                    message="no answer; outcome unknown, not resent",
                )
                self.results[r.id] = BatchResult(r.id, 0, None, {}, error, self.attempts[r.id])
        self.pending = [r for r in self.pending if r.id not in self.results]

    def _finish(self, r: Request, status: int, body: Any, headers: Mapping[str, str]) -> None:
        if r.method.upper() == "DELETE" and status == 404 and r.id in self.ambiguous:
            # Our earlier, unanswered DELETE did it.
            headers = {**headers, "x-xtap-recovered": "already-deleted"}
            self.results[r.id] = BatchResult(r.id, 204, None, headers, None, self.attempts[r.id])
            return
        error = None
        if not 200 <= status < 300:
            error = GraphError.from_response(r.method, r.url, status, body, headers)
        self.results[r.id] = BatchResult(r.id, status, body, dict(headers), error, self.attempts[r.id])

    def _finish_from_last(self, r: Request) -> None:
        if r.id in self.last:
            status, body, headers = self.last[r.id]
            self._finish(r, status, body, headers)
        else:
            self._finish_unanswered(r, "no answer from Graph")

    def _finish_unanswered(self, r: Request, message: str) -> None:
        error = GraphError(method=r.method, path=r.url, status=0, code=None, message=message)
        self.results[r.id] = BatchResult(r.id, 0, None, {}, error, self.attempts[r.id])

    def _finish_pending(self) -> None:
        for r in self.pending:
            self._finish_from_last(r)
        self.pending = []

    def _finish_all(self, status: int, body: Any, headers: Mapping[str, str], message: str | None) -> None:
        """The whole batch failed: every pending request gets that answer (or its own last one)."""
        for r in self.pending:
            if message is not None:
                self._finish_unanswered(r, message)
            elif status in RETRY_STATUSES and r.id in self.last:
                self._finish_from_last(r)
            else:
                self._finish(r, status, body, headers)
        self.pending = []


def connect(
    env: Mapping[str, str],
    *,
    tenant_id: str | None = None,
    cloud: str = "global",
    managed_identity: bool = False,
    max_in_flight: int = 4,
    retry: RetryPolicy | None = None,
) -> GraphClient:
    """A GraphClient configured from the environment (DESIGN §5). No network I/O until the first call."""
    the_cloud = get_cloud(cloud)
    tenant = tenant_id or (env.get("AZURE_TENANT_ID") or "").strip() or None
    if tenant is not None:
        tenant = check_tenant_id(tenant)
    credential = credential_from_env(
        env, tenant_id=tenant, cloud=the_cloud, managed_identity=managed_identity
    )
    return GraphClient(
        graph_root_from_env(env, the_cloud),
        credential,
        verify=verify_from_env(env),
        retry=retry,
        max_in_flight=max_in_flight,
    )
