"""GraphClient: what xtap reads and writes through Graph, over the one transport (shell/graph/transport.py).

Reads: the partner pages with their sync policies and the default, in parallel; one partner; a set of
resources again (GETs in `$batch`, for verification); tenant lookups (in `$batch`). Writes: a plan's
requests in `$batch` of 20, several in flight, each batch retried by the transport's loop.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from reconciler.core import urls
from reconciler.core.errors import XtapError
from reconciler.core.state import LivePartner, LiveState, Request
from reconciler.shell.graph.auth import TokenCredential, credential_from_env
from reconciler.shell.graph.batch import Batch, BatchResult, BatchRun, plan_batches
from reconciler.shell.graph.clouds import get_cloud
from reconciler.shell.graph.errors import TENANT_LOOKUP_PERMISSION, GraphError
from reconciler.shell.graph.retry import RetryPolicy
from reconciler.shell.graph.settings import graph_root_from_env, verify_from_env
from reconciler.shell.graph.transport import InFlightLimiter, Transport, body_of

log = logging.getLogger("reconciler.graph")

Progress = Callable[[Mapping[str, BatchResult]], None]  # called with the results a finished batch settled
PageSink = Callable[[Mapping[str, Any], list[LivePartner]], None]  # (the default, a page's partners)
Gate = Callable[[int], None]  # called with a page's number (from 0) before it is asked for; may wait or raise


def tenant_of(item: Mapping[str, Any]) -> str:
    """A Graph partner's tenant id, lowercased: how xtap keys partners."""
    return str(item.get("tenantId", "")).lower()


def live_partner(item: Mapping[str, Any], sync: Any) -> LivePartner:
    """The one place a Graph partner becomes a LivePartner: its tenant id lowercased; the expanded sync
    policy and its annotations (`identitySynchronization@odata.context`) are not the partner's own."""
    tid = tenant_of(item)
    raw = {k: v for k, v in item.items() if k != urls.SYNC and not k.startswith(f"{urls.SYNC}@")}
    return LivePartner(tenant_id=tid, raw=raw, sync=sync if isinstance(sync, dict) else None)


@dataclass(frozen=True)
class TenantLookup:
    """Tenant id → tenantInformation (None when unknown), and why names are missing, if a lookup failed."""

    infos: Mapping[str, Mapping[str, Any] | None]
    problem: str | None = None


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
        self.transport = Transport(
            graph_root, credential, verify=verify, timeout=timeout, retry=retry, transport=transport
        )
        self.max_in_flight = max(1, max_in_flight)
        self.limiter = InFlightLimiter(self.max_in_flight)
        # The tenant ids on each page of the last full read, in order: what a re-read costs, and where a
        # partner is to be found again.
        self.page_tenants: tuple[tuple[str, ...], ...] | None = None
        self._lock = threading.Lock()
        self._batch_seq = 0

    @property
    def base(self) -> str:
        return self.transport.base

    @property
    def credential(self) -> TokenCredential:
        return self.transport.credential

    @property
    def partner_pages(self) -> int | None:
        """The pages the last full read took (None before one)."""
        return None if self.page_tenants is None else len(self.page_tenants)

    @property
    def request_count(self) -> int:
        return self.transport.request_count

    @property
    def retry_count(self) -> int:
        return self.transport.retry_count

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- single requests ---------------------------------------------------------------------------
    def request(self, method: str, path_or_url: str, body: Any = None) -> httpx.Response:
        return self.transport.request(method, path_or_url, body)

    def _json(self, path_or_url: str, *, missing_ok: bool = False) -> Any:
        response = self.request("GET", path_or_url)
        if missing_ok and response.status_code == 404:
            return None
        body = body_of(response)
        if not response.is_success:
            raise GraphError.from_response(
                "GET",
                self.transport.label(str(response.request.url)),
                response.status_code,
                body,
                response.headers,
                response.request.headers.get("client-request-id"),
            )
        return body

    def get_or_none(self, path: str) -> Any:
        """GET a path; None when Graph answers 404."""
        return self._json(path, missing_ok=True)

    # -- reads -------------------------------------------------------------------------------------
    def _pages(self, path: str, before: Gate | None = None) -> Iterator[list[dict[str, Any]]]:
        """The items of each page, following `@odata.nextLink` verbatim; `before(n)` first, when given."""
        url: str | None = path
        number = 0
        while url:
            if before is not None:
                before(number)
            number += 1
            page = self._json(url)
            yield [v for v in page.get("value", []) if isinstance(v, dict)]
            link = page.get("@odata.nextLink")
            url = link if isinstance(link, str) and link else None

    def list_partners(self) -> list[dict[str, Any]]:
        """Every partner with its identity-sync policy: one request per page (`$expand`)."""
        pages = list(self._pages(urls.PARTNERS_WITH_SYNC))
        self.page_tenants = tuple(tuple(map(tenant_of, page)) for page in pages)
        return [item for page in pages for item in page]

    def get_partner(self, tenant_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.get_or_none(urls.partner(urls.tenant_id(tenant_id)))
        return found

    def get_sync(self, tenant_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.get_or_none(urls.sync(urls.tenant_id(tenant_id)))
        return found

    def get_default(self) -> dict[str, Any]:
        found: dict[str, Any] = self._json(urls.DEFAULT)
        return found

    def get_policy(self) -> dict[str, Any]:
        """The root policy (`allowedCloudEndpoints`)."""
        found: dict[str, Any] = self._json(urls.POLICY)
        return found

    def read_partner(self, tenant_id: str) -> LivePartner | None:
        """One partner and its sync policy as they are now; None when the tenant has no such partner."""
        raw = self.get_partner(tenant_id)
        return live_partner(raw, self.get_sync(tenant_id)) if raw is not None else None

    def read_live_state(
        self, *, policy: bool = False, on_page: PageSink | None = None, before: Gate | None = None
    ) -> LiveState:
        """The partner pages and the default (and the root policy when asked), read side by side: the
        pages follow each other by their links, the others need not wait for them. `on_page(default,
        partners)` hears of each page once the default is read, while the next page is on its way (a plan
        is made as the pages come in); when it raises, no further page is asked for. `before(n)` is called
        in the reading thread before page n is asked for, and `before(0)` before the default and the root
        policy too: it may hold a request back, or raise to stop the read (an apply reading back while its
        writes land, shell/readback.py)."""
        self.credential.get_token()  # sign in once, before the reads need it
        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="xtap-read") as pool:
            default = pool.submit(_after, before, self.get_default)
            root = pool.submit(_after, before, self.get_policy) if policy else None
            pages: queue.SimpleQueue[list[dict[str, Any]] | None] = queue.SimpleQueue()
            stop = threading.Event()
            reader = pool.submit(self._read_pages, pages, stop, before)
            partners: dict[str, LivePartner] = {}
            order: list[tuple[str, ...]] = []
            try:
                while (items := pages.get()) is not None:
                    page = [live_partner(i, i.get(urls.SYNC)) for i in items]
                    partners.update((p.tenant_id, p) for p in page)
                    order.append(tuple(p.tenant_id for p in page))
                    if on_page is not None:
                        on_page(default.result(), page)
            finally:
                stop.set()
            reader.result()  # a page that failed raises here
            self.page_tenants = tuple(order)
            return LiveState(partners, default.result(), root.result() if root is not None else None)

    def _read_pages(
        self,
        pages: queue.SimpleQueue[list[dict[str, Any]] | None],
        stop: threading.Event,
        before: Gate | None,
    ) -> None:
        """Every partner page's items into `pages`, then None; stops asking once `stop` is set. Nothing else
        is done here: the next page is asked for as soon as this one is parsed (and `before` lets it go)."""
        try:
            for items in self._pages(urls.PARTNERS_WITH_SYNC, before):
                pages.put(items)
                if stop.is_set():
                    return
        finally:
            pages.put(None)

    def refresh(
        self,
        live: LiveState,
        partners: Collection[str],
        syncs: Collection[str],
        default: bool,
        policy: bool = False,
    ) -> LiveState:
        """`live` with the named resources read again, as GETs in `$batch` (⌈n/20⌉ requests)."""
        want_partner = set(partners) | {t for t in syncs if t not in live.partners}
        gets = [Request(f"p:{t}", "GET", urls.partner(urls.tenant_id(t))) for t in sorted(want_partner)]
        gets += [Request(f"s:{t}", "GET", urls.sync(urls.tenant_id(t))) for t in sorted(syncs)]
        if default:
            gets.append(Request("d", "GET", urls.DEFAULT))
        if policy:
            gets.append(Request("r", "GET", urls.POLICY))
        results = self.execute(gets)
        found = {r.id: _found(results[r.id]) for r in gets}
        fresh = dict(live.partners)
        for tid in sorted(want_partner | set(syncs)):
            raw = found.get(f"p:{tid}", fresh[tid].raw if tid in fresh else None)
            old_sync = fresh[tid].sync if tid in fresh else None
            sync = found.get(f"s:{tid}", old_sync)
            fresh.pop(tid, None)
            if raw is not None:
                fresh[tid] = live_partner(raw, sync)
        return LiveState(
            fresh, found["d"] if default else live.default, found["r"] if policy else live.policy
        )

    def find_tenant(self, tenant_id: str | None = None, domain: str | None = None) -> dict[str, Any] | None:
        if (tenant_id is None) == (domain is None):
            raise XtapError("find_tenant needs exactly one of tenant_id and domain")
        path = urls.tenant_lookup(tenant_id) if tenant_id is not None else urls.domain_lookup(str(domain))
        found: dict[str, Any] | None = self.get_or_none(path)
        return found

    def lookup_tenants(self, tenant_ids: Sequence[str]) -> TenantLookup:
        """Display names for many tenants: lookups in `$batch`. A refused lookup (the app lacks the
        optional permission) leaves those tenants nameless and says why once; it never fails the read."""
        requests = [Request(str(i), "GET", urls.tenant_lookup(t)) for i, t in enumerate(tenant_ids, 1)]
        results = self.execute(requests)
        infos: dict[str, Mapping[str, Any] | None] = {}
        problem: str | None = None
        for request, tid in zip(requests, tenant_ids, strict=True):
            result = results[request.id]
            ok = result.ok and isinstance(result.body, dict)
            infos[tid] = result.body if ok else None
            if not ok and result.status != 404 and problem is None:
                problem = (
                    f"the app lacks {TENANT_LOOKUP_PERMISSION}"
                    if result.status == 403
                    else f"Graph answered {result.status}"
                )
        return TenantLookup(infos, problem)

    # -- requests through $batch -------------------------------------------------------------------
    def execute(
        self, requests: Sequence[Request], progress: Progress | None = None
    ) -> dict[str, BatchResult]:
        """Every request's final answer; all batches are handed to the pool at once, so the pipe stays
        full (⌈n/20/in-flight⌉ waves) and `progress` hears of each batch as it settles."""
        for r in requests:
            urls.check_relative(r.url)
        batches = plan_batches(requests)
        results: dict[str, BatchResult] = {}
        if not batches:
            return results
        with ThreadPoolExecutor(max_workers=min(self.max_in_flight, len(batches))) as pool:
            for done in as_completed([pool.submit(self._run_batch, b) for b in batches]):
                settled = done.result()
                results.update(settled)
                if progress is not None:
                    progress(settled)
        return {r.id: results[r.id] for r in requests}

    def _run_batch(self, batch: Batch) -> dict[str, BatchResult]:
        with self._lock:
            self._batch_seq += 1
            number = self._batch_seq
        run = BatchRun(batch, number, self.transport, self.get_or_none)
        self.transport.run(run, limiter=self.limiter)
        return run.results


def _after(before: Gate | None, read: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`read()`, once `before(0)` lets it go: the default and the root policy are read with the first page."""
    if before is not None:
        before(0)
    return read()


def _found(result: BatchResult) -> Any:
    """A re-read resource: its body, None when Graph says it is not there; any other failure is raised,
    as a failed full read would be."""
    if result.status == 404:
        return None
    if result.error is not None:
        raise result.error
    return result.body


def connect(
    env: Mapping[str, str],
    *,
    tenant_id: str | None = None,
    cloud: str = "global",
    managed_identity: bool = False,
    max_in_flight: int = 4,
    retry: RetryPolicy | None = None,
) -> GraphClient:
    """A GraphClient configured from the environment (docs/authentication.md). No network I/O until the
    first call."""
    the_cloud = get_cloud(cloud)
    tenant = tenant_id or (env.get("AZURE_TENANT_ID") or "").strip() or None
    if tenant is not None:
        tenant = urls.tenant_id(tenant)
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
