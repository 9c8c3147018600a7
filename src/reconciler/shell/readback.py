"""An apply's read-back of the whole tenant, made while its writes still land.

When the applier checks a large change by reading the tenant again (shell/applier.py), it need not wait
for the last write before asking for the first page. Page n of the tenant holds what page n held in the
read the plan was made from, give or take the partners this apply creates or deletes. So:

- the writes go in that order: first the default, the root policy and the partners created or deleted
  (they move partners between pages, or they are on none yet), then partner by partner as the pages
  listed them;
- page n is asked for once every write that can show on it has its answer: those of the first ones, and
  those of the partners on pages 0..n of the plan's read and of the next D after them, D the partners
  deleted (each deletion pulls one partner forward a page). The default and the root policy are read with
  page 0. The last page of the plan's read, and any page after it, waits for every write;
- a write that failed, or must be re-planned, counts as answered only when the applier says all are
  (`finish`): a page that may show it is asked for after the re-plan's writes;
- a partner seen on a page asked for before its writes had their answers (the tenant changed some other
  way meanwhile and moved it) is not judged on that page: `too_early` names it, and it is read again.

The requests are those of a read-back after the writes; only their timing changes (docs/plan-apply.md).
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import accumulate
from typing import Any, Protocol

from reconciler.core.plan import Change
from reconciler.core.state import LivePartner, LiveState
from reconciler.shell.graph.client import Gate, PageSink


class Reader(Protocol):
    def read_live_state(
        self, *, policy: bool = False, on_page: PageSink | None = None, before: Gate | None = None
    ) -> LiveState: ...


class Abandoned(Exception):
    """The writes ended in an error: the read-back stops before its next request."""


def target(change: Change) -> str:
    """What a change writes, as the read-back sees it: a partner's tenant (its sync policy with it), the
    default, the root policy."""
    return change.tenant_id or change.resource


def deletes_partner(change: Change) -> bool:
    return change.resource == "partner" and change.action == "delete"


class Landing:
    """Which writes have their answers, and which pages may be asked for therefore."""

    def __init__(self, changes: Sequence[Change], pages: Sequence[Sequence[str]]) -> None:
        written = [c for c in changes if c.requests]
        where = {tid: i for i, tid in enumerate(t for page in pages for t in page)}
        # A partner created is on no page of that read; one deleted pulls the partners after it forward.
        deleted = {target(c) for c in written if deletes_partner(c)}
        self._open: dict[str, int] = {}  # key → requests without an answer
        self._key_of: dict[str, str] = {}  # request id → key
        for change in written:
            self._open[target(change)] = self._open.get(target(change), 0) + len(change.requests)
            self._key_of.update((r.id, target(change)) for r in change.requests)
        self._position = {k: where[k] for k in self._open if k in where and k not in deleted}
        self._first = set(self._open) - set(self._position)
        self._first_waiting = len(self._first)
        self._queue = sorted(self._position.values())  # positions of the keys not landed (a heap)
        self._at = {p: k for k, p in self._position.items()}
        # Page n may be asked for once no key before this position is waiting (the last page: none at all).
        self._limits = [len(deleted) + end for end in accumulate(len(page) for page in pages[:-1])]
        self._held: set[str] = set()  # a request of these failed: they land at `finish`
        self._landed: dict[str, int] = {}  # key → how many had landed when it did (itself included)
        self._sent: dict[int, int] = {}  # page → how many had landed when it was asked for
        self._abandoned = False
        self._ready = threading.Condition()

    def order(self, changes: Iterable[Change]) -> list[Change]:
        """`changes` in the order their writes go: the first ones, then by page (stable otherwise)."""
        return sorted(changes, key=lambda c: self._position.get(target(c), -1))

    def settled(self, results: Mapping[str, Any]) -> None:
        """Answers for these requests (a batch's results, by request id) have come."""
        with self._ready:
            for rid, result in results.items():
                name = self._key_of.get(rid)
                if name is None:
                    continue
                self._open[name] -= 1
                if not result.ok:
                    self._held.add(name)
                if self._open[name] == 0 and name not in self._held:
                    self._land(name)
            self._ready.notify_all()

    def finish(self) -> None:
        """Every write is over, re-plans included: whatever has not landed lands now."""
        with self._ready:
            for name in self._open:
                if name not in self._landed:
                    self._land(name)
            self._ready.notify_all()

    def abandon(self) -> None:
        """The writes failed: every wait ends in `Abandoned`."""
        with self._ready:
            self._abandoned = True
            self._ready.notify_all()

    def before(self, page: int) -> None:
        """Wait until page `page` may be asked for (a Gate for GraphClient.read_live_state)."""
        with self._ready:
            self._ready.wait_for(lambda: self._abandoned or self.ready(page))
            if self._abandoned:
                raise Abandoned()
            self._sent.setdefault(page, len(self._landed))

    def too_early(self, pages: Sequence[Sequence[LivePartner]]) -> set[str]:
        """The keys whose writes had not all landed when the page showing them was asked for (a partner on
        no page: the first page; the default and the root policy are read with it)."""
        seen = {p.tenant_id: n for n, page in enumerate(pages) for p in page}
        with self._ready:
            return {name for name, at in self._landed.items() if at > self._sent[seen.get(name, 0)]}

    def _land(self, name: str) -> None:
        self._landed[name] = len(self._landed) + 1
        if name in self._first:
            self._first_waiting -= 1

    def ready(self, page: int) -> bool:
        """Whether page `page` may be asked for now."""
        with self._ready:
            if page >= len(self._limits):
                return len(self._landed) == len(self._open)
            while self._queue and self._at[self._queue[0]] in self._landed:
                heapq.heappop(self._queue)
            return self._first_waiting == 0 and (not self._queue or self._queue[0] >= self._limits[page])


class EarlyRead:
    """The read-back, from the start of the writes: a thread reading the tenant through `landing`."""

    def __init__(self, client: Reader, landing: Landing, *, policy: bool) -> None:
        self.landing = landing
        self._pages: list[tuple[Mapping[str, Any], list[LivePartner]]] = []
        self._thread = ThreadPoolExecutor()  # one read: one thread
        self._read = self._thread.submit(
            client.read_live_state,
            policy=policy,
            on_page=lambda default, page: self._pages.append((default, page)),
            before=landing.before,
        )

    def result(self, on_page: PageSink) -> tuple[LiveState, set[str]]:
        """The tenant as read (each page to `on_page`, in order) and the keys read too early; once every
        write is over. A read that failed raises here."""
        self.landing.finish()
        live = self._read.result()
        for default, page in self._pages:
            on_page(default, page)
        return live, self.landing.too_early([page for _, page in self._pages])

    def stop(self) -> None:
        """No read-back is wanted any more (the writes failed, or it is done): end the thread."""
        self.landing.abandon()
        self._thread.shutdown()
